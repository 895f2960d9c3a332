package runtime

import (
	"errors"
	"slices"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// On x86, libseccomp turns every rule on socket into a second rule on socketcall's
// SYS_SOCKET, without the family and protocol conditions: socketcall passes them behind
// a pointer seccomp cannot read. A profile allowing socket for AF_INET alone would then
// let a 32-bit process create any socket through socketcall. yoroi's compiled filter
// therefore starts with a guard that fails socketcall(SYS_SOCKET, ...) of an i386 process
// with EPERM before libseccomp's program runs; 32-bit programs create sockets with the
// direct socket call (Linux ≥ 4.3), which the family rules filter.

const (
	auditArchI386   = 0x40000003 // AUDIT_ARCH_I386
	i386Socketcall  = 102        // socketcall on i386
	socketcallOpen  = 1          // SYS_SOCKET
	seccompDataNr   = 0          // offsetof(struct seccomp_data, nr)
	seccompDataArch = 4          // offsetof(struct seccomp_data, arch)
	seccompDataArg0 = 16         // offsetof(struct seccomp_data, args[0]), low half on little-endian
)

// admitsI386 reports whether cfg's filter covers i386 processes.
func admitsI386(cfg *configs.Seccomp) bool {
	return slices.Contains(cfg.Architectures, "x86")
}

// withSocketcallGuard prepends the guard to prog, libseccomp's program, which starts by
// loading a field of seccomp_data (so the accumulator the guard leaves is never read).
func withSocketcallGuard(prog []unix.SockFilter) ([]unix.SockFilter, error) {
	const ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	if len(prog) == 0 || prog[0].Code != ldAbs {
		return nil, errors.New("seccomp: the compiled program does not start by loading its input")
	}
	jeq := func(k uint32, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: 0, Jf: jf}
	}
	guard := []unix.SockFilter{
		{Code: ldAbs, K: seccompDataArch},
		jeq(auditArchI386, 5), // not i386: on to libseccomp's program
		{Code: ldAbs, K: seccompDataNr},
		jeq(i386Socketcall, 3),
		{Code: ldAbs, K: seccompDataArg0},
		jeq(socketcallOpen, 1),
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
	}
	return append(guard, prog...), nil
}
