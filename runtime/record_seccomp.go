//go:build seccomp

package runtime

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"unsafe"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// syscallNames lists every syscall libseccomp knows on the native architecture.
func syscallNames() ([]string, error) {
	arch, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, err
	}
	var out []string
	for nr := 0; nr < 1024; nr++ {
		if name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(arch); err == nil && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// seccompNotif and seccompNotifResp are the kernel's struct seccomp_notif and
// struct seccomp_notif_resp.
type seccompNotif struct {
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

// recorder is a seccomp agent: libcontainer sends it the container's notify fd over
// a unix socket; it lets every notified syscall continue and remembers its name.
type recorder struct {
	ln   *net.UnixListener
	mu   sync.Mutex
	seen map[string]bool
	done chan struct{}
	err  error
}

func newRecorder(path string) (*recorder, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	r := &recorder{ln: ln, seen: map[string]bool{}, done: make(chan struct{})}
	go r.serve()
	return r, nil
}

func (r *recorder) serve() {
	defer close(r.done)
	conn, err := r.ln.AcceptUnix()
	if err != nil {
		r.err = err
		return
	}
	defer conn.Close()
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*8))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		r.err = err
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		r.err = errors.New("seccomp agent: no file descriptor received")
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		r.err = errors.New("seccomp agent: no file descriptor received")
		return
	}
	for _, extra := range fds[1:] {
		unix.Close(extra)
	}
	r.loop(fds[0])
}

func (r *recorder) loop(fd int) {
	defer unix.Close(fd)
	arch, _ := libseccomp.GetNativeArch()
	for {
		// POLLHUP: no process is left under the filter. The agent must not stop earlier:
		// once the listener is closed, every notified syscall fails with ENOSYS.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 200); err != nil && err != unix.EINTR {
			return
		}
		if pfd[0].Revents&unix.POLLHUP != 0 {
			return
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		var req seccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			if e == unix.EINTR || e == unix.ENOENT {
				continue // ENOENT: the notifying thread died (e.g. at execve) before we read it.
			}
			return
		}
		if name, err := libseccomp.ScmpSyscall(req.Nr).GetNameByArch(arch); err == nil {
			r.mu.Lock()
			r.seen[name] = true
			r.mu.Unlock()
		}
		resp := seccompNotifResp{ID: req.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	}
}

// recorded stops the agent and returns the sorted syscall names it saw.
func (r *recorder) recorded() ([]string, error) {
	r.ln.Close()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		if r.err != nil {
			return nil, fmt.Errorf("seccomp agent: %w", r.err)
		}
		return nil, errors.New("seccomp agent: no syscall recorded")
	}
	out := make([]string, 0, len(r.seen))
	for n := range r.seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
