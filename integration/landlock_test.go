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

// Landlock, enforced for real on this host (ABI ≥ 1), confines the workload itself.
func TestLandlockConfinesWorkload(t *testing.T) {
	e := newEnv(t)
	// A world-readable host directory: only Landlock stands between it and the container.
	hostDir := t.TempDir()
	for _, d := range []string{filepath.Dir(hostDir), hostDir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(hostDir, "secret"), []byte("host-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirFd, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dirFd.Close()
	// Files passed as descriptors may be reopened by /proc/self/fd/N for what their
	// descriptor was opened for, and no more.
	readable := filepath.Join(hostDir, "readable")
	if err := os.WriteFile(readable, []byte("passed-file\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	readFd, err := os.Open(readable)
	if err != nil {
		t.Fatal(err)
	}
	defer readFd.Close()
	writable := filepath.Join(hostDir, "writable")
	writeFd, err := os.OpenFile(writable, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer writeFd.Close()
	// Both writable by the container's root, who is not the host's (the user namespace):
	// only Landlock keeps the read-only one from being written.
	for _, f := range []string{readable, writable} {
		if err := os.Chmod(f, 0o666); err != nil {
			t.Fatal(err)
		}
	}

	script := `
echo "argv: $(tr '\0' ' ' < /proc/$$/cmdline)"
echo "pid: $$"
echo "pid1: $(tr '\0' ' ' < /proc/1/cmdline)"
echo "env: $YOROI_TEST_ENV"
echo x > /etc/landlock-probe; echo "write-root=$?"
echo x > /tmp/ok; echo "write-tmp=$?"
cp /bin/busybox /tmp/true && /tmp/true; echo "exec-tmp=$?"
grep ' /tmp ' /proc/mounts
cat /proc/self/fd/3/secret; echo "read-outside=$?"
cat /proc/self/fd/4; echo "read-passed=$?"
echo y >> /proc/self/fd/4; echo "write-read-passed=$?"
echo appended >> /proc/self/fd/5; echo "write-passed=$?"
cat /proc/self/fd/5; echo "read-write-passed=$?"
/bin/true; echo "exec-rootfs=$?"
`
	b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
		// The admin profile makes the root writable, as runc leaves it: Landlock lets
		// the workload write there (it still reads nothing outside the container and
		// executes nothing from /tmp).
		s.Annotations = map[string]string{"org.yoroi.profile": "test-writable-root"}
		s.Root.Readonly = false
		s.Root.Path = copyRootfs(t)
		s.Process.Env = append(s.Process.Env, "YOROI_TEST_ENV=kept")
	})
	cmd := e.cmd("run", "--preserve-fds", "3", "--bundle", b.dir, uniqueID("landlock"))
	cmd.ExtraFiles = []*os.File{dirFd, readFd, writeFd}
	r := e.runCmd(cmd)
	out := r.stdout + r.stderr
	for _, want := range []string{
		"argv: sh -c ", "pid: 1\n", "pid1: sh -c ", "env: kept",
		"write-root=0", "write-tmp=0", "exec-tmp=126", "read-outside=1", "exec-rootfs=0",
		"Permission denied", "passed-file\nread-passed=0", "write-read-passed=1",
		"write-passed=0", "read-write-passed=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "host-secret") || strings.Contains(out, "Read-only file system") {
		t.Errorf("read outside the allowed set, or the writable root was not:\n%s", out)
	}
	if data, _ := os.ReadFile(readable); string(data) != "passed-file\n" {
		t.Errorf("a file passed read-only was written: %q", data)
	}
	if data, _ := os.ReadFile(writable); string(data) != "appended\n" {
		t.Errorf("the file passed for writing holds %q", data)
	}
	// Under the default policy the root is read-only, for the mount and for Landlock.
	b = e.newBundle("sh", "-c", "echo x > /etc/landlock-probe; echo write-root=$?")
	if out := e.ok("run", "--bundle", b.dir, uniqueID("landlock-ro")); !strings.Contains(out, "write-root=1") {
		t.Errorf("default policy wrote to the root:\n%s", out)
	}

	// Exec allowed on the mount by an admin profile: Landlock still denies it.
	b = e.newBundle("sh", "-c", "grep ' /tmp ' /proc/mounts; cp /bin/busybox /tmp/true && /tmp/true; echo exec-tmp=$?").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-exec-mount-only"}
	})
	out = e.ok("run", "--bundle", b.dir, uniqueID("landlock-exec"))
	if strings.Contains(strings.SplitN(out, "\n", 2)[0], "noexec") || !strings.Contains(out, "exec-tmp=126") {
		t.Errorf("exec on an exec-mounted /tmp:\n%s", out)
	}
}

// A symlink in the image's root to a writable mount does not carry the root's execute
// right onto that mount (the launcher grants it on the root's entries themselves, never
// on what a symlink among them points to).
func TestLandlockSymlinkToWritableMount(t *testing.T) {
	e := newEnv(t)
	rootfs := copyRootfs(t)
	if err := os.Symlink("/tmp", filepath.Join(rootfs, "scratch")); err != nil {
		t.Fatal(err)
	}
	b := e.newBundle("sh", "-c", "cp /bin/busybox /tmp/true; /tmp/true; echo exec-tmp=$?; /scratch/true; echo exec-link=$?; /bin/true; echo exec-rootfs=$?").edit(t, func(s *specs.Spec) {
		s.Root.Path = rootfs
		// /tmp without noexec: Landlock is the only layer left against exec there.
		s.Annotations = map[string]string{"org.yoroi.profile": "test-exec-mount-only"}
	})
	out := e.ok("run", "--bundle", b.dir, uniqueID("landlock-symlink"))
	for _, want := range []string{"exec-tmp=126", "exec-link=126", "exec-rootfs=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// Device nodes: Landlock denies creating them unless an administrator's
// mac.landlock_make_devices allows it. In the container's user namespace the kernel then
// allows only an overlay whiteout (character device 0:0), which is what nested image
// builders create; any other device stays the kernel's to refuse. Some kernels (Debian's
// 6.1.0-57 and 6.12.117, not 6.1.0-50 nor 6.18) let a whiteout be made wherever Landlock
// lets a process write: there the default policy cannot deny it, and the test says so.
func TestLandlockMakeDevices(t *testing.T) {
	e := newEnv(t)
	whiteout := "whiteout=1"
	if exempt, err := exec.Command(filepath.Join(rootfsTemplate, "bin", "testprog"), "whiteout-under-landlock", t.TempDir()).Output(); err != nil {
		t.Fatalf("testprog whiteout-under-landlock: %v", err)
	} else if strings.TrimSpace(string(exempt)) == "0" {
		t.Log("this kernel does not hold whiteouts to LANDLOCK_ACCESS_FS_MAKE_CHAR")
		whiteout = "whiteout=0"
	}
	script := "mknod /tmp/whiteout c 0 0; echo whiteout=$?; mknod /tmp/null c 1 3; echo null=$?"
	out := e.ok("run", "--bundle", e.newBundle("sh", "-c", script).dir, uniqueID("mknod"))
	if !strings.Contains(out, whiteout) || !strings.Contains(out, "null=1") {
		t.Errorf("the default policy created a device node (want %s, null=1):\n%s", whiteout, out)
	}
	b := e.newBundle("sh", "-c", script+"; ls -l /tmp/whiteout").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-make-devices"}
	})
	out = e.ok("run", "--bundle", b.dir, uniqueID("mknod-allowed"))
	if !strings.Contains(out, "whiteout=0") || !strings.Contains(out, "null=1") || !strings.Contains(out, "0,   0") {
		t.Errorf("with mac.landlock_make_devices, want the whiteout and not the device:\n%s", out)
	}
}

func TestLandlockConfinesExec(t *testing.T) {
	e := newEnv(t)
	id := e.running("landlock-exec-process")
	r := e.run("exec", id, "sh", "-c", "cp /bin/busybox /tmp/true && /tmp/true; echo exec-tmp=$?; echo x > /proc/sysrq-trigger; echo \"$(tr '\\0' ' ' < /proc/$$/cmdline)\"")
	if !strings.Contains(r.stdout, "exec-tmp=126") || !strings.Contains(r.stdout, "sh -c cp") {
		t.Errorf("exec'd process: stdout %q stderr %q", r.stdout, r.stderr)
	}
	// A missing binary is still reported by exec itself (exit 255), not by the launcher.
	if r := e.run("exec", id, "/no/such/binary"); r.code != 255 || !strings.Contains(r.stderr, "stat /no/such/binary: no such file or directory") {
		t.Errorf("missing binary: exit %d %q", r.code, r.stderr)
	}
}

// With only AppArmor and SELinux accepted, this host (Landlock only) confines nothing:
// every create is refused, with what was found and how to fix it.
func TestNoMACRefused(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(strings.Replace(readTrim(t, e.config), "[audit]", "[mac]\naccept = [\"apparmor\", \"selinux\"]\n\n[audit]", 1))
	b := e.newBundle("true")
	id := uniqueID("nomac")
	r := e.fails("refused by rule mac: no accepted mandatory access control is in force", "run", "--bundle", b.dir, id)
	for _, want := range []string{"accepted: apparmor, selinux", "Landlock ABI", "no AppArmor", "(allow it with mac.accept in a profile)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal lacks %q: %s", want, r.stderr)
		}
	}
	e.assertNoLeftovers(id)
	if c := e.run("check"); c.code == 0 || !strings.Contains(c.stdout, "mac       FAIL") {
		t.Errorf("check with no MAC in force: exit %d\n%s", c.code, c.stdout)
	}
}

// checkReport is `yoroi check --format json`.
type checkReport struct {
	Ready  bool        `json:"ready"`
	Checks []checkItem `json:"checks"`
}

// checkItem is one of its checks.
type checkItem struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	var out checkReport
	if err := json.Unmarshal([]byte(e.ok("check", "--format", "json")), &out); err != nil {
		t.Fatal(err)
	}
	if !out.Ready {
		t.Errorf("host not ready: %+v", out)
	}
	ok := map[string]bool{}
	for _, c := range out.Checks {
		ok[c.Name] = c.OK
	}
	for _, name := range []string{"landlock", "mac", "userns", "idmap", "seccomp", "exe-seal"} {
		if !ok[name] {
			t.Errorf("check %s not ok: %+v", name, out.Checks)
		}
	}

	// With the state root beneath the binary's directory, libcontainer cannot seal the
	// binary with an overlay and copies it for every container's init and exec: check says
	// so, and why, without calling the host unready.
	dir := t.TempDir()
	bin := filepath.Join(dir, "yoroi")
	data, err := os.ReadFile(yoroiBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--root", filepath.Join(dir, "state"), "check", "--format", "json")
	cmd.Env = append(os.Environ(), "YOROI_CONFIG="+e.config)
	r := e.runCmd(cmd)
	var nested checkReport
	if err := json.Unmarshal([]byte(r.stdout), &nested); err != nil || r.code != 0 || !nested.Ready {
		t.Fatalf("check with the state root beneath the binary: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	seal := false
	for _, c := range nested.Checks {
		if c.Name == "exe-seal" {
			seal = !c.OK && strings.Contains(c.Detail, "a copy of the binary (") && strings.Contains(c.Detail, "is beneath the binary's directory "+dir)
		}
	}
	if !seal {
		t.Errorf("exe-seal with the state root beneath the binary: %+v", nested.Checks)
	}
}

// A profile gives a workload runc's no_new_privs behaviour: off when the spec leaves it
// off, so a setuid-root program runs as root; the workload is still confined by Landlock
// and its capabilities are the spec's (the launcher's own CAP_SYS_ADMIN is gone). By
// default, and when the spec asks for no_new_privs, setuid does nothing.
func TestNewPrivilegesRelaxedByProfile(t *testing.T) {
	e := newEnv(t)
	rootfs := suidRootfs(t)
	script := "grep -E '^(NoNewPrivs|CapEff|CapBnd):' /proc/self/status; suid-testprog euid; echo x > /etc/probe; echo write-root=$?"
	for _, tc := range []struct {
		name, profile string
		nnp           bool
		want          []string
	}{
		{"profile, spec without no_new_privs", "test-new-privileges", false, []string{"NoNewPrivs:\t0", "euid=0", "CapEff:\t0000000000000000", "write-root=1"}},
		{"default policy", "", false, []string{"NoNewPrivs:\t1", "euid=1000"}},
		{"profile, spec with no_new_privs", "test-new-privileges", true, []string{"NoNewPrivs:\t1", "euid=1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
				s.Root.Path = rootfs
				s.Process.User = specs.User{UID: 1000, GID: 1000}
				s.Process.NoNewPrivileges = tc.nnp
				if tc.profile != "" {
					s.Annotations = map[string]string{"org.yoroi.profile": tc.profile}
				}
			})
			out := e.ok("run", "--bundle", b.dir, uniqueID("nnp"))
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q in:\n%s", want, out)
				}
			}
			// Neither of the launcher's own capabilities reaches the workload.
			var bnd uint64
			if i := strings.Index(out, "CapBnd:\t"); i < 0 {
				t.Fatalf("no CapBnd in:\n%s", out)
			} else if _, err := fmt.Sscanf(out[i+len("CapBnd:\t"):], "%x", &bnd); err != nil || bnd&(1<<unix.CAP_SYS_ADMIN|1<<unix.CAP_SETPCAP) != 0 {
				t.Errorf("bounding set %x (%v)", bnd, err)
			}
		})
	}
}

// suidRootfs is a private copy of the busybox rootfs with a setuid-root copy of testprog,
// /bin/suid-testprog.
func suidRootfs(t *testing.T) string {
	t.Helper()
	rootfs := copyRootfs(t)
	suid := filepath.Join(rootfs, "bin", "suid-testprog")
	copyTree(t, filepath.Join(rootfs, "bin", "testprog"), suid)
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

// exec follows the same rule: --no-new-privs=false is honoured in a container whose
// profile allows it, and only there.
func TestNewPrivilegesExec(t *testing.T) {
	e := newEnv(t)
	rootfs := suidRootfs(t)
	start := func(profile string) string {
		b := e.newBundle("sleep", "1000").edit(t, func(s *specs.Spec) {
			s.Root.Path = rootfs
			if profile != "" {
				s.Annotations = map[string]string{"org.yoroi.profile": profile}
			}
		})
		id := uniqueID("nnp-exec")
		e.ok("run", "--detach", "--bundle", b.dir, id)
		t.Cleanup(func() { e.run("delete", "--force", id) })
		return id
	}
	probe := []string{"sh", "-c", "grep NoNewPrivs: /proc/self/status; suid-testprog euid"}
	relaxed := start("test-new-privileges")
	if out := e.ok(append([]string{"exec", "--user", "1000:1000", "--no-new-privs=false", relaxed}, probe...)...); !strings.Contains(out, "NoNewPrivs:\t0") || !strings.Contains(out, "euid=0") {
		t.Errorf("profile, --no-new-privs=false:\n%s", out)
	}
	if out := e.ok(append([]string{"exec", "--user", "1000:1000", relaxed}, probe...)...); !strings.Contains(out, "NoNewPrivs:\t1") || !strings.Contains(out, "euid=1000") {
		t.Errorf("profile, exec asking for no_new_privs:\n%s", out)
	}
	strict := start("")
	if out := e.ok(append([]string{"exec", "--user", "1000:1000", "--no-new-privs=false", strict}, probe...)...); !strings.Contains(out, "NoNewPrivs:\t1") || !strings.Contains(out, "euid=1000") {
		t.Errorf("default policy, --no-new-privs=false:\n%s", out)
	}
}
