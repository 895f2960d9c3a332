package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

type probe struct {
	name string
	call func() unix.Errno
}

func raw(nr uintptr, args ...uintptr) func() unix.Errno {
	return func() unix.Errno {
		var a [6]uintptr
		copy(a[:], args)
		_, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
		return e
	}
}

func str(s string) uintptr {
	b := append([]byte(s), 0)
	return uintptr(unsafe.Pointer(&b[0]))
}

// probes calls each syscall with arguments that are harmless if it is allowed: either a
// no-op or an error other than EPERM (a bad fd, a bad pointer, a bad magic number).
func probes() []probe {
	bad := ^uintptr(0)            // -1
	sessionKeyring := ^uintptr(2) // KEY_SPEC_SESSION_KEYRING (-3)
	atFdcwd := ^uintptr(99)       // AT_FDCWD (-100)
	return []probe{
		{"kexec_load", raw(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0)},
		{"kexec_file_load", raw(unix.SYS_KEXEC_FILE_LOAD, bad, bad, 0, 0, 0)},
		{"init_module", raw(unix.SYS_INIT_MODULE, 0, 0, str(""))},
		{"finit_module", raw(unix.SYS_FINIT_MODULE, bad, str(""), 0)},
		{"delete_module", raw(unix.SYS_DELETE_MODULE, str("yoroi-none"), 0)},
		{"bpf", raw(unix.SYS_BPF, 0, 0, 0)},
		{"perf_event_open", raw(unix.SYS_PERF_EVENT_OPEN, 0, 0, bad, bad, 0)},
		{"userfaultfd", raw(unix.SYS_USERFAULTFD, 0)},
		{"io_uring_setup", raw(unix.SYS_IO_URING_SETUP, 1, 0)},
		{"io_uring_enter", raw(unix.SYS_IO_URING_ENTER, bad, 0, 0, 0, 0, 0)},
		{"io_uring_register", raw(unix.SYS_IO_URING_REGISTER, bad, 0, 0, 0)},
		{"keyctl", raw(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, sessionKeyring, 0)},
		{"add_key", raw(unix.SYS_ADD_KEY, str("user"), str("yoroi"), 0, 0, bad)},
		{"request_key", raw(unix.SYS_REQUEST_KEY, str("user"), str("yoroi"), 0, 0)},
		{"open_by_handle_at", raw(unix.SYS_OPEN_BY_HANDLE_AT, bad, 0, 0)},
		{"name_to_handle_at", raw(unix.SYS_NAME_TO_HANDLE_AT, atFdcwd, str("/"), 0, 0, 0)},
		{"mount", raw(unix.SYS_MOUNT, str("none"), str("/tmp"), str("tmpfs"), 0, 0)},
		{"umount2", raw(unix.SYS_UMOUNT2, str("/tmp"), 0)},
		{"pivot_root", raw(unix.SYS_PIVOT_ROOT, str("/"), str("/"))},
		{"fsopen", raw(unix.SYS_FSOPEN, str("tmpfs"), 0)},
		{"fsconfig", raw(unix.SYS_FSCONFIG, bad, 0, 0, 0, 0)},
		{"fsmount", raw(unix.SYS_FSMOUNT, bad, 0, 0)},
		{"fspick", raw(unix.SYS_FSPICK, bad, str(""), 0)},
		{"move_mount", raw(unix.SYS_MOVE_MOUNT, bad, str(""), bad, str(""), 0)},
		{"open_tree", raw(unix.SYS_OPEN_TREE, bad, str(""), 0)},
		{"mount_setattr", raw(unix.SYS_MOUNT_SETATTR, bad, str(""), 0, 0, 0)},
		{"unshare(CLONE_NEWUSER)", raw(unix.SYS_UNSHARE, unix.CLONE_NEWUSER)},
		{"clone(CLONE_NEWUSER)", cloneNewUser},
		{"clone3", raw(unix.SYS_CLONE3, 0, 0)},
		{"setns", raw(unix.SYS_SETNS, bad, 0)},
		{"ptrace", raw(unix.SYS_PTRACE, unix.PTRACE_PEEKDATA, 1, 0, 0)},
		{"process_vm_readv", raw(unix.SYS_PROCESS_VM_READV, 1, 0, 0, 0, 0, 0)},
		{"process_vm_writev", raw(unix.SYS_PROCESS_VM_WRITEV, 1, 0, 0, 0, 0, 0)},
		{"swapon", raw(unix.SYS_SWAPON, str("/yoroi-none"), 0)},
		{"swapoff", raw(unix.SYS_SWAPOFF, str("/yoroi-none"))},
		{"reboot", raw(unix.SYS_REBOOT, 0, 0, 0, 0)},
		{"syslog", raw(unix.SYS_SYSLOG, 10, 0, 0)},
		{"acct", raw(unix.SYS_ACCT, 0)},
		{"settimeofday", raw(unix.SYS_SETTIMEOFDAY, 0, 0)},
		{"clock_settime", raw(unix.SYS_CLOCK_SETTIME, 0, 0)},
		{"adjtimex", raw(unix.SYS_ADJTIMEX, 0)},
		{"clock_adjtime", raw(unix.SYS_CLOCK_ADJTIME, 0, 0)},
		{"iopl", raw(unix.SYS_IOPL, 0)},
		{"ioperm", raw(unix.SYS_IOPERM, 0, 0, 0)},
		{"quotactl", raw(unix.SYS_QUOTACTL, 0, 0, 0, 0)},
		{"personality(ADDR_NO_RANDOMIZE)", raw(unix.SYS_PERSONALITY, 0x0040000)},
		{"personality(query)", raw(unix.SYS_PERSONALITY, 0xffffffff)},
		{"getppid", raw(unix.SYS_GETPPID)},
		{"socket(raw)", raw(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)},
		// Allowed by seccomp (NETLINK_ROUTE), denied by yoroi's AppArmor profile.
		{"socket(netlink-dgram)", raw(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE)},
		{"socket(packet)", raw(unix.SYS_SOCKET, unix.AF_PACKET, unix.SOCK_RAW, 0)},
		{"socket(alg)", raw(unix.SYS_SOCKET, unix.AF_ALG, unix.SOCK_SEQPACKET, 0)},
		{"socket(vsock)", raw(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM, 0)},
		// The kernel reads the family as an int: upper bits set pass a "not AF_VSOCK"
		// comparison of the whole 64-bit register.
		{"socket(vsock, upper bits set)", raw(unix.SYS_SOCKET, 1<<32|unix.AF_VSOCK, unix.SOCK_STREAM, 0)},
		{"socket(xdp)", raw(unix.SYS_SOCKET, unix.AF_XDP, unix.SOCK_RAW, 0)},
		{"socket(key)", raw(unix.SYS_SOCKET, unix.AF_KEY, unix.SOCK_RAW, 2)},
		{"socket(tipc)", raw(unix.SYS_SOCKET, unix.AF_TIPC, unix.SOCK_RDM, 0)},
		{"socket(netlink netfilter)", raw(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER)},
		{"socket(netlink generic)", raw(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_GENERIC)},
		{"socket(netlink xfrm)", raw(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_XFRM)},
		// What real network programs need stays allowed.
		{"socket(unix)", raw(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)},
		{"socket(inet)", raw(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0)},
		{"socket(inet6)", raw(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_DGRAM, 0)},
		{"socket(netlink route)", raw(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE)},
		{"mount(proc)", raw(unix.SYS_MOUNT, str("proc"), str("/tmp"), str("proc"), 0, 0)},
		{"mount(sysfs)", raw(unix.SYS_MOUNT, str("sysfs"), str("/tmp"), str("sysfs"), 0, 0)},
		{"mount(bind /)", raw(unix.SYS_MOUNT, str("/"), str("/tmp"), 0, unix.MS_BIND, 0)},
		{"mount(cgroup release_agent)", raw(unix.SYS_MOUNT, str("cgroup"), str("/tmp"), str("cgroup"), 0, str("rdma"))},
		{"unknown(1000)", raw(1000)},
	}
}

// cloneNewUser forks into a new user namespace if allowed; the child exits at once.
func cloneNewUser() unix.Errno {
	pid, _, e := unix.RawSyscall6(unix.SYS_CLONE, unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	_, _ = unix.Wait4(int(pid), &ws, 0, nil)
	return 0
}

// installListenerFilter installs, on the calling thread, a filter that allows every
// syscall and asks for a user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER),
// and returns the errno (0: installed; the listener is closed at exit).
func installListenerFilter() unix.Errno {
	const setModeFilter, flagNewListener = 1, 1 << 3
	filter := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, setModeFilter, flagNewListener, uintptr(unsafe.Pointer(&prog)))
	return e
}
