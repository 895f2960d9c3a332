package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// A spec that asks for more restriction than the default gets at least that.

// pids.limit 0 was read as unset and became 4096: now it is kept (libcontainer writes
// it as 1, as systemd does, so the init cannot fork).
func TestPidsLimitZeroKept(t *testing.T) {
	e := newEnv(t)
	zero := int64(0)
	b := e.newBundle("sh", "-c", "(true) && echo forked").edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &zero}}
	})
	id := uniqueID("pids0")
	if r := e.run("run", "--bundle", b.dir, id); strings.Contains(r.stdout, "forked") || !strings.Contains(r.stderr, "can't fork") {
		t.Errorf("pids limit 0: the container forked (exit %d, stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
	}
	e.assertNoLeftovers(id)
	if exp := e.ok("policy", "explain", "--bundle", b.dir); !strings.Contains(exp, "pids limit 0") {
		t.Errorf("explain does not keep the limit:\n%s", exp)
	}
}

// A bind mount of a source on a read-only mount stays read-only when yoroi adds
// nosuid,nodev, even in the host's user namespace (a relaxed profile), where the
// source's read-only flag is not locked. (It came out writable.)
func TestReadonlySourceStaysReadonly(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + "\n[profiles.host-userns.userns]\nallow_host = true\n")
	src := filepath.Join(privateDir(t), "ro-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", src, "tmpfs", unix.MS_RDONLY, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
	for _, profile := range []string{"", "host-userns"} {
		t.Run("profile="+profile, func(t *testing.T) {
			b := e.newBundle("sh", "-c", "touch /data/x 2>/dev/null && echo writable || echo read-only").edit(t, func(s *specs.Spec) {
				if profile != "" {
					s.Annotations = map[string]string{hardening.ProfileAnnotation: profile}
					s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.UserNamespace)
					s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
				}
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: src, Type: "bind", Options: []string{"rbind"}})
			})
			id := uniqueID("rosrc")
			if out := strings.TrimSpace(e.ok("run", "--bundle", b.dir, id)); out != "read-only" {
				t.Errorf("bind of a read-only source: %q, want read-only", out)
			}
			e.assertNoLeftovers(id)
		})
	}
}

// mounts.allow_bind_flags mounts a bind with the flags it names, as runc does. In the
// host's user namespace (with userns.allow_host) a bind asked rw,suid,dev of a
// ro,nosuid,nodev source is writable and the mount table shows what was asked. In the
// container's own user namespace the source's flags are locked and the same request
// fails as it does under runc with a user namespace. Without the key the spec gets a
// read-only bind with nosuid,nodev.
func TestAllowBindFlags(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + `
[profiles.bind-flags.mounts]
allow_bind_flags = true
[profiles.bind-flags-host.mounts]
allow_bind_flags = true
[profiles.bind-flags-host.userns]
allow_host = true
`)
	src := filepath.Join(privateDir(t), "ro-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	// Read-only as a mount, not as a file system: a bind of it can be made writable.
	if err := unix.Mount("tmpfs", src, "tmpfs", 0, "size=1m,mode=777"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
	if err := unix.Mount("", src, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ profile, want string }{
		{"", "read-only ro,nosuid,nodev"},
		{"bind-flags-host", "writable rw"},
		{"bind-flags", "cannot clear locked flags MS_RDONLY|MS_NOSUID|MS_NODEV"},
	} {
		t.Run("profile="+tc.profile, func(t *testing.T) {
			script := `touch /data/x 2>/dev/null && w=writable || w=read-only
echo "$w $(grep ' /data ' /proc/mounts | cut -d' ' -f4 | tr ',' '\n' | grep -xE 'ro|rw|nosuid|nodev' | paste -sd,)"`
			b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
				if tc.profile != "" {
					s.Annotations = map[string]string{hardening.ProfileAnnotation: tc.profile}
				}
				if tc.profile == "bind-flags-host" {
					s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.UserNamespace)
					s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
				}
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: src, Type: "bind", Options: []string{"rbind", "rw", "suid", "dev"}})
			})
			id := uniqueID("bindflags")
			if tc.profile == "bind-flags" {
				e.fails(tc.want, "run", "--bundle", b.dir, id)
			} else if out := strings.TrimSpace(e.ok("run", "--bundle", b.dir, id)); out != tc.want {
				t.Errorf("bind asked rw,suid,dev of a ro,nosuid,nodev source: %q, want %q", out, tc.want)
			}
			e.assertNoLeftovers(id)
		})
	}
}

func removeNamespace(nss []specs.LinuxNamespace, typ specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != typ {
			out = append(out, ns)
		}
	}
	return out
}

// What a container can read of the host that it has no use for: /sys/kernel/vmcoreinfo
// (the physical address of the kernel's crash notes, a KASLR bypass) reads empty, and
// /proc is mounted nosuid,nodev,noexec whatever the spec says (runc's template gives no
// options). Before: the address was readable and /proc had none of the three.
func TestInfoLeaksClosed(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/vmcoreinfo"); err != nil {
		t.Fatalf("this host has no /sys/kernel/vmcoreinfo to test with: %v", err)
	}
	e := newEnv(t)
	b := e.newBundle("sh", "-c", `echo "vmcoreinfo=$(cat /sys/kernel/vmcoreinfo)"; grep ' /proc ' /proc/self/mountinfo`).edit(t, func(s *specs.Spec) {
		for i := range s.Mounts {
			if s.Mounts[i].Type == "proc" {
				s.Mounts[i].Options = nil
			}
		}
	})
	id := uniqueID("leaks")
	out := e.ok("run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
	if !strings.Contains(out, "vmcoreinfo=\n") {
		t.Errorf("/sys/kernel/vmcoreinfo readable:\n%s", out)
	}
	var procOpts string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[4] == "/proc" {
			procOpts = f[5]
		}
	}
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if !strings.Contains(","+procOpts+",", ","+o+",") {
			t.Errorf("/proc mounted %q, without %s", procOpts, o)
		}
	}
}

// loopDeviceBundle is a bundle under a profile that admits /dev/loop0 (devices.allow) and
// the host's user namespace, as a real disk's owner needs, whose process opens
// /dev/loop0; rules edits the spec's device cgroup rules.
func loopDeviceBundle(t *testing.T, e *env, rules func([]specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup) *bundle {
	t.Helper()
	if _, err := os.Stat("/dev/loop0"); err != nil {
		t.Fatalf("this host has no /dev/loop0 to test with: %v", err)
	}
	e.writeConfig(e.baseConfig() + "\n[profiles.loop.devices]\nallow = [\"/dev/loop0\"]\n[profiles.loop.userns]\nallow_host = true\n")
	return e.newBundle("sh", "-c", "exec 3</dev/loop0 && echo opened").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "loop"}
		s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.UserNamespace)
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		mode := os.FileMode(0o600)
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/loop0", Type: "b", Major: 7, Minor: 0, FileMode: &mode})
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Devices = rules(s.Linux.Resources.Devices)
	})
}

// A block device an administrator admits by devices.allow keeps its device cgroup rule
// (it was dropped: only character devices were kept), so the container can open it as
// under runc.
func TestAllowedBlockDevice(t *testing.T) {
	e := newEnv(t)
	seven, zero := int64(7), int64(0)
	b := loopDeviceBundle(t, e, func(rules []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
		return append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "b", Major: &seven, Minor: &zero, Access: "rw"})
	})
	id := uniqueID("blockdev")
	if out := strings.TrimSpace(e.ok("run", "--bundle", b.dir, id)); out != "opened" {
		t.Errorf("/dev/loop0 in the container: %q, want opened", out)
	}
	e.assertNoLeftovers(id)
}

// A device cgroup whose first rule denies one access to every device (mknod) does not
// start by denying every device: yoroi puts a deny-all rule before it (the spec was
// refused by the rule's own postcondition, FuzzApply found), and a device the container
// has a node of but no allow rule for stays closed to it.
func TestPartialDenyFirstDeviceRule(t *testing.T) {
	e := newEnv(t)
	b := loopDeviceBundle(t, e, func(rules []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
		return append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "m"}}, rules...)
	})
	id := uniqueID("denym")
	r := e.run("run", "--bundle", b.dir, id)
	if r.code == 0 || strings.Contains(r.stdout, "opened") {
		t.Errorf("/dev/loop0 opened without an allow rule: exit %d, %q", r.code, r.stdout)
	}
	if strings.Contains(r.stderr, "yoroi") || !strings.Contains(r.stderr, "not permitted") {
		t.Errorf("the container's open of /dev/loop0: %q, want the device cgroup's EPERM (not a refusal)", r.stderr)
	}
	e.assertNoLeftovers(id)
}
