package runtime

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// notifySocket relays sd_notify READY from the container to the host's NOTIFY_SOCKET
// (systemd Type=notify units running a container).
type notifySocket struct {
	socket     *net.UnixConn
	host       string
	socketPath string
}

const notifyDirInContainer = "/run/notify"

func newNotifySocket(stateDir, host string) *notifySocket {
	if host == "" {
		return nil
	}
	return &notifySocket{host: host, socketPath: filepath.Join(stateDir, "notify", "notify.sock")}
}

// mount is the read-only bind of the socket's directory into the container, and the
// environment that names the socket there.
func (s *notifySocket) mount() (specs.Mount, []string) {
	inContainer := path.Join(notifyDirInContainer, path.Base(s.socketPath))
	return specs.Mount{
		Destination: notifyDirInContainer,
		Source:      path.Dir(s.socketPath),
		Type:        "bind",
		Options:     []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	}, []string{"NOTIFY_SOCKET=" + inContainer}
}

func (s *notifySocket) setupSocketDirectory() error {
	return os.Mkdir(path.Dir(s.socketPath), 0o755)
}

func (s *notifySocket) bindSocket() error {
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.socketPath, Net: "unixgram"})
	if err != nil {
		return err
	}
	// The container's root is an unprivileged host uid: it must be able to send.
	if err := os.Chmod(s.socketPath, 0o777); err != nil {
		sock.Close()
		return err
	}
	s.socket = sock
	return nil
}

// run waits for READY= from the container (or for pid1 to vanish) and relays it.
func (s *notifySocket) run(pid1 int) error {
	if s.socket == nil {
		return nil
	}
	client, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: s.host, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer client.Close()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	ready := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := s.socket.Read(buf)
			if err != nil {
				return
			}
			for line := range bytes.SplitSeq(buf[:n], []byte{'\n'}) {
				if bytes.HasPrefix(line, []byte("READY=")) {
					ready <- append([]byte(nil), line...)
					return
				}
			}
		}
	}()
	for {
		select {
		case <-ticker.C:
			if exited(pid1) {
				return nil
			}
		case b := <-ready:
			return notifyHost(client, b, pid1)
		}
	}
}

// exited reports whether pid is gone or a zombie (a foreground container's pid 1 that
// exited without READY=: yoroi, its parent, has not reaped it yet).
func exited(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// "PID (COMM) STATE ...": COMM may hold anything, the state follows its last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

func notifyHost(client *net.UnixConn, ready []byte, pid1 int) error {
	if _, err := client.Write(append(ready, '\n')); err != nil {
		return err
	}
	if _, err := client.Write([]byte("MAINPID=" + strconv.Itoa(pid1) + "\n")); err != nil {
		return err
	}
	return sdNotifyBarrier(client)
}

// sdNotifyBarrier implements the sd_notify_barrier protocol: send BARRIER=1 with a pipe's
// write end and wait for the host to close it.
func sdNotifyBarrier(client *net.UnixConn) error {
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pipeR.Close()
	clientFile, err := client.File()
	if err != nil {
		pipeW.Close()
		return err
	}
	defer clientFile.Close()
	err = unix.Sendmsg(int(clientFile.Fd()), []byte("BARRIER=1"), unix.UnixRights(int(pipeW.Fd())), nil, 0)
	pipeW.Close()
	if err != nil {
		return err
	}
	if err := pipeR.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil
	}
	var b [1]byte
	n, err := pipeR.Read(b[:])
	switch {
	case n != 0 || err == nil:
		return errors.New("unexpected read from the sd_notify barrier pipe")
	case errors.Is(err, os.ErrDeadlineExceeded):
		logrus.Warn("timeout after waiting 30s for the sd_notify barrier; ignored")
		return nil
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}
