package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Bad input gets one clear line on stderr, a non-zero exit, and leaves nothing behind.
func TestBadInput(t *testing.T) {
	e := newEnv(t)

	t.Run("missing bundle", func(t *testing.T) {
		id := uniqueID("nobundle")
		e.fails("does not exist", "create", "--bundle", filepath.Join(t.TempDir(), "nope"), id)
		e.assertNoLeftovers(id)
	})
	t.Run("bundle without config.json", func(t *testing.T) {
		id := uniqueID("noconfig")
		e.fails("config.json not found", "create", "--bundle", t.TempDir(), id)
		e.assertNoLeftovers(id)
	})
	for name, content := range map[string]string{
		"malformed":      `{"ociVersion": "1.0.2", "process": `,
		"not an object":  `[1, 2, 3]`,
		"null":           `null`,
		"trailing data":  `{"ociVersion":"1.0.2"} {}`,
		"no process":     `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{}}`,
		"relative cwd":   `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{},"process":{"cwd":"tmp","args":["sh"]}}`,
		"no args":        `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{},"process":{"cwd":"/"}}`,
		"no linux block": `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]}}`,
	} {
		t.Run("config "+name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			id := uniqueID("badcfg")
			e.fails("config", "create", "--bundle", dir, id)
			e.assertNoLeftovers(id)
		})
	}
	t.Run("rootfs missing", func(t *testing.T) {
		b := e.newBundle("true").edit(t, func(s *specs.Spec) { s.Root.Path = "/no/such/rootfs" })
		id := uniqueID("norootfs")
		e.fails("rootfs", "run", "--bundle", b.dir, id)
		e.assertNoLeftovers(id)
	})
	t.Run("unknown container", func(t *testing.T) {
		id := uniqueID("unknown")
		for _, args := range [][]string{
			{"state", id}, {"start", id}, {"kill", id}, {"delete", id}, {"pause", id},
			{"resume", id}, {"ps", id}, {"events", "--stats", id}, {"update", "--pids-limit", "5", id},
		} {
			e.fails("does not exist", args...)
		}
		if r := e.fails("does not exist", "exec", id, "true"); r.code != 255 {
			t.Errorf("exec into an unknown container: exit %d, want 255", r.code)
		}
		// delete --force of something that does not exist is not an error (containerd
		// relies on this for cleanup).
		e.ok("delete", "--force", id)
		e.assertNoLeftovers(id)
	})
	t.Run("duplicate id", func(t *testing.T) {
		b := e.newBundle("sleep", "1000")
		id := uniqueID("dup")
		e.ok("create", "--bundle", b.dir, id)
		first := e.state(id)
		e.fails("already exists", "create", "--bundle", b.dir, id)
		e.fails("already exists", "run", "--bundle", b.dir, id)
		// The first container is untouched.
		if st := e.state(id); st.Pid != first.Pid || st.Status != specs.StateCreated {
			t.Fatalf("original container changed: %+v -> %+v", first, st)
		}
		e.ok("delete", id)
		e.assertNoLeftovers(id)
	})
	t.Run("start twice", func(t *testing.T) {
		b := e.newBundle("sleep", "1000")
		id := uniqueID("twice")
		e.ok("create", "--bundle", b.dir, id)
		e.ok("start", id)
		e.fails("already running", "start", id)
		e.fails("that is running", "delete", id)
		if st := e.state(id); st.Status != specs.StateRunning {
			t.Fatalf("delete without --force changed the container: %s", st.Status)
		}
		e.ok("delete", "--force", id)
		e.assertNoLeftovers(id)
	})
	t.Run("start stopped", func(t *testing.T) {
		b := e.newBundle("true")
		id := uniqueID("stopped")
		e.ok("run", "--keep", "--bundle", b.dir, id)
		e.waitStatus(id, specs.StateStopped)
		e.fails("has stopped", "start", id)
		e.fails("not running", "kill", id)
		e.ok("kill", "--all", id, "KILL")
		e.ok("delete", id)
		e.assertNoLeftovers(id)
	})
	t.Run("bad arguments", func(t *testing.T) {
		e.fails("requires exactly 1 argument", "create")
		e.fails("unknown signal", "kill", "x", "SIGNOPE")
		e.fails("--format", "list", "--format", "yaml")
		e.fails("log-format", "--log-format", "xml", "list")
	})
}
