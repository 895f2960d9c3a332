package monitor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
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

// Listener is a seccomp listener whose notifications are waited for without waking Go's
// runtime: the notifications are received and answered with quiet calls (package
// quiet), and a wait is one of two kinds.
//
//   - Hot, for hotWindow after a notification: the thread blocks in ppoll on the listener
//     without telling Go's scheduler (its P stays with it). The notifying thread then
//     wakes it on its own CPU and the answer wakes that thread back there (SYNC_WAKE_UP):
//     a burst of denials or execs keeps that direct round trip (an audited denial's,
//     6 µs on a 2-CPU VM; 3 µs when the monitor waited only so, since the listener, still
//     the poller's, also wakes the poller's thread). Go's sysmon is not woken by it, and
//     a wait this short never keeps a goroutine from rescheduling long enough for
//     sysmon to preempt it.
//   - Parked, otherwise: the listener is the poller's (a non-blocking os.File) and the
//     goroutine parks until the poller reports it readable or its deadline passes; its P
//     is free and sysmon sleeps. A wake-up through the poller is dearer (9 µs for a
//     denial's round trip) but comes after a quiet spell.
//
// A thread blocked in ppoll for good, as the monitor waited until the eleventh round,
// held its P in a system call: sysmon took the P back after 10 ms and slept, the next
// notification woke it, and it then woke every 20 µs for a millisecond and more, on the
// CPUs the container's programs needed (see package quiet).
type Listener struct {
	fd int
	f  *os.File
	rc syscall.RawConn
	// hotUntil is when the hot waits after the last notification end.
	hotUntil time.Time
}

// hotWindow is how long after a notification the listener's waits are hot: the exec
// watch's first look (250 µs) and the next syscall of a burst fall within it.
const hotWindow = time.Millisecond

// hotWaits counts the process' hot waits: at most hotWaitLimit at once, so that the
// threads they hold leave the program P's to run on (a shim serves many listeners).
var hotWaits atomic.Int32

// hotWaitLimit is how many hot waits the process may have at once: one P less than it
// runs Go code on (none with a single P).
func hotWaitLimit() int32 { return int32(runtime.GOMAXPROCS(0) - 1) }

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
	now := time.Now()
	deadline := time.Time{}
	if timeout >= 0 {
		deadline = now.Add(timeout)
	}
	req, err, done := l.waitHot(now, deadline)
	if !done {
		req, err = l.waitParked(deadline)
	}
	if req != nil {
		l.hotUntil = time.Now().Add(hotWindow)
	}
	return req, err
}

// waitHot waits while the listener is hot, if the process may have one more hot wait;
// done says whether it got a notification, an error, or the end of the caller's timeout.
func (l *Listener) waitHot(now, deadline time.Time) (*SeccompNotif, error, bool) {
	end := l.hotUntil
	if !deadline.IsZero() && deadline.Before(end) {
		end = deadline
	}
	if !now.Before(end) {
		return nil, nil, false
	}
	if hotWaits.Add(1) > hotWaitLimit() {
		hotWaits.Add(-1)
		return nil, nil, false
	}
	revents, err := quiet.PollFor(l.fd, unix.POLLIN, end.Sub(now))
	hotWaits.Add(-1)
	if err == nil && revents != 0 {
		req, err := receivePending(l.fd)
		if req != nil || err != nil {
			return req, err, true
		}
	}
	if err != nil {
		return nil, err, true
	}
	if end.Equal(deadline) && !time.Now().Before(deadline) {
		return nil, nil, true
	}
	return nil, nil, false
}

// waitParked waits in Go's poller until a notification is pending or deadline (zero:
// none) passes.
func (l *Listener) waitParked(deadline time.Time) (*SeccompNotif, error) {
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
