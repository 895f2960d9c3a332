package monitor

import "fmt"

//go:generate go run gen_syscalls.go

// x32Names names the system calls of the x32 ABI from 512 on, which have entries of
// their own (Linux's arch/x86/entry/syscalls/syscall_64.tbl, ABI x32); below 512 an x32
// call has the number and name of the x86-64 call it shares.
var x32Names = []string{
	"rt_sigaction", "rt_sigreturn", "ioctl", "readv", "writev", "recvfrom", "sendmsg",
	"recvmsg", "execve", "ptrace", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
	"sigaltstack", "timer_create", "mq_notify", "kexec_load", "waitid", "set_robust_list",
	"get_robust_list", "vmsplice", "move_pages", "preadv", "pwritev", "rt_tgsigqueueinfo",
	"recvmmsg", "sendmmsg", "process_vm_readv", "process_vm_writev", "setsockopt",
	"getsockopt", "io_setup", "io_submit", "execveat", "preadv2", "pwritev2",
}

// SyscallName names system call nr of the architecture an audit arch value gives ("nr N"
// for one this table does not know).
func SyscallName(auditArch uint32, nr int32) string {
	var names []string
	n := int(nr)
	switch auditArch {
	case AuditArchX8664:
		names = namesX8664
		if uint32(nr)&X32SyscallBit != 0 {
			n = int(uint32(nr) &^ X32SyscallBit)
			if n >= 512 {
				names, n = x32Names, n-512
			}
		}
	case AuditArchI386:
		names = namesI386
	case AuditArchAarch64:
		names = namesAarch64
	}
	if n >= 0 && n < len(names) && names[n] != "" {
		return names[n]
	}
	return fmt.Sprintf("nr %d", nr)
}
