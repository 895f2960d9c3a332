package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// attack is one escape or privilege-gain attempt, run in a container under yoroi's
// defaults. It must fail; mechanism names what stops it.
type attack struct {
	name      string
	args      []string // the attack, inside the container
	blocked   string   // a substring of the output that shows it failed
	mechanism string
	user      uint32 // process uid (0: root in the container)
	rootfs    string // "" for the shared busybox rootfs
	pids      int64  // a lower pids limit the spec asks for (it may only tighten)
}

// probe runs one testprog syscall probe; it prints the errno (1 = EPERM).
func probe(name string) []string { return []string{"testprog", "probe", name} }

// sh runs a shell script that prints "blocked" when the attack failed.
func sh(script string) []string { return []string{"sh", "-c", script} }

// setuidRootfs is the busybox rootfs with a setuid-root copy of busybox at /opt/busybox.
func setuidRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(privateDir(t), "rootfs")
	if out, err := exec.Command("cp", "-a", rootfsTemplate, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(dir, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	suid := filepath.Join(dir, "opt", "busybox") // busybox picks its applet from argv[1] under this name
	if out, err := exec.Command("cp", filepath.Join(dir, "bin", "busybox"), suid).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := os.Chmod(suid, 0o4755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func attacks(t *testing.T) []attack {
	suid := setuidRootfs(t)
	return []attack{
		{name: "keyctl", args: probe("keyctl"), blocked: "1", mechanism: "seccomp deny floor (keyrings)"},
		{name: "add_key", args: probe("add_key"), blocked: "1", mechanism: "seccomp deny floor (keyrings)"},
		{name: "bpf", args: probe("bpf"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "io_uring_setup", args: probe("io_uring_setup"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "userfaultfd", args: probe("userfaultfd"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "perf_event_open", args: probe("perf_event_open"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "open_by_handle_at (shocker)", args: probe("open_by_handle_at"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "name_to_handle_at", args: probe("name_to_handle_at"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "mount proc", args: probe("mount(proc)"), blocked: "1", mechanism: "seccomp deny floor (mount API), no CAP_SYS_ADMIN"},
		{name: "mount sysfs", args: probe("mount(sysfs)"), blocked: "1", mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{name: "mount tmpfs", args: probe("mount"), blocked: "1", mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{name: "bind-mount /", args: probe("mount(bind /)"), blocked: "1", mechanism: "seccomp deny floor, no CAP_SYS_ADMIN"},
		{name: "cgroup v1 release_agent (CVE-2022-0492)", args: probe("mount(cgroup release_agent)"), blocked: "1", mechanism: "seccomp deny floor; user namespace"},
		{name: "fsopen (new mount API)", args: probe("fsopen"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "unshare -U then mount", args: probe("unshare(CLONE_NEWUSER)"), blocked: "1", mechanism: "seccomp: unshare without CLONE_NEWUSER only"},
		{name: "clone(CLONE_NEWUSER)", args: probe("clone(CLONE_NEWUSER)"), blocked: "1", mechanism: "seccomp: clone without CLONE_NEWUSER only"},
		{name: "setns", args: probe("setns"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "ptrace", args: probe("ptrace"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "process_vm_readv", args: probe("process_vm_readv"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "kernel module load (init_module)", args: probe("init_module"), blocked: "1", mechanism: "seccomp deny floor; no CAP_SYS_MODULE"},
		{name: "kernel module load (finit_module)", args: probe("finit_module"), blocked: "1", mechanism: "seccomp deny floor; no CAP_SYS_MODULE"},
		{name: "kexec_load", args: probe("kexec_load"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "reboot", args: probe("reboot"), blocked: "1", mechanism: "seccomp deny floor; no CAP_SYS_BOOT"},
		{name: "clock change (settimeofday)", args: probe("settimeofday"), blocked: "1", mechanism: "seccomp deny floor; no CAP_SYS_TIME"},
		{name: "clock change (clock_settime)", args: probe("clock_settime"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "swapon", args: probe("swapon"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "iopl", args: probe("iopl"), blocked: "1", mechanism: "seccomp deny floor"},
		{name: "raw socket", args: probe("socket(raw)"), blocked: "1", mechanism: "no CAP_NET_RAW (dropped)"},
		{name: "packet socket", args: probe("socket(packet)"), blocked: "1", mechanism: "no CAP_NET_RAW (dropped)"},
		{name: "mknod of a block device", args: sh("mknod /tmp/sda b 8 0 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "no CAP_MKNOD (dropped); nodev tmpfs"},
		{name: "setuid-root binary in the image", args: []string{"/opt/busybox", "id", "-u"}, blocked: "1000", mechanism: "no_new_privileges", user: 1000, rootfs: suid},
		{name: "execute a binary written to /tmp", args: sh("cp /bin/busybox /tmp/x && /tmp/x true || echo blocked"), blocked: "blocked", mechanism: "noexec scratch tmpfs; Landlock"},
		{name: "write /proc/sysrq-trigger", args: sh("echo b > /proc/sysrq-trigger 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "read-only /proc/sysrq-trigger"},
		{name: "write /proc/sys/kernel", args: sh("echo evil > /proc/sys/kernel/domainname 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "read-only /proc/sys"},
		{name: "write /sys/kernel", args: sh("echo 1 > /sys/kernel/profiling 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "read-only sysfs"},
		{name: "read /proc/keys", args: sh("test -s /proc/keys && cat /proc/keys || echo blocked"), blocked: "blocked", mechanism: "masked path"},
		{name: "write the root filesystem", args: sh("echo x > /bin/evil 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "read-only root; Landlock"},
		{name: "chroot escape", args: sh("chroot /tmp /bin/sh -c true 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "no CAP_SYS_CHROOT; seccomp deny floor"},
		{name: "fork bomb", args: sh("sh -c 'for i in $(seq 6000); do sleep 10 & done' 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; [ $n -le 512 ] && echo blocked-at-$n"), blocked: "blocked-at-", mechanism: "pids limit", pids: 512},
		{name: "write a host file through a /proc/1/root escape", args: sh("echo x > /proc/1/root/etc/evil 2>/dev/null || echo blocked"), blocked: "blocked", mechanism: "pid namespace (pid 1 is the container's); read-only root"},
	}
}

// Every attack fails under yoroi's defaults. The same attack under runc with Docker's
// default spec is run as a control: its outcome is logged, not required.
func TestAttacksFail(t *testing.T) {
	e := newEnv(t)
	list := attacks(t)
	if len(list) < 40 {
		t.Fatalf("only %d attacks", len(list))
	}
	for _, a := range list {
		t.Run(a.name, func(t *testing.T) {
			b := e.newBundle(a.args...).edit(t, func(s *specs.Spec) {
				s.Process.User.UID, s.Process.User.GID = a.user, a.user
				if a.rootfs != "" {
					s.Root.Path = a.rootfs
				}
				if a.pids > 0 {
					s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &a.pids}}
				}
			})
			id := uniqueID("attack")
			r := e.run("run", "--bundle", b.dir, id)
			out := strings.TrimSpace(r.stdout)
			if !strings.Contains(out, a.blocked) {
				t.Errorf("attack %q was not stopped (want %q, stopped by %s): exit %d, stdout %q, stderr %q", a.name, a.blocked, a.mechanism, r.code, out, r.stderr)
			}
			e.assertNoLeftovers(id)
			t.Logf("blocked by %s; control (runc, Docker's default spec): %s", a.mechanism, runcControl(t, a))
		})
	}
}

// runcControl runs the attack under Debian's runc with Docker's default spec (capabilities,
// seccomp profile, masked paths as dockerd sets them) and returns its output.
func runcControl(t *testing.T, a attack) string {
	b := fixtureBundle(t, "docker-default")
	b.spec.Process.Args = a.args
	b.spec.Process.User.UID, b.spec.Process.User.GID = a.user, a.user
	if a.rootfs != "" {
		b.spec.Root.Path = a.rootfs
	}
	if a.pids > 0 {
		b.spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &a.pids}
	}
	b.spec.Root.Readonly = false
	b.spec.Mounts = slicesWithout(b.spec.Mounts, func(m specs.Mount) bool { return m.Type == "bind" })
	b.save(t)
	root := filepath.Join(privateDir(t), "runc")
	id := uniqueID("control")
	out, err := runClient("runc", "--root", root, "run", "--bundle", b.dir, id)
	_, _ = runClient("runc", "--root", root, "delete", "--force", id)
	return fmt.Sprintf("%q (err %v)", strings.TrimSpace(out), err)
}

func slicesWithout(ms []specs.Mount, drop func(specs.Mount) bool) []specs.Mount {
	var out []specs.Mount
	for _, m := range ms {
		if !drop(m) {
			out = append(out, m)
		}
	}
	return out
}
