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

// exec takes its process rules from the same table as create: an exec asking for a MAC
// label the host cannot give, or an SELinux type that is no confinement, is refused like
// the same request on create (exec once ran a shorter list without the MAC rules and
// accepted both). Each refusal is one line, exit 255 (runc's for a failed exec), audited,
// and the container keeps running.
func TestExecMACRules(t *testing.T) {
	e := newEnv(t)
	id := e.running("execmac")
	for _, tc := range []struct {
		name string
		args []string
		rule string
	}{
		{"apparmor profile", []string{"--apparmor", "yoroi-custom"}, "mac.apparmor"},
		{"selinux spc_t", []string{"--process-label", "system_u:system_r:spc_t:s0"}, "mac.selinux"},
		{"process.json with spc_t", nil, "mac.selinux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"exec"}, tc.args...)
			if tc.args == nil {
				p := specs.Process{Args: []string{"true"}, Cwd: "/", SelinuxLabel: "system_u:system_r:spc_t:s0"}
				data, _ := json.Marshal(p)
				path := filepath.Join(t.TempDir(), "process.json")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--process", path)
			}
			r := e.fails("refused by rule "+tc.rule+": ", append(args, id, "true")...)
			if r.code != 255 {
				t.Errorf("exit %d, want 255", r.code)
			}
			found := false
			for _, ev := range e.auditEvents(id, "refusal") {
				found = found || strings.Contains(ev["error"].(string), tc.rule)
			}
			if !found {
				t.Errorf("no audited refusal by %s", tc.rule)
			}
		})
	}
	e.waitStatus(id, specs.StateRunning)
	// On create, the same requests are refused by the same rules.
	for _, tc := range []struct {
		rule string
		edit func(*specs.Spec)
	}{
		{"mac.apparmor", func(s *specs.Spec) { s.Process.ApparmorProfile = "yoroi-custom" }},
		{"mac.selinux", func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:spc_t:s0" }},
	} {
		cid := uniqueID("createmac")
		e.fails("refused by rule "+tc.rule+": ", "run", "--bundle", e.newBundle("true").edit(t, tc.edit).dir, cid)
		e.assertNoLeftovers(cid)
	}
}
