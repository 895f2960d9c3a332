package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The tests in this file need what only some hosts have: AppArmor enabled, SELinux
// enforcing, a cgroup v2 only hierarchy, systemd as pid 1. They run wherever the host has
// it, and TestGuests boots Debian guests that do (guest_test.go); elsewhere they skip,
// saying what the host lacks.

func appArmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	if err != nil || strings.TrimSpace(string(data)) != "Y" {
		return false
	}
	_, err = os.Stat("/sys/kernel/security/apparmor/profiles")
	return err == nil
}

func seLinuxEnforcing() bool {
	data, err := os.ReadFile("/sys/fs/selinux/enforce")
	return err == nil && strings.TrimSpace(string(data)) == "1"
}

func cgroupV2Only() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func systemdRunning() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// kernelLog is the kernel's ring buffer (AppArmor's audit records land there when no
// audit daemon runs).
func kernelLog(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dmesg").CombinedOutput()
	if err != nil {
		t.Fatalf("dmesg: %v: %s", err, out)
	}
	return string(out)
}

// Under AppArmor the container runs in yoroi's generated profile in enforce mode (loaded
// by yoroi), an access the profile does not allow is denied with an audit record, and
// "unconfined" or a profile that is not loaded is refused.
func TestAppArmorConfinesContainer(t *testing.T) {
	if !appArmorEnabled() {
		t.Skip("AppArmor is not enabled on this host (TestGuests runs this in a guest that has it)")
	}
	e := newEnv(t)
	// A netlink datagram socket: seccomp lets NETLINK_ROUTE through, the profile (which
	// allows only netlink raw) denies it, and says so.
	b := e.newBundle("sh", "-c", "cat /proc/self/attr/current; echo; testprog probe 'socket(netlink-dgram)'")
	out := e.ok("run", "--bundle", b.dir, uniqueID("apparmor"))
	if !strings.Contains(out, "yoroi-default (enforce)") {
		t.Errorf("the container's AppArmor label: %q", out)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "13") {
		t.Errorf("netlink datagram socket under yoroi-default: errno %q, want 13 (EACCES)", out)
	}
	if log := kernelLog(t); !strings.Contains(log, `apparmor="DENIED"`) || !strings.Contains(log, `profile="yoroi-default"`) || !strings.Contains(log, `family="netlink"`) {
		t.Errorf("no audit record of the denial:\n%s", lastLines(log, 20))
	}
	data, err := os.ReadFile("/sys/kernel/security/apparmor/profiles")
	if err != nil || !strings.Contains(string(data), "yoroi-default (enforce)") {
		t.Errorf("yoroi-default is not loaded in enforce mode: %v\n%s", err, data)
	}
	for _, tc := range []struct{ profile, want string }{
		{"unconfined", `refused by rule mac.apparmor: AppArmor profile "unconfined" requested`},
		{"no-such-profile", `refused by rule mac.apparmor: AppArmor profile "no-such-profile" is not loaded`},
	} {
		b := e.newBundle("true").edit(t, func(s *specs.Spec) { s.Process.ApparmorProfile = tc.profile })
		id := uniqueID("apparmor-refused")
		e.fails(tc.want, "run", "--bundle", b.dir, id)
		e.assertNoLeftovers(id)
	}
	// An exec'd process is in the container's profile too.
	id := e.running("apparmor-exec")
	if out := e.ok("exec", id, "cat", "/proc/self/attr/current"); !strings.Contains(out, "yoroi-default (enforce)") {
		t.Errorf("exec'd process' AppArmor label: %q", out)
	}
	e.ok("kill", id, "KILL")
}

// Docker on an AppArmor host loads its own docker-default profile and names it in the
// spec: yoroi keeps it (it is loaded and confines), for init and for docker exec.
func TestAppArmorDockerDefault(t *testing.T) {
	if !appArmorEnabled() {
		t.Skip("AppArmor is not enabled on this host (TestGuests runs this in a guest that has it)")
	}
	d := startDockerd(t)
	name := uniqueID("docker-default")
	out, err := d.docker("run", "-d", "--name", name, "--runtime", "yoroi", "--network", "none", "busybox:yoroi", "sleep", "1000")
	if err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = d.docker("rm", "-f", name) })
	for _, args := range [][]string{{"exec", name, "cat", "/proc/1/attr/current"}, {"exec", name, "cat", "/proc/self/attr/current"}} {
		out, err := d.docker(args...)
		if err != nil || !strings.Contains(out, "docker-default (enforce)") {
			t.Errorf("docker %v: %q %v", args, out, err)
		}
	}
}

// Where none of the accepted providers is in force (AppArmor and SELinux compiled in but
// disabled, Landlock not accepted), every create is refused and nothing is left behind.
func TestNoAcceptedMACRefused(t *testing.T) {
	if appArmorEnabled() || seLinuxEnforcing() {
		t.Skip("AppArmor or SELinux is in force on this host")
	}
	newEnv(t).refusedUnder("[mac]\naccept = [\"apparmor\", \"selinux\"]\n", "refused by rule mac", "no-mac")
}

// refusedUnder runs a container under the tests' config plus extra and checks that it is
// refused with want and leaves nothing behind.
func (e *env) refusedUnder(extra, want, prefix string) {
	e.t.Helper()
	e.writeConfig(e.baseConfig() + "\n" + extra)
	id := uniqueID(prefix)
	e.fails(want, "run", "--bundle", e.newBundle("true").dir, id)
	e.assertNoLeftovers(id)
}

// SELinux enforcing: each container's process in container_t with a category pair of its
// own, its tmpfs mounts labelled container_file_t with the same pair, and a container
// cannot read what another one wrote to a volume they share; spc_t is refused.
func TestSELinuxConfinesContainers(t *testing.T) {
	if !seLinuxEnforcing() {
		t.Skip("SELinux is not enforcing on this host (TestGuests runs this in a guest that is)")
	}
	e := newEnv(t)
	// A volume both containers get, labelled as engines label volumes.
	vol := privateDir(t)
	if out, err := exec.Command("chcon", "-t", "container_file_t", vol).CombinedOutput(); err != nil {
		t.Fatalf("chcon: %v: %s", err, out)
	}
	withVolume := func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}})
	}
	const view = "tr -d '\\0' </proc/self/attr/current; echo; grep ' /tmp ' /proc/self/mountinfo"
	// label checks one container's view: its label, and its /tmp labelled to match.
	label := func(out string) string {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], "system_u:system_r:container_t:s0:c") {
			t.Fatalf("container's SELinux label: %q", out)
		}
		mcs := lines[0][strings.LastIndex(lines[0], ":")+1:]
		if !strings.Contains(lines[1], `context="system_u:object_r:container_file_t:s0:`+mcs+`"`) {
			t.Errorf("scratch /tmp mount %q, want the context container_file_t with %s", lines[1], mcs)
		}
		return mcs
	}
	first := e.newBundle("sh", "-c", "echo secret > /vol/first && exec sleep 1000").edit(t, withVolume)
	a := uniqueID("selinux-a")
	e.ok("run", "--detach", "--bundle", first.dir, a)
	t.Cleanup(func() { e.run("delete", "--force", a) })
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(vol, "first")); return err == nil }, "the first container's file")
	mcsA := label(e.ok("exec", a, "sh", "-c", view))
	if out := e.ok("exec", a, "cat", "/vol/first"); strings.TrimSpace(out) != "secret" {
		t.Errorf("a container cannot read back what it wrote: %q", out)
	}
	second := e.newBundle("sh", "-c", view+"; cat /vol/first 2>&1; true").edit(t, withVolume)
	out := e.ok("run", "--bundle", second.dir, uniqueID("selinux-b"))
	if mcsB := label(out); mcsB == mcsA {
		t.Errorf("two containers share the categories %s", mcsA)
	}
	if !strings.Contains(out, "Permission denied") || strings.Contains(out, "secret") {
		t.Errorf("a container read another one's file: %q", out)
	}
	b := e.newBundle("true").edit(t, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:spc_t:s0" })
	id := uniqueID("selinux-spc")
	e.fails("refused by rule mac.selinux", "run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// A process type the loaded policy does not define (Debian's policy has no container_t
// unless a container module is installed) is refused with the key to change, instead of
// failing in the container's init with the kernel's EINVAL.
func TestSELinuxUndefinedTypeRefused(t *testing.T) {
	if !seLinuxEnforcing() {
		t.Skip("SELinux is not enforcing on this host (TestGuests runs this in a guest that is)")
	}
	newEnv(t).refusedUnder("[mac]\nselinux_type = \"no_such_container_t\"\n",
		"SELinux type no_such_container_t is not defined by the loaded policy", "selinux-undefined")
}

// SELinux in permissive mode confines nothing: it does not count as in force, and with
// only SELinux accepted every create is refused. An enforcing host is made permissive for
// the test and set back.
func TestSELinuxPermissiveNotInForce(t *testing.T) {
	data, err := os.ReadFile("/sys/fs/selinux/enforce")
	if err != nil {
		t.Skip("SELinux is not enabled on this host (TestGuests runs this in a guest where it is)")
	}
	if strings.TrimSpace(string(data)) == "1" {
		if err := os.WriteFile("/sys/fs/selinux/enforce", []byte("0"), 0); err != nil {
			t.Fatalf("setenforce 0: %v", err)
		}
		t.Cleanup(func() {
			if err := os.WriteFile("/sys/fs/selinux/enforce", []byte("1"), 0); err != nil {
				t.Errorf("setenforce 1: %v", err)
			}
		})
	}
	e := newEnv(t)
	if out := e.run("check").stdout; !strings.Contains(out, "permissive (does not count)") {
		t.Errorf("check on a permissive host:\n%s", out)
	}
	e.refusedUnder("[mac]\naccept = [\"selinux\"]\n", "refused by rule mac", "selinux-permissive")
}

// kernelAtLeast reports whether the running kernel is at least major.minor.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatal(err)
	}
	return ma > major || ma == major && mi >= minor
}

// A volume on tmpfs (Kubernetes' secrets and service account tokens are): id-mapped where
// the kernel can (Linux 6.3), refused where it cannot, with the volume, the filesystem and
// what to do named, never the kernel's bare EINVAL from mount_setattr.
func TestTmpfsVolume(t *testing.T) {
	// A tmpfs of the test's own, as the kubelet mounts one per secret volume.
	src := privateDir(t)
	if err := unix.Mount("tmpfs", src, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
	if err := os.Chmod(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "token"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	b := e.newBundle("sh", "-c", "stat -c '%u %U' /secrets/token; cat /secrets/token").edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/secrets", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
	})
	id := uniqueID("tmpfs-volume")
	if kernelAtLeast(t, 6, 3) {
		if out := e.ok("run", "--bundle", b.dir, id); out != "0 root\nsecret\n" {
			t.Errorf("the tmpfs volume inside: %q, want it owned by the container's root", out)
		}
		return
	}
	e.fails("refused by rule rootfs.idmap: the volume at /secrets ("+src+") is on tmpfs, which this kernel cannot id-map", "run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// cgroupPathFor is where a container's cgroup lands on a unified hierarchy.
func cgroupPathFor(systemd bool, id string) string {
	if systemd {
		return filepath.Join("/sys/fs/cgroup/system.slice", "yoroi-"+id+".scope")
	}
	return filepath.Join("/sys/fs/cgroup/yoroi", id)
}

// On a cgroup v2 only host, with the systemd driver (Kubernetes') where systemd runs and
// the cgroupfs driver: the pids, memory and cpu limits land in the container's cgroup,
// update changes them, events --stats reports, pause and resume freeze and thaw, and
// delete leaves no cgroup (and no systemd unit) behind.
func TestCgroupV2Limits(t *testing.T) {
	if !cgroupV2Only() {
		t.Skip("this host's /sys/fs/cgroup is not a cgroup v2 only hierarchy (TestGuests runs this in guests)")
	}
	drivers := []bool{false}
	if systemdRunning() {
		drivers = append(drivers, true)
	}
	for _, systemd := range drivers {
		name := "cgroupfs"
		if systemd {
			name = "systemd"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			if systemd {
				e.globalArgs = []string{"--systemd-cgroup"}
			}
			id := uniqueID("cg2")
			b := e.newBundle("sleep", "infinity").edit(t, func(s *specs.Spec) {
				if systemd {
					s.Linux.CgroupsPath = "system.slice:yoroi:" + id
				} else {
					s.Linux.CgroupsPath = "/yoroi/" + id
				}
				s.Linux.Resources = &specs.LinuxResources{
					Pids:   &specs.LinuxPids{Limit: ptrTo(int64(64))},
					Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20))},
					CPU:    &specs.LinuxCPU{Quota: ptrTo(int64(50000)), Period: ptrTo(uint64(100000))},
				}
			})
			e.ok("run", "--detach", "--bundle", b.dir, id)
			dir := cgroupPathFor(systemd, id)
			read := func(file string) string {
				data, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Errorf("%v", err)
				}
				return strings.TrimSpace(string(data))
			}
			for file, want := range map[string]string{"pids.max": "64", "memory.max": "67108864", "cpu.max": "50000 100000"} {
				if got := read(file); got != want {
					t.Errorf("%s: %q, want %q", file, got, want)
				}
			}
			if out := e.ok("exec", id, "cat", "/proc/self/cgroup"); strings.TrimSpace(out) != "0::/" {
				t.Errorf("the container's view of its cgroup: %q (want its own namespace's root)", out)
			}
			e.ok("update", "--pids-limit", "32", "--memory", "128M", id)
			if read("pids.max") != "32" || read("memory.max") != "134217728" {
				t.Errorf("after update: pids.max %s, memory.max %s", read("pids.max"), read("memory.max"))
			}
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Pids struct {
						Current uint64 `json:"current"`
						Limit   uint64 `json:"limit"`
					} `json:"pids"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(e.ok("events", "--stats", id)), &ev); err != nil || ev.Type != "stats" || ev.Data.Pids.Current == 0 || ev.Data.Pids.Limit != 32 {
				t.Errorf("events --stats: %+v %v", ev, err)
			}
			e.ok("pause", id)
			if st := e.state(id); st.Status != specs.ContainerState("paused") || read("cgroup.freeze") != "1" {
				t.Errorf("paused: status %s, cgroup.freeze %s", st.Status, read("cgroup.freeze"))
			}
			e.ok("resume", id)
			if read("cgroup.freeze") != "0" {
				t.Errorf("resumed: cgroup.freeze %s", read("cgroup.freeze"))
			}
			e.ok("delete", "--force", id)
			e.assertNoLeftovers(id)
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("cgroup %s left behind", dir)
			}
			if systemd {
				if out, _ := exec.Command("systemctl", "list-units", "--all", "--no-legend", "yoroi-"+id+".scope").CombinedOutput(); strings.Contains(string(out), id) {
					t.Errorf("systemd unit left behind: %s", out)
				}
			}
		})
	}
}

// yoroi check tells what this host offers, as the host is.
func TestCheckReportsHost(t *testing.T) {
	e := newEnv(t)
	out := e.run("check").stdout
	abi, _, _ := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, 1) // LANDLOCK_CREATE_RULESET_VERSION
	want := map[string]bool{
		"apparmor  ok  enabled":                        appArmorEnabled(),
		"cgroup    ok  v2 (unified)":                   cgroupV2Only(),
		"selinux   ok  enforcing":                      seLinuxEnforcing(),
		fmt.Sprintf("landlock  ok  ABI %d ", int(abi)): true,
	}
	for line, present := range want {
		if strings.Contains(out, line) != present {
			t.Errorf("check: %q present=%v, want %v:\n%s", line, !present, present, out)
		}
	}
	t.Logf("yoroi check on this host:\n%s", out)
}

func ptrTo[T any](v T) *T { return &v }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
