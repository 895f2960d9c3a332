package hardening

import (
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// syscallGroup is a set of syscalls the built-in profile allows, with the reason why a
// container needs them. The profile is data, reviewed group by group.
type syscallGroup struct {
	reason string
	names  []string
}

// builtinAllow is yoroi's default seccomp allowlist (Docker's default minus the deny
// floor and the capability-gated syscalls yoroi never grants).
var builtinAllow = []syscallGroup{
	{"file descriptors and I/O: every program reads and writes files and pipes", []string{
		"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "preadv2", "pwritev", "pwritev2",
		"open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "lseek", "_llseek",
		"fcntl", "fcntl64", "ioctl", "pipe", "pipe2", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
		"copy_file_range", "readahead", "fadvise64", "fadvise64_64", "fallocate", "flock", "fsync", "fdatasync",
		"sync", "syncfs", "sync_file_range", "ftruncate", "ftruncate64", "truncate", "truncate64",
	}},
	{"file system metadata and names within the container's own mounts", []string{
		"stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "newfstatat", "fstatat64", "statx",
		"statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "getcwd", "chdir", "fchdir",
		"getdents", "getdents64", "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat",
		"symlink", "symlinkat", "unlink", "unlinkat", "readlink", "readlinkat", "mknod", "mknodat", "umask",
		"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
		"utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
		"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
		"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
		"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark",
	}},
	{"process and thread lifecycle (clone is filtered below: no new user namespaces)", []string{
		"execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
		"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall",
		"getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
		"prctl", "arch_prctl", "get_thread_area", "set_thread_area", "seccomp", "capget", "capset",
		"pidfd_open", "pidfd_send_signal", "process_mrelease", "membarrier",
	}},
	{"signals", []string{
		"kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
		"rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
		"sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "pause",
	}},
	{"memory management of the process' own address space", []string{
		"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
		"mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "memfd_create", "memfd_secret",
		"pkey_alloc", "pkey_free", "pkey_mprotect", "modify_ldt",
	}},
	{"reading clocks and timers (setting the clock is denied)", []string{
		"clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
		"clock_nanosleep_time64", "gettimeofday", "time", "times", "nanosleep", "alarm", "getitimer", "setitimer",
		"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
		"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
	}},
	{"waiting and event notification", []string{
		"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
		"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait",
		"epoll_pwait2", "eventfd", "eventfd2", "futex", "futex_time64", "futex_waitv",
		"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	}},
	{"networking in the container's own network namespace (socket is filtered below)", []string{
		"socketpair", "bind", "listen", "accept", "accept4", "connect", "shutdown", "getsockname", "getpeername",
		"getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg",
		"recvmmsg", "recvmmsg_time64",
	}},
	// ipc is the 32-bit multiplexer of the calls below; no rule filters their arguments,
	// so it admits nothing they do not (socketcall, which would hide socket's family, is
	// filtered below).
	{"System V and POSIX IPC in the container's own IPC namespace", []string{
		"ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64", "semctl",
		"shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
		"mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
	}},
	{"credentials: dropping privileges inside the user namespace", []string{
		"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
		"getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
		"setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
		"setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups", "setgroups32",
		"setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
	}},
	{"scheduling and resource limits of the container's own processes", []string{
		"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
		"sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr", "sched_get_priority_max",
		"sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "getpriority",
		"setpriority", "ioprio_get", "ioprio_set", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage",
		"getcpu",
	}},
	{"system information", []string{"uname", "sysinfo", "getrandom"}},
	{"Landlock: yoroi confines every workload with it, and workloads may confine themselves further", []string{
		"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	}},
}

// denyFloor: syscalls yoroi never allows, whatever profile the caller brings. Each line
// is a way out of the container or into the kernel's most exposed code.
var denyFloor = []syscallGroup{
	{"load a new kernel", []string{"kexec_load", "kexec_file_load"}},
	{"load or unload kernel modules", []string{"init_module", "finit_module", "delete_module", "create_module"}},
	{"eBPF and perf: large kernel attack surface, kernel memory disclosure", []string{"bpf", "perf_event_open"}},
	{"userfaultfd: the standard tool to win kernel races", []string{"userfaultfd"}},
	{"io_uring: a second syscall interface that bypasses seccomp", []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}},
	{"kernel keyrings are not namespaced", []string{"keyctl", "add_key", "request_key"}},
	{"file handles bypass mount boundaries (shocker)", []string{"open_by_handle_at", "name_to_handle_at"}},
	{"mount table changes", []string{"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "open_tree_attr"}},
	{"joining other namespaces", []string{"setns"}},
	{"reading or writing other processes' memory", []string{"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp"}},
	{"host-wide state: swap, reboot, kernel log, accounting, quotas", []string{"swapon", "swapoff", "reboot", "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "nfsservctl", "vhangup"}},
	{"the clock is shared with the host", []string{"settimeofday", "stime", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64"}},
	{"direct hardware port access", []string{"iopl", "ioperm"}},
	{"obsolete interfaces with a history of bugs", []string{"uselib", "_sysctl", "get_kernel_syms", "query_module", "ustat", "sysfs", "vm86", "vm86old"}},
	{"NUMA policy of the host's memory", []string{"mbind", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages", "move_pages", "get_mempolicy"}},
	{"namespace and hostname changes need privileges the container does not have", []string{"sethostname", "setdomainname", "fanotify_init", "chroot"}},
}

// Conditional rules of the built-in profile and the floor.
const (
	cloneNewUser = 0x10000000 // CLONE_NEWUSER
	afNetlink    = 16         // AF_NETLINK
	sysSocket    = 1          // socketcall's SYS_SOCKET
	enosys       = 38
	eperm        = 1
)

// socketFamily is an address family socket(2) may create, and why a container needs it.
type socketFamily struct {
	value  uint64
	reason string
}

// allowedSocketFamilies is the allowlist of socket(2)'s first argument, compared for
// equality (a "not AF_VSOCK" rule is bypassed by setting the upper 32 bits, which the
// kernel drops). Every other family is denied with the profile's default errno: AF_ALG
// (the kernel's crypto API, CVE-2026-31431 "Copy Fail"), AF_VSOCK (the hypervisor),
// AF_PACKET, AF_KEY, AF_XDP, AF_TIPC, AF_RDS, AF_CAN, AF_BLUETOOTH, AF_KCM, AF_SMC and the
// rest: kernel code with a history of privilege escalations that no container workload
// needs.
var allowedSocketFamilies = []socketFamily{
	{1, "AF_UNIX: local IPC, used by nearly every program"},
	{2, "AF_INET: IPv4 in the container's own network namespace"},
	{10, "AF_INET6: IPv6 in the container's own network namespace"},
}

// allowedNetlinkProtocols are the AF_NETLINK protocols (socket's third argument) allowed.
// Not NETLINK_NETFILTER (nf_tables, the most exploited netlink family of recent years),
// NETLINK_GENERIC (a multiplexer of dozens of kernel subsystems), NETLINK_XFRM, nor the
// rest.
var allowedNetlinkProtocols = []socketFamily{
	{0, "NETLINK_ROUTE: getifaddrs(3) and ip(8) reading the container's interfaces and routes"},
	{4, "NETLINK_SOCK_DIAG: ss(8) listing the container's own sockets"},
	{9, "NETLINK_AUDIT: login, sudo and PAM report to audit (the kernel answers them outside the host's namespaces)"},
	{15, "NETLINK_KOBJECT_UEVENT: device event listeners (udev clients)"},
}

// harmlessPersonalities are the personality(2) values Docker allows: PER_LINUX,
// PER_LINUX32, UNAME26 variants and the 0xffffffff query.
var harmlessPersonalities = []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}

// conditionalRules: clone and unshare only without CLONE_NEWUSER, clone3 (whose flags
// seccomp cannot see) reports ENOSYS so that libc falls back to clone, socket only for
// the allowed families and netlink protocols, socketcall (the 32-bit multiplexer, whose
// arguments seccomp cannot see) for every call but SYS_SOCKET, personality only for
// harmless values. Each holds on every architecture the filter admits: the flags,
// family and call number are the first argument there too.
func conditionalRules() []specs.LinuxSyscall {
	rules := []specs.LinuxSyscall{
		{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: cloneNewUser, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		{Names: []string{"unshare"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: cloneNewUser, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(enosys))},
		{Names: []string{"socketcall"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: sysSocket, Op: specs.OpGreaterThan}}},
	}
	for _, f := range allowedSocketFamilies {
		rules = append(rules, specs.LinuxSyscall{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: f.value, Op: specs.OpEqualTo}}})
	}
	for _, p := range allowedNetlinkProtocols {
		rules = append(rules, specs.LinuxSyscall{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: afNetlink, Op: specs.OpEqualTo}, {Index: 2, Value: p.value, Op: specs.OpEqualTo}}})
	}
	for _, v := range harmlessPersonalities {
		rules = append(rules, specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: specs.OpEqualTo}}})
	}
	return rules
}

func ptr[T any](v T) *T { return &v }

// seccompArchitectures returns the architectures a filter admits on arch (GOARCH): the
// native one, and with compat the compat ABIs as Docker has them (x86_64: x86 and x32;
// aarch64: arm). A process of an architecture the filter does not list is killed at its
// first system call, so that no rule can be bypassed through a compat entry point.
func seccompArchitectures(arch string, compat bool) []specs.Arch {
	native, compats := nativeArch(arch)
	if native == "" {
		return nil
	}
	if !compat {
		return []specs.Arch{native}
	}
	return append([]specs.Arch{native}, compats...)
}

// nativeArch returns the seccomp architecture of arch (GOARCH) and its compat ABIs.
func nativeArch(arch string) (specs.Arch, []specs.Arch) {
	switch arch {
	case "amd64":
		return specs.ArchX86_64, []specs.Arch{specs.ArchX86, specs.ArchX32}
	case "arm64":
		return specs.ArchAARCH64, []specs.Arch{specs.ArchARM}
	default:
		return "", nil
	}
}

// BuiltinSeccomp is yoroi's default profile for arch (and its compat ABIs when compat):
// default errno EPERM (libcontainer returns ENOSYS for syscalls newer than the profile
// knows), the allowlist, and the conditional rules.
func BuiltinSeccomp(arch string, compat bool) *specs.LinuxSeccomp {
	var names []string
	for _, g := range builtinAllow {
		names = append(names, g.names...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(uint(eperm)),
		Architectures:   seccompArchitectures(arch, compat),
		Syscalls:        append([]specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}}, conditionalRules()...),
	}
}

// floorNames is every syscall of the deny floor.
func floorNames() []string {
	var out []string
	for _, g := range denyFloor {
		out = append(out, g.names...)
	}
	return out
}
