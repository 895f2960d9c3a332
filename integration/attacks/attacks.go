// Package attacks is yoroi's escape-attempt battery: each entry is one known escape or
// privilege gain, done by a small program (testprog, static) or a busybox script inside
// a container, or asked for in the container's spec. integration/attacks_test.go runs
// every one under yoroi's defaults and requires it to fail, and runs the in-container
// ones under runc with Docker's default spec as a control.
//
// The runtime-level races with CVE numbers (2019-5736, 2021-30465, 2024-21626,
// 2025-31133) need an orchestrating test around the container and are in
// integration/cve_test.go.
package attacks

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Attack is one attempt. It must fail under yoroi's defaults: either the container's
// output contains Blocked, or (for a request in the spec) yoroi refuses the container by
// rule Refused.
type Attack struct {
	Name      string
	Args      []string // the attack, inside the container
	Blocked   string   // a substring of the output that shows it failed
	Refused   string   // the rule that refuses the request (Blocked is then unused)
	Mechanism string   // what stops it
	// Absent, when the output is exactly it, says the host lacks the target (e.g. a kernel
	// without /proc/kcore): the attack is skipped, not passed.
	Absent string
	User   uint32 // process uid and gid (0: root in the container)
	Pids   int64  // a lower pids limit the spec asks for (a spec may only tighten)
	// Image changes a private copy of the busybox rootfs (e.g. adds a setuid binary).
	Image func(rootfs string) error
	// Request changes the spec: the attack is the request itself.
	Request func(s *specs.Spec)
}

// Control reports whether the attack is meaningful under runc as a control (an
// in-container attempt, not a request that only yoroi's policy judges).
func (a Attack) Control() bool { return a.Request == nil }

// Host is what some attacks compare against.
type Host struct {
	// IPCNamespace is readlink /proc/self/ns/ipc on the host ("ipc:[…]").
	IPCNamespace string
}

// probe runs one testprog syscall probe; it prints the errno (1 = EPERM).
func probe(name string) []string { return []string{"testprog", "probe", name} }

// sh runs a busybox script that prints "blocked" when the attack failed.
func sh(script string) []string { return []string{"sh", "-c", script} }

// setuidBusybox adds a setuid-root copy of busybox at /opt/busybox.
func setuidBusybox(rootfs string) error {
	if err := os.MkdirAll(filepath.Join(rootfs, "opt"), 0o755); err != nil {
		return err
	}
	suid := filepath.Join(rootfs, "opt", "busybox") // busybox picks its applet from argv[1] under this name
	if out, err := exec.Command("cp", filepath.Join(rootfs, "bin", "busybox"), suid).CombinedOutput(); err != nil {
		return &exec.ExitError{Stderr: out}
	}
	return os.Chmod(suid, 0o4755)
}

// withoutNamespace drops a namespace from the spec: the container would share the host's.
func withoutNamespace(t specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var keep []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != t {
				keep = append(keep, ns)
			}
		}
		s.Linux.Namespaces = keep
	}
}

func bindMount(src, dst string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rw"}})
	}
}

// privileged is what `docker run --privileged` asks for: every capability, no seccomp,
// no AppArmor, all devices, writable /sys.
func privileged(s *specs.Spec) {
	all := []string{"CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE", "CAP_NET_ADMIN", "CAP_MKNOD", "CAP_DAC_READ_SEARCH"}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	s.Linux.Seccomp = nil
	s.Process.ApparmorProfile = "unconfined"
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}}
}

// Catalogue is every attack.
func Catalogue(h Host) []Attack {
	return []Attack{
		// Kernel attack surface behind syscalls (seccomp).
		{Name: "keyctl", Args: probe("keyctl"), Blocked: "1", Mechanism: "seccomp deny floor (keyrings)"},
		{Name: "add_key", Args: probe("add_key"), Blocked: "1", Mechanism: "seccomp deny floor (keyrings)"},
		{Name: "bpf", Args: probe("bpf"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "io_uring_setup", Args: probe("io_uring_setup"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "userfaultfd", Args: probe("userfaultfd"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "perf_event_open", Args: probe("perf_event_open"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "open_by_handle_at (shocker)", Args: probe("open_by_handle_at"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "name_to_handle_at", Args: probe("name_to_handle_at"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "kexec_load", Args: probe("kexec_load"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "swapon", Args: probe("swapon"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "iopl", Args: probe("iopl"), Blocked: "1", Mechanism: "seccomp deny floor"},
		// Mounts and namespaces.
		{Name: "mount proc", Args: probe("mount(proc)"), Blocked: "1", Mechanism: "seccomp deny floor (mount API), no CAP_SYS_ADMIN"},
		{Name: "mount sysfs", Args: probe("mount(sysfs)"), Blocked: "1", Mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{Name: "mount tmpfs", Args: probe("mount"), Blocked: "1", Mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{Name: "bind-mount /", Args: probe("mount(bind /)"), Blocked: "1", Mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{Name: "cgroup v1 release_agent (CVE-2022-0492)", Args: probe("mount(cgroup release_agent)"), Blocked: "1", Mechanism: "seccomp deny floor; user namespace"},
		{Name: "fsopen (new mount API)", Args: probe("fsopen"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "unshare -U then mount", Args: probe("unshare(CLONE_NEWUSER)"), Blocked: "1", Mechanism: "seccomp: unshare without CLONE_NEWUSER only"},
		{Name: "clone(CLONE_NEWUSER)", Args: probe("clone(CLONE_NEWUSER)"), Blocked: "1", Mechanism: "seccomp: clone without CLONE_NEWUSER only"},
		{Name: "setns", Args: probe("setns"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "chroot escape", Args: sh("chroot /tmp /bin/sh -c true 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "no CAP_SYS_CHROOT; seccomp deny floor"},
		{Name: "write a host file through /proc/1/root", Args: sh("echo x > /proc/1/root/etc/evil 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "pid namespace (pid 1 is the container's); read-only root"},
		// Other processes.
		{Name: "ptrace of a sibling", Args: sh("sleep 100 & sleep 0.2; testprog ptrace-attach $!; kill $!"), Blocked: "1", Mechanism: "seccomp deny floor (ptrace); no CAP_SYS_PTRACE"},
		{Name: "process_vm_readv", Args: probe("process_vm_readv"), Blocked: "1", Mechanism: "seccomp deny floor"},
		// Kernel and machine state.
		{Name: "kernel module load (init_module)", Args: probe("init_module"), Blocked: "1", Mechanism: "seccomp deny floor; no CAP_SYS_MODULE"},
		{Name: "kernel module load (finit_module)", Args: probe("finit_module"), Blocked: "1", Mechanism: "seccomp deny floor; no CAP_SYS_MODULE"},
		{Name: "reboot", Args: probe("reboot"), Blocked: "1", Mechanism: "seccomp deny floor; no CAP_SYS_BOOT"},
		{Name: "clock change (settimeofday)", Args: probe("settimeofday"), Blocked: "1", Mechanism: "seccomp deny floor; no CAP_SYS_TIME"},
		{Name: "clock change (clock_settime)", Args: probe("clock_settime"), Blocked: "1", Mechanism: "seccomp deny floor"},
		{Name: "write /proc/sysrq-trigger", Args: sh("echo b > /proc/sysrq-trigger 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "read-only /proc/sysrq-trigger"},
		{Name: "write /proc/sys/kernel", Args: sh("echo evil > /proc/sys/kernel/domainname 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "read-only /proc/sys"},
		{Name: "write /sys/kernel", Args: sh("echo 1 > /sys/kernel/profiling 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "read-only sysfs"},
		{Name: "read /proc/kcore", Args: sh("if [ ! -e /proc/kcore ]; then echo absent; elif [ -c /proc/kcore ] && [ $(head -c 16 /proc/kcore | wc -c) = 0 ]; then echo blocked; else head -c 16 /proc/kcore | od -c | head -1; fi"), Blocked: "blocked", Absent: "absent", Mechanism: "masked path (/dev/null bound over it)"},
		{Name: "read /proc/keys", Args: sh("test -s /proc/keys && cat /proc/keys || echo blocked"), Blocked: "blocked", Mechanism: "masked path"},
		// Network and devices.
		{Name: "raw socket", Args: probe("socket(raw)"), Blocked: "1", Mechanism: "no CAP_NET_RAW (dropped)"},
		{Name: "packet socket", Args: probe("socket(packet)"), Blocked: "1", Mechanism: "no CAP_NET_RAW (dropped)"},
		{Name: "mknod of a block device", Args: sh("mknod /tmp/sda b 8 0 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "no CAP_MKNOD (dropped); nodev tmpfs"},
		// Files and privileges.
		{Name: "setuid-root binary in the image", Args: []string{"/opt/busybox", "id", "-u"}, Blocked: "1000", Mechanism: "no_new_privileges", User: 1000, Image: setuidBusybox},
		{Name: "execute a binary written to /tmp", Args: sh("cp /bin/busybox /tmp/x && /tmp/x true || echo blocked"), Blocked: "blocked", Mechanism: "noexec scratch tmpfs; Landlock"},
		{Name: "write the root filesystem", Args: sh("echo x > /bin/evil 2>/dev/null || echo blocked"), Blocked: "blocked", Mechanism: "read-only root; Landlock"},
		{Name: "fork bomb", Args: sh("sh -c 'for i in $(seq 6000); do sleep 10 & done' 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; [ $n -le 512 ] && echo blocked-at-$n"), Blocked: "blocked-at-", Mechanism: "pids limit", Pids: 512},
		// Requests: what the spec asks for is the attack.
		{Name: "host pid namespace", Request: withoutNamespace(specs.PIDNamespace), Refused: "namespaces", Mechanism: "policy: host namespaces refused"},
		{Name: "host network namespace", Request: withoutNamespace(specs.NetworkNamespace), Refused: "namespaces", Mechanism: "policy: host namespaces refused"},
		{Name: "host ipc namespace", Request: withoutNamespace(specs.IPCNamespace), Args: sh("[ \"$(readlink /proc/self/ns/ipc)\" != '" + h.IPCNamespace + "' ] && echo blocked"), Blocked: "blocked", Mechanism: "policy: a private ipc namespace is added"},
		{Name: "-v /:/host", Request: bindMount("/", "/host"), Refused: "mounts.source", Mechanism: "policy: sensitive bind sources refused"},
		{Name: "docker.sock", Request: bindMount("/var/run/docker.sock", "/var/run/docker.sock"), Refused: "mounts.source", Mechanism: "policy: engine sockets refused"},
		{Name: "privileged mode", Request: privileged, Refused: "privileged", Mechanism: "policy: privileged refused"},
		{Name: "rootfs is the host's /", Request: func(s *specs.Spec) { s.Root.Path = "/" }, Refused: "rootfs.source", Mechanism: "policy: sensitive root filesystems refused"},
	}
}
