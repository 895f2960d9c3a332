// Package userns makes user namespaces for id-mapped mounts: mount_setattr
// (MOUNT_ATTR_IDMAP) takes the mapping from a user namespace fd, and a user namespace
// exists only while a process is in it or an fd refers to it.
//
// The process is a holder cloned with CLONE_NEWUSER|CLONE_VM (userns.c): it shares yoroi's
// memory, so there is no page-table copy and no execve, and it runs nothing but a wait.
// yoroi writes its maps, opens its namespace and kills it. Starting it the Go way
// (os.StartProcess under PTRACE_TRACEME, stopped at execve) costs a fork of the Go process
// and an execve: 3-4 ms of every create here, against well under one.
package userns

// #include <stdlib.h>
// #include "userns.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IDMap is one line of a uid_map or gid_map.
type IDMap struct {
	ContainerID, HostID, Size uint32
}

// New returns an fd of a new user namespace with the given mappings (setgroups denied,
// as an unprivileged namespace has it: the namespace is only ever a mapping for a mount).
func New(uid, gid []IDMap) (_ *os.File, retErr error) {
	// The holder dies with the thread that cloned it (PR_SET_PDEATHSIG): keep that thread
	// until the namespace is open.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pid, pidfd C.int
	var stack unsafe.Pointer
	if rc := C.yoroi_userns_holder(&pid, &pidfd, &stack); rc < 0 {
		return nil, fmt.Errorf("clone a user namespace: %w", unix.Errno(-rc))
	}
	defer func() {
		// Killed now, reaped in the background: waiting for its exit (its wake-up on
		// another CPU, then ours) took 0.4-0.7 ms of every create here.
		_ = unix.PidfdSendSignal(int(pidfd), unix.SIGKILL, nil, 0)
		reaping.Add(1)
		go reap(int(pidfd), stack)
	}()
	proc := "/proc/" + strconv.Itoa(int(pid))
	if err := writeProc(proc+"/uid_map", format(uid)); err != nil {
		return nil, err
	}
	if err := writeProc(proc+"/setgroups", "deny"); err != nil {
		return nil, err
	}
	if err := writeProc(proc+"/gid_map", format(gid)); err != nil {
		return nil, err
	}
	return os.Open(proc + "/ns/user")
}

// reaping counts the holders killed and not yet reaped (for tests that count children).
var reaping sync.WaitGroup

// reap waits for a killed holder through its pidfd, which names that process and no
// later one with its pid, then frees its stack. ECHILD: a wait for any child (the signal
// relay's) reaped it first; it is dead either way.
func reap(pidfd int, stack unsafe.Pointer) {
	defer reaping.Done()
	for {
		err := unix.Waitid(unix.P_PIDFD, pidfd, nil, unix.WEXITED, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	C.yoroi_userns_free(stack)
	_ = unix.Close(pidfd)
}

// Mappings reads the uid and gid maps of the user namespace at path, as its parent
// namespace sees them, from a process that joins it (userns.c): the way to read them for a
// namespace pinned by a file (not /proc/PID/ns/user), whose process may be gone.
func Mappings(path string) (uid, gid []IDMap, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// A process cannot join the user namespace it is in (EINVAL): its own maps are read
	// as they are.
	var st, self unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) == nil && unix.Stat("/proc/self/ns/user", &self) == nil && st.Dev == self.Dev && st.Ino == self.Ino {
		u, err := os.ReadFile("/proc/self/uid_map")
		if err != nil {
			return nil, nil, err
		}
		g, err := os.ReadFile("/proc/self/gid_map")
		if err != nil {
			return nil, nil, err
		}
		return parse(string(u)), parse(string(g)), nil
	}
	m := (*C.struct_yoroi_userns_maps)(C.calloc(1, C.sizeof_struct_yoroi_userns_maps))
	if m == nil {
		return nil, nil, errors.New("out of memory")
	}
	defer C.free(unsafe.Pointer(m))
	m.fd = C.int(f.Fd())
	if rc := C.yoroi_userns_maps(m); rc < 0 {
		return nil, nil, fmt.Errorf("reading the mappings of user namespace %s: %w", path, unix.Errno(-rc))
	}
	uid = parse(C.GoStringN(&m.uid[0], C.int(m.uid_len)))
	gid = parse(C.GoStringN(&m.gid[0], C.int(m.gid_len)))
	return uid, gid, nil
}

// parse reads the lines of a uid_map or gid_map.
func parse(s string) []IDMap {
	var out []IDMap
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m IDMap
		if _, err := fmt.Sscan(line, &m.ContainerID, &m.HostID, &m.Size); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func format(m []IDMap) string {
	var b []byte
	for _, x := range m {
		b = fmt.Appendf(b, "%d %d %d\n", x.ContainerID, x.HostID, x.Size)
	}
	return string(b)
}

// writeProc writes a /proc file of the holder in one write, as the kernel requires.
func writeProc(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
