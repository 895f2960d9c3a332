package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	id := uniqueID("life")

	e.ok("create", "--bundle", b.dir, id)
	st := e.state(id)
	if st.Status != specs.StateCreated || st.Pid <= 0 || st.ID != id || st.Bundle != b.dir {
		t.Fatalf("after create: %+v", st)
	}
	e.ok("start", id)
	e.waitStatus(id, specs.StateRunning)
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.Pid), "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != "sleep" {
		t.Fatalf("init pid %d runs %q (%v), want sleep", st.Pid, comm, err)
	}
	e.ok("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	if st := e.state(id); st.Pid != 0 {
		t.Errorf("stopped container reports pid %d, want 0", st.Pid)
	}
	e.ok("delete", id)
	e.assertNoLeftovers(id)
}

func TestRunPropagatesExitCode(t *testing.T) {
	e := newEnv(t)
	for _, code := range []int{0, 3, 42} {
		b := e.newBundle("sh", "-c", "echo out-$0; echo err-$0 >&2; exit $0", strconv.Itoa(code))
		id := uniqueID("run")
		r := e.run("run", "--bundle", b.dir, id)
		if r.code != code {
			t.Errorf("run exit %d, want %d (stderr %q)", r.code, code, r.stderr)
		}
		if want := "out-" + strconv.Itoa(code); strings.TrimSpace(r.stdout) != want {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		if want := "err-" + strconv.Itoa(code); strings.TrimSpace(r.stderr) != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
		e.assertNoLeftovers(id)
	}
}

func TestRunDetachAndKeep(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	id := uniqueID("keep")
	e.ok("run", "--keep", "--bundle", b.dir, id)
	e.waitStatus(id, specs.StateStopped)
	e.ok("delete", id)
	e.assertNoLeftovers(id)

	b = e.newBundle("sleep", "1000")
	id = uniqueID("detach")
	e.ok("run", "--detach", "--bundle", b.dir, id)
	e.waitStatus(id, specs.StateRunning)
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)
}

func TestPidFile(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	id := uniqueID("pidfile")
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	e.ok("create", "--bundle", b.dir, "--pid-file", pidFile, id)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), strconv.Itoa(e.state(id).Pid); got != want {
		t.Fatalf("pid file %q, state pid %s", got, want)
	}
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)
}

func TestTerminalContainerThroughConsoleSocket(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sh", "-c", "tty; echo hello-from-tty").edit(t, func(s *specs.Spec) {
		s.Process.Terminal = true
	})
	id := uniqueID("tty")
	rcv := newConsoleReceiver(t)
	e.ok("create", "--bundle", b.dir, "--console-socket", rcv.path, id)
	e.ok("start", id)
	out := rcv.output(t)
	if !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "hello-from-tty") {
		t.Fatalf("terminal output %q", out)
	}
	e.waitStatus(id, specs.StateStopped)
	e.ok("delete", id)
	e.assertNoLeftovers(id)

	// A terminal container that yoroi detaches from needs a console socket.
	id = uniqueID("tty-nosock")
	e.fails("console socket", "create", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// TestPreserveFDs: the passed fd is fd 3 in the workload and no other descriptor of
// yoroi's is open in it; its filter is in force.
func TestPreserveFDs(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sh", "-c", `cat <&3; for f in 4 5 6; do [ -e /proc/self/fd/$f ] && readlink /proc/self/fd/$f; done; grep -q "^Seccomp:.2" /proc/self/status || echo no-filter`)
	id := uniqueID("fds")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("passed-through"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cmd := e.cmd("run", "--preserve-fds", "1", "--bundle", b.dir, id)
	cmd.ExtraFiles = []*os.File{r}
	res := e.runCmd(cmd)
	r.Close()
	if res.code != 0 || res.stdout != "passed-through" {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	e.assertNoLeftovers(id)
}
