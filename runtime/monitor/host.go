package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// A host serves the monitors of other processes' containers in its own process: yoroi's
// containerd shim, which lives as long as its containers, offers one so that a container
// it runs needs no monitor process of its own. The shim listens on a socket and names it
// in HostEnv for the runtime commands it runs; a create that finds it hands the monitor
// over (Hand) instead of starting a process, and starts one after all if the host
// refuses or cannot be reached. Each side takes the other for what it claims only if it
// runs as root.

// HostEnv names, in a runtime command's environment, the socket of the process that
// hosts its containers' monitors.
const HostEnv = "YOROI_MONITOR_HOST"

// maxHandOff bounds a hand-off's configuration: a filter of the kernel's largest size
// (4096 instructions), base64 in JSON, and the plan.
const maxHandOff = 128 << 10

// ListenHost binds the host's socket at path (only root may connect) and returns it.
func ListenHost(path string) (*net.UnixListener, error) {
	var ln *net.UnixListener
	err := WithSocketPath(path, func(addr string) (err error) {
		ln, err = net.ListenUnix("unixpacket", &net.UnixAddr{Name: addr, Net: "unixpacket"})
		if err == nil {
			err = os.Chmod(addr, 0o600)
		}
		return err
	})
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("monitor host %s: %w", path, err)
	}
	return ln, nil
}

// Host serves hand-offs on ln until it is closed: each one a monitor served from then on
// in this process, until no process of its container is left.
func Host(ln *net.UnixListener) {
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			reply := "ok"
			if err := takeHandOff(conn); err != nil {
				reply = err.Error()
			}
			_, _ = conn.Write([]byte(reply))
		}()
	}
}

// takeHandOff reads one hand-off from conn, a configuration with the monitor's bound
// socket, and starts serving it.
func takeHandOff(conn *net.UnixConn) error {
	// Read first, whoever sent it: a message left unread would reset the connection
	// before the sender reads the answer.
	buf := make([]byte, maxHandOff)
	n, fd, err := receiveFD(conn, buf)
	if err != nil {
		return err
	}
	sock := os.NewFile(uintptr(fd), "monitor-socket")
	defer sock.Close()
	if err := peerIsRoot(conn); err != nil {
		return err
	}
	var mc Config
	if err := json.Unmarshal(buf[:n], &mc); err != nil {
		return fmt.Errorf("monitor configuration: %w", err)
	}
	m, err := New(mc)
	if err != nil {
		return err
	}
	fl, err := net.FileListener(sock)
	if err != nil {
		return err
	}
	ln, ok := fl.(*net.UnixListener)
	if !ok {
		fl.Close()
		return errors.New("monitor: the socket handed over is not a unix socket")
	}
	go m.Serve(ln, nil)
	return nil
}

// Hand hands the monitor mc, listening on listener, to the host at path, which serves it
// from then on; an error means it does not (the caller keeps listener either way).
func Hand(path string, mc Config, listener *os.File) error {
	data, err := json.Marshal(mc)
	if err != nil {
		return err
	}
	if len(data) > maxHandOff {
		return fmt.Errorf("monitor configuration of %d bytes, above the %d a host takes", len(data), maxHandOff)
	}
	var conn *net.UnixConn
	err = WithSocketPath(path, func(addr string) (err error) {
		conn, err = net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := peerIsRoot(conn); err != nil {
		return err
	}
	if _, _, err := conn.WriteMsgUnix(data, unix.UnixRights(int(listener.Fd())), nil); err != nil {
		return err
	}
	reply := make([]byte, 512)
	n, err := conn.Read(reply)
	if err != nil {
		return fmt.Errorf("monitor host: %w", err)
	}
	if string(reply[:n]) != "ok" {
		return fmt.Errorf("monitor host refused: %s", reply[:n])
	}
	return nil
}

// peerIsRoot: the process at the other end of conn runs as root.
func peerIsRoot(conn *net.UnixConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return credErr
	}
	if cred.Uid != 0 {
		return fmt.Errorf("monitor host: the peer runs as uid %d, not root", cred.Uid)
	}
	return nil
}

// WithSocketPath calls f with an address for the socket path: the path itself, or, when
// it is longer than a socket address holds (108 bytes; runc's tests and containerd's
// bundles make long ones), the same file through a descriptor of its directory,
// /proc/self/fd/N/NAME.
func WithSocketPath(path string, f func(addr string) error) error {
	if len(path) < 100 {
		return f(path)
	}
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	return f(fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
}
