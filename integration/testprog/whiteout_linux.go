package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// whiteoutUnderLandlock asks the kernel whether Landlock mediates overlay whiteouts: in
// a sandbox that may write in dir but not make character devices, it makes a whiteout
// (character device 0:0) there and prints the errno (0: the kernel let it through).
func whiteoutUnderLandlock(dir string) {
	runtime.LockOSThread() // Landlock confines the thread (and what it starts)
	const makeChar = unix.LANDLOCK_ACCESS_FS_MAKE_CHAR
	handled := uint64(0x1FFF) // ABI 1's rights, MAKE_CHAR among them
	attr := unix.LandlockRulesetAttr{Access_fs: handled}
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), 8, 0)
	if e != 0 {
		fmt.Fprintln(os.Stderr, "landlock_create_ruleset:", e)
		os.Exit(2)
	}
	parent, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rule := unix.LandlockPathBeneathAttr{Allowed_access: handled &^ makeChar &^ unix.LANDLOCK_ACCESS_FS_EXECUTE, Parent_fd: int32(parent)}
	if _, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, fd, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&rule)), 0, 0, 0); e != 0 {
		fmt.Fprintln(os.Stderr, "landlock_add_rule:", e)
		os.Exit(2)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); e != 0 {
		fmt.Fprintln(os.Stderr, "landlock_restrict_self:", e)
		os.Exit(2)
	}
	path := filepath.Join(dir, fmt.Sprintf("whiteout-%d", os.Getpid()))
	err = unix.Mknod(path, unix.S_IFCHR|0o600, 0)
	if err == nil {
		os.Remove(path)
		fmt.Println(0)
		return
	}
	fmt.Println(int(err.(unix.Errno)))
}
