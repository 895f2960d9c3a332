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
	// until it is reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pid C.int
	var stack unsafe.Pointer
	if rc := C.yoroi_userns_holder(&pid, &stack); rc < 0 {
		return nil, fmt.Errorf("clone a user namespace: %w", unix.Errno(-rc))
	}
	defer func() {
		_ = unix.Kill(int(pid), unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(int(pid), &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		C.yoroi_userns_free(stack)
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
