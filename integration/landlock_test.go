package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
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
/bin/true; echo "exec-rootfs=$?"
`
	b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
		// The admin profile makes the root writable and /tmp exec: Landlock still
		// allows neither.
		s.Annotations = map[string]string{"org.yoroi.profile": "test-writable-root"}
		s.Root.Readonly = false
		s.Process.Env = append(s.Process.Env, "YOROI_TEST_ENV=kept")
	})
	cmd := e.cmd("run", "--preserve-fds", "1", "--bundle", b.dir, uniqueID("landlock"))
	cmd.ExtraFiles = []*os.File{dirFd}
	r := e.runCmd(cmd)
	out := r.stdout + r.stderr
	for _, want := range []string{
		"argv: sh -c ", "pid: 1\n", "pid1: sh -c ", "env: kept",
		"write-root=1", "write-tmp=0", "exec-tmp=126", "read-outside=1", "exec-rootfs=0",
		"Permission denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "host-secret") || strings.Contains(out, "Read-only file system") {
		t.Errorf("read outside the allowed set, or the write was stopped by the mount and not Landlock:\n%s", out)
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

func TestCheck(t *testing.T) {
	e := newEnv(t)
	var out struct {
		Ready  bool `json:"ready"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
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
	for _, name := range []string{"landlock", "mac", "userns", "idmap", "seccomp"} {
		if !ok[name] {
			t.Errorf("check %s not ok: %+v", name, out.Checks)
		}
	}
}
