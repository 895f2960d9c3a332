package runtime

import "golang.org/x/sys/unix"

// The Landlock launcher itself is C code run before the Go runtime (package
// runtime/launcher); the host side only needs the kernel's ABI version.

// LandlockABI returns the kernel's Landlock ABI version, 0 if Landlock is unavailable.
func LandlockABI() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(v)
}
