package monitor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/internal/quiet"
)

// The seccomp user-notification interface, as profile record's agent and the monitor use
// it: a listener descriptor arrives over a unix socket; notifications are received,
// checked for still being pending, and answered.

// SeccompNotif and seccompNotifResp are the kernel's struct seccomp_notif and
// struct seccomp_notif_resp.
type SeccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// ReceiveListener reads the one descriptor a process sends over conn (libcontainer's
// seccomp agent protocol).
func ReceiveListener(conn *net.UnixConn) (int, error) {
	_, fd, err := receiveFD(conn, make([]byte, 1<<16))
	return fd, err
}

// receiveFD reads one message into buf and the first descriptor it carries (any other
// is closed); it returns the message's length.
func receiveFD(conn *net.UnixConn, buf []byte) (int, int, error) {
	oob := make([]byte, unix.CmsgSpace(4*8))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return 0, -1, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return 0, -1, errors.New("no file descriptor received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return 0, -1, errors.New("no file descriptor received")
	}
	for _, extra := range fds[1:] {
		unix.Close(extra)
	}
	return n, fds[0], nil
}

// errListenerGone: no process is left under the filter.
var errListenerGone = errors.New("no process left under the filter")

// Listener is a seccomp listener whose notifications are waited for in Go's poller: the
// goroutine that waits is parked, holding no thread in a system call, and the
// notifications are received and answered with quiet calls (package quiet). A thread
// blocked in ppoll held its P in a system call: Go's sysmon took the P back after 10 ms
// and slept, and the next notification woke it (see package quiet for what that cost).
type Listener struct {
	fd int
	f  *os.File
	rc syscall.RawConn
}

// NewListener takes listener descriptor fd; Close closes it. The caller must keep it
// until Next returns errListenerGone: once it is closed, every notified syscall fails
// with ENOSYS.
func NewListener(fd int) (*Listener, error) {
	// RECV ignores O_NONBLOCK (Next receives only what poll reports pending); the flag
	// is what has os.NewFile give the descriptor to the poller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "seccomp-listener")
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetReadDeadline(time.Time{}) // fails unless the poller has it
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("seccomp listener: %w", err)
	}
	return &Listener{fd: fd, f: f, rc: rc}, nil
}

// FD is the listener's descriptor, for Answer and notificationValid.
func (l *Listener) FD() int { return l.fd }

// Close closes the listener.
func (l *Listener) Close() error { return l.f.Close() }

// Next waits for the next notification, at most timeout (a negative one: as long as it
// takes; nil, nil when it passes).
func (l *Listener) Next(timeout time.Duration) (*SeccompNotif, error) {
	deadline := time.Time{}
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := l.f.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	var req *SeccompNotif
	var recvErr error
	err := l.rc.Read(func(fd uintptr) bool {
		req, recvErr = receivePending(int(fd))
		return req != nil || recvErr != nil
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return req, recvErr
}

// receivePending receives a notification if one is pending; nil, nil when none is.
func receivePending(fd int) (*SeccompNotif, error) {
	for {
		revents, err := quiet.Poll(fd, unix.POLLIN)
		switch {
		case err != nil:
			return nil, err
		case revents&unix.POLLHUP != 0:
			return nil, errListenerGone
		case revents&unix.POLLIN == 0:
			return nil, nil
		}
		var req SeccompNotif
		if err := quiet.Ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, &req); err != nil {
			if err == unix.ENOENT {
				continue // the notifying thread died (e.g. at execve) before we read it
			}
			return nil, err
		}
		return &req, nil
	}
}

// notificationValid reports whether notification id is still pending: what was read of
// its process since it was received belongs to it, not to a process that reused the pid.
func notificationValid(fd int, id uint64) bool {
	return quiet.Ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == nil
}

// Answer answers notification id: continue the syscall, or fail it with errno. It
// reports whether the answer reached the syscall: not when its process is gone, or the
// syscall was interrupted by a signal (it is then made again, and notified again).
func Answer(fd int, id uint64, cont bool, errno uint32) bool {
	resp := seccompNotifResp{ID: id}
	if cont {
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	} else {
		resp.Error = -int32(errno)
	}
	return quiet.Ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, &resp) == nil
}
