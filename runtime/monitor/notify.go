package monitor

import (
	"errors"
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// NextNotification waits for the next notification on listener fd, at most timeout (a
// negative one: as long as it takes; nil, nil when it passes). The caller must keep the
// listener until errListenerGone: once it is closed, every notified syscall fails with
// ENOSYS.
func NextNotification(fd int, timeout time.Duration) (*SeccompNotif, error) {
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		var ts *unix.Timespec
		if timeout >= 0 {
			t := unix.NsecToTimespec(timeout.Nanoseconds())
			ts = &t
		}
		if _, err := unix.Ppoll(pfd, ts, nil); err != nil && err != unix.EINTR {
			return nil, err
		}
		if pfd[0].Revents&unix.POLLHUP != 0 {
			return nil, errListenerGone
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			if timeout >= 0 {
				return nil, nil
			}
			continue
		}
		var req SeccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			if e == unix.EINTR || e == unix.ENOENT {
				continue // ENOENT: the notifying thread died (e.g. at execve) before we read it.
			}
			return nil, e
		}
		return &req, nil
	}
}

// notificationValid reports whether notification id is still pending: what was read of
// its process since it was received belongs to it, not to a process that reused the pid.
func notificationValid(fd int, id uint64) bool {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
	return e == 0
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
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	return e == 0
}
