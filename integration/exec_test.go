package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// running starts a long-running container and registers its deletion.
func (e *env) running(prefix string) string {
	e.t.Helper()
	b := e.newBundle("sleep", "1000")
	id := uniqueID(prefix)
	e.ok("run", "--detach", "--bundle", b.dir, id)
	e.waitStatus(id, specs.StateRunning)
	e.t.Cleanup(func() {
		e.run("delete", "--force", id)
		e.assertNoLeftovers(id)
	})
	return id
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	id := e.running("exec")

	if out := e.ok("exec", id, "sh", "-c", "echo $FOO $(pwd)"); strings.TrimSpace(out) != "/" {
		t.Errorf("exec output %q", out)
	}
	if out := e.ok("exec", "--env", "FOO=bar", "--cwd", "/tmp", id, "sh", "-c", "echo $FOO $(pwd)"); strings.TrimSpace(out) != "bar /tmp" {
		t.Errorf("exec --env --cwd output %q", out)
	}
	// The exec'd process' exit status becomes yoroi's.
	if r := e.run("exec", id, "sh", "-c", "exit 5"); r.code != 5 {
		t.Errorf("exec exit %d, want 5", r.code)
	}
	// Exec joins the container's pid namespace: sleep is pid 1 there.
	if out := e.ok("exec", id, "cat", "/proc/1/comm"); strings.TrimSpace(out) != "sleep" {
		t.Errorf("pid 1 in the exec'd namespace is %q", out)
	}
	if out := e.ok("exec", "--user", "65534:65534", id, "id", "-u"); strings.TrimSpace(out) != "65534" {
		t.Errorf("exec --user: uid %q", out)
	}
	// A failing exec (no such binary) is yoroi's 255, as runc.
	if r := e.run("exec", id, "/no/such/binary"); r.code != 255 || !strings.Contains(r.stderr, "exec failed") {
		t.Errorf("exec of a missing binary: exit %d stderr %q", r.code, r.stderr)
	}

	// process.json, as containerd passes it.
	p := specs.Process{Args: []string{"sh", "-c", "echo from-process-json"}, Cwd: "/", Env: []string{"PATH=/bin"}}
	data, _ := json.Marshal(p)
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := e.ok("exec", "--process", path, id); strings.TrimSpace(out) != "from-process-json" {
		t.Errorf("exec --process output %q", out)
	}

	// Detached exec with a pid file.
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.ok("exec", "--detach", "--pid-file", pidFile, id, "sleep", "30")
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("exec --pid-file: %v", err)
	}
}

func TestExecTTYThroughConsoleSocket(t *testing.T) {
	e := newEnv(t)
	id := e.running("exectty")
	rcv := newConsoleReceiver(t)
	e.ok("exec", "--tty", "--detach", "--console-socket", rcv.path, id, "sh", "-c", "tty; echo exec-tty-ok")
	out := rcv.output(t)
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "exec-tty-ok") {
		t.Fatalf("exec tty output %q", out)
	}
}

func TestExecRefusedStates(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	id := uniqueID("exec-stopped")
	e.ok("run", "--keep", "--bundle", b.dir, id)
	e.waitStatus(id, specs.StateStopped)
	if r := e.fails("stopped container", "exec", id, "true"); r.code != 255 {
		t.Errorf("exec in a stopped container: exit %d, want 255", r.code)
	}
	e.ok("delete", id)
	e.assertNoLeftovers(id)

	id = e.running("exec-paused")
	e.ok("pause", id)
	e.fails("paused", "exec", id, "true")
	e.ok("resume", id)
}
