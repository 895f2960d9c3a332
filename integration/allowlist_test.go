package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// files.exec, files.read and files.write: Landlock holds the workload and every process
// exec'd into the container to them.
func TestLandlockAllowLists(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + `
[profiles.test-files.files]
exec = ["/bin/busybox"]
read = ["/bin", "/etc/passwd"]
write = ["/tmp", "/dev/null"]
`)
	script := `/bin/testprog syscalls >/dev/null 2>&1; echo testprog=$?
cat /etc/passwd >/dev/null && echo passwd=read
cat /etc/group >/dev/null 2>&1; echo group=$?
ls /etc >/dev/null && echo etc=listed
echo x >/tmp/x && echo tmp=written
echo x >/run/x 2>/dev/null; echo run=$?`
	root := rootfsWithGroup(t)
	b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
		s.Root.Path = root
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-files"}
	})
	id := uniqueID("allowlists")
	out := e.ok("run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
	for _, want := range []string{"testprog=126", "passwd=read", "group=1", "etc=listed", "tmp=written", "run=1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
	if d := decisionsOf(e, id, "mac.landlock"); !strings.Contains(d, "execute only [/bin/busybox]; read the image's files only beneath [/bin /etc/passwd]") || !strings.Contains(d, "write only beneath [/tmp /dev/null]") {
		t.Errorf("decisions: %s", d)
	}
	// Without the profile, the same script runs everything.
	b.edit(t, func(s *specs.Spec) { s.Annotations = nil })
	out = e.ok("run", "--bundle", b.dir, uniqueID("allowlists-off"))
	for _, want := range []string{"group=0", "run=0"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("without allow-lists, %q missing:\n%s", want, out)
		}
	}

	// exec'd processes are held to the same lists.
	running := e.newBundle("sleep", "1000").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-files"}
	})
	id = uniqueID("allowlists-exec")
	e.ok("run", "-d", "--bundle", running.dir, id)
	t.Cleanup(func() { e.run("delete", "-f", id) })
	if r := e.run("exec", id, "/bin/testprog", "syscalls"); r.code != 126 {
		t.Errorf("exec of a program off files.exec: exit %d, %s", r.code, r.stderr)
	}
	if out := e.ok("exec", id, "cat", "/etc/passwd"); !strings.Contains(out, "root:") {
		t.Errorf("exec cat /etc/passwd: %q", out)
	}
}

// yoroi profile record writes files.exec and files.read from one run; under that profile
// the workload runs, and what it never ran or read is denied.
func TestProfileRecordAllowLists(t *testing.T) {
	e := newEnv(t)
	root := rootfsWithGroup(t)
	b := e.newBundle("sh", "-c", "cat /etc/passwd >/dev/null && echo ran").edit(t, func(s *specs.Spec) { s.Root.Path = root })
	profile := filepath.Join(privateDir(t), "app.toml")
	id := uniqueID("record-files")
	if out := e.ok("profile", "record", "--bundle", b.dir, "--toml", profile, "--profile-name", "app", id); strings.TrimSpace(out) != "ran" {
		t.Fatalf("recording run: %q", out)
	}
	data, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := hardening.ParseConfig(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	p, _ := cfg.Policy("app")
	if strings.Join(p.Files.Exec, ",") != "/bin/busybox" || !strings.Contains(strings.Join(p.Files.Read, ","), "/etc/passwd") {
		t.Fatalf("recorded files.exec %v, files.read %v\n%s", p.Files.Exec, p.Files.Read, data)
	}
	e.writeConfig(e.baseConfig() + "\n" + string(data))
	b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{hardening.ProfileAnnotation: "app"} })
	if out := e.ok("run", "--bundle", b.dir, uniqueID("recorded-files")); strings.TrimSpace(out) != "ran" {
		t.Errorf("under the recorded profile: %q", out)
	}
	b.edit(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "cat /etc/group >/dev/null 2>&1; echo group=$?; /bin/testprog x >/dev/null 2>&1; echo testprog=$?"}
	})
	if out := e.ok("run", "--bundle", b.dir, uniqueID("recorded-files-off")); !strings.Contains(out, "group=1") || !strings.Contains(out, "testprog=126") {
		t.Errorf("off the recorded lists: %q", out)
	}
}

// rootfsWithGroup is a private copy of the busybox root filesystem with an /etc/group.
func rootfsWithGroup(t *testing.T) string {
	t.Helper()
	root := copyRootfs(t)
	if err := os.WriteFile(filepath.Join(root, "etc", "group"), []byte("root:x:0:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}
