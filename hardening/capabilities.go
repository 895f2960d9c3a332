package hardening

import "strings"

// allCapabilities is every capability Linux defines (up to 6.x), in number order.
var allCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// capReason is one line per capability yoroi allows by default: why a container needs it.
type capReason struct {
	name, reason string
}

// defaultAllowedCaps is the default allowlist, each with the reason it is safe enough.
var defaultAllowedCaps = []capReason{
	{"CAP_CHOWN", "package managers and entrypoints chown files they own inside the user namespace"},
	{"CAP_DAC_OVERRIDE", "root in the container reads and writes its own files regardless of mode bits"},
	{"CAP_FOWNER", "chmod/utime on files owned by other container users (installers, tar -p)"},
	{"CAP_FSETID", "keep setgid bits when root in the container edits group directories"},
	{"CAP_KILL", "signal the container's own processes running as other users"},
	{"CAP_SETGID", "drop privileges to a service group (nginx, postgres)"},
	{"CAP_SETUID", "drop privileges to a service user"},
	{"CAP_NET_BIND_SERVICE", "bind ports below 1024 in the container's own network namespace"},
}

// engineDefaultCaps are granted by Docker or containerd by default beyond the allowlist;
// yoroi drops them (recording it) rather than refusing every default container.
var engineDefaultCaps = []capReason{
	{"CAP_NET_RAW", "raw sockets: ARP/ICMP spoofing on the container network"},
	{"CAP_MKNOD", "creating device nodes; the device cgroup is the only other barrier"},
	{"CAP_AUDIT_WRITE", "writing to the kernel audit log"},
	{"CAP_SYS_CHROOT", "chroot, a step in several escape chains"},
	{"CAP_SETFCAP", "setting file capabilities on binaries"},
	{"CAP_SETPCAP", "changing capability bounding sets of processes"},
}

func capNames(list []capReason) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.name
	}
	return out
}

// normalizeCap turns "net_raw", "NET_RAW" or "CAP_NET_RAW" into "CAP_NET_RAW".
func normalizeCap(name string) (string, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for _, c := range allCapabilities {
		if c == n {
			return n, true
		}
	}
	return n, false
}
