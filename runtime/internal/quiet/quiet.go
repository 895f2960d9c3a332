// Package quiet makes the system calls of a container's monitor without telling Go's
// scheduler (RawSyscall), for calls that return at once: reads of /proc and of a
// process' memory, the seccomp listener's ioctls, an appended audit line.
//
// A system call made the usual way (entersyscall) wakes the runtime's sysmon thread when
// it sleeps, which every idle Go program's does. Woken, sysmon looks every 20 µs for a
// millisecond and more, then ever less often, and takes back a P from a goroutine whose
// calls keep it for 10 ms, which wakes it again. A monitor makes a dozen calls for each
// exec it audits while the exec waits: the wake-ups fell on the CPUs of the programs the
// container had just started (on a 2-CPU machine sysmon ran 640 times in 200 audited
// execs, and sched_exec moved the exec'd program to the other CPU in 152 of them). With
// these calls sysmon sleeps through the monitor's work.
//
// Each function retries a call interrupted by a signal (Go's preemption sends SIGURG).
package quiet

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// atFDCWD is AT_FDCWD (-100) as a system call's argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

// retry makes call until it is not interrupted.
func retry(call func() (uintptr, syscall.Errno)) (int, error) {
	for {
		r, e := call()
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		default:
			return int(r), e
		}
	}
}

// Open opens path (flags as open(2)'s, O_CLOEXEC added).
func Open(path string, flags int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	return retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)), uintptr(flags|unix.O_CLOEXEC), uintptr(mode), 0, 0)
		return r, e
	})
}

// Close closes fd.
func Close(fd int) {
	_, _, _ = syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// Read reads from fd into buf.
func Read(fd int, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	return retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		return r, e
	})
}

// Pread reads from fd at off into buf.
func Pread(fd int, buf []byte, off int64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	return retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(off), 0, 0)
		return r, e
	})
}

// Write writes buf to fd in one call; a short write is an error.
func Write(fd int, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		return r, e
	})
	if err == nil && n != len(buf) {
		return unix.EIO
	}
	return err
}

// Readlink reads the symlink at path.
func Readlink(path string) (string, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return "", err
	}
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := retry(func() (uintptr, syscall.Errno) {
			r, _, e := syscall.RawSyscall6(unix.SYS_READLINKAT, atFDCWD, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
			return r, e
		})
		if err != nil {
			return "", err
		}
		if n < size || size >= unix.PathMax {
			return string(buf[:n]), nil
		}
	}
}

// Ioctl makes ioctl request req on fd with a pointer argument.
func Ioctl[T any](fd int, req uint, arg *T) error {
	_, err := retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(arg)))
		return r, e
	})
	return err
}

// PidfdOpen opens a pidfd of process (or, with PIDFD_THREAD, thread) pid.
func PidfdOpen(pid, flags int) (int, error) {
	return retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(unix.SYS_PIDFD_OPEN, uintptr(pid), uintptr(flags), 0)
		return r, e
	})
}

// ProcessVMReadv reads process pid's memory at remote into local.
func ProcessVMReadv(pid int, local []unix.Iovec, remote []unix.RemoteIovec) (int, error) {
	if len(local) == 0 || len(remote) == 0 {
		return 0, nil
	}
	return retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid), uintptr(unsafe.Pointer(&local[0])), uintptr(len(local)),
			uintptr(unsafe.Pointer(&remote[0])), uintptr(len(remote)), 0)
		return r, e
	})
}

// Poll reports fd's events among events now, without waiting.
func Poll(fd int, events int16) (int16, error) {
	for {
		revents, e := ppoll(fd, events, 0)
		if e != unix.EINTR {
			return revents, errnoErr(e)
		}
	}
}

// PollFor waits up to d for one of events on fd and reports those that came (none: d
// passed). The thread blocks without telling Go's scheduler, its P held: d must be short.
// A signal ends the wait early (Go's preemption, a wait of 10 ms or more): it reports no
// events then, as if d had passed.
func PollFor(fd int, events int16, d time.Duration) (int16, error) {
	revents, e := ppoll(fd, events, d)
	if e == unix.EINTR {
		return 0, nil
	}
	return revents, errnoErr(e)
}

// ppoll waits up to d for events on fd, once.
func ppoll(fd int, events int16, d time.Duration) (int16, syscall.Errno) {
	pfd := unix.PollFd{Fd: int32(fd), Events: events}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	_, _, e := syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return pfd.Revents, 0
}

// errnoErr is e as an error, nil for none.
func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// Kill sends signal sig to process pid.
func Kill(pid int, sig unix.Signal) error {
	_, err := retry(func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(unix.SYS_KILL, uintptr(pid), uintptr(sig), 0)
		return r, e
	})
	return err
}
