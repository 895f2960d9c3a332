package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Hooks run in the order the OCI runtime spec gives, each with the state on stdin.
func TestHooksOrder(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	// createContainer and startContainer hooks run in the container's user namespace, as
	// its (unprivileged on the host) root.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	logFile := filepath.Join(dir, "hooks.log")
	if err := os.WriteFile(logFile, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logFile, 0o666); err != nil {
		t.Fatal(err)
	}
	hook := func(name, logPath string) specs.Hook {
		return specs.Hook{
			Path: "/bin/busybox",
			Args: []string{"busybox", "sh", "-c", "echo " + name + " >> " + logPath + "; cat > " + filepath.Dir(logPath) + "/" + name + ".state"},
		}
	}
	b := e.newBundle("sh", "-c", "echo process >> /mnt/hooks.log").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-hooks"}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Source: dir, Type: "bind", Options: []string{"bind", "rw"}})
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hook("prestart", logFile)}, //nolint:staticcheck // deprecated, still run.
			CreateRuntime:   []specs.Hook{hook("createRuntime", logFile)},
			CreateContainer: []specs.Hook{hook("createContainer", logFile)},
			StartContainer:  []specs.Hook{hook("startContainer", "/mnt/hooks.log")},
			Poststart:       []specs.Hook{hook("poststart", logFile)},
			Poststop:        []specs.Hook{hook("poststop", logFile)},
		}
	})
	id := uniqueID("hooks")
	e.ok("create", "--bundle", b.dir, id)
	e.ok("start", id)
	e.waitStatus(id, specs.StateStopped)
	e.ok("delete", id)
	e.assertNoLeftovers(id)

	got := strings.Fields(readTrim(t, logFile))
	// The spec orders the creation hooks strictly and poststop last. poststart runs
	// after the start operation released the process: as with runc's libcontainer it
	// races with the (in-container) startContainer hook and the short process itself.
	want := []string{"prestart", "createRuntime", "createContainer", "startContainer", "process", "poststop"}
	var ordered []string
	poststart := 0
	for _, g := range got {
		if g == "poststart" {
			poststart++
			continue
		}
		ordered = append(ordered, g)
	}
	if strings.Join(ordered, " ") != strings.Join(want, " ") || poststart != 1 || got[len(got)-1] != "poststop" {
		t.Fatalf("hooks ran %v, want %v with poststart once before poststop", got, want)
	}
	for _, name := range []string{"createRuntime", "poststop"} {
		var st specs.State
		data, err := os.ReadFile(filepath.Join(dir, name+".state"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &st); err != nil || st.ID != id || st.Bundle != b.dir {
			t.Errorf("%s hook got state %s (%v)", name, data, err)
		}
	}
}

// A failing createRuntime hook fails create and leaves nothing behind.
func TestFailingHookLeavesNothing(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-hooks"}
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false", Args: []string{"false"}}}}
	})
	id := uniqueID("badhook")
	e.fails("hook", "create", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// NOTIFY_SOCKET: the container's READY=1 reaches the host socket with MAINPID.
func TestNotifySocket(t *testing.T) {
	e := newEnv(t)
	sockPath := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		oob := make([]byte, unix.CmsgSpace(4*4))
		for {
			n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
			if err != nil {
				close(msgs)
				return
			}
			// BARRIER=1 carries a pipe: closing it releases the sender.
			if cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range cmsgs {
					fds, _ := unix.ParseUnixRights(&m)
					for _, fd := range fds {
						unix.Close(fd)
					}
				}
			}
			msgs <- string(buf[:n])
		}
	}()
	e.extraEnv = []string{"NOTIFY_SOCKET=" + sockPath}
	b := e.newBundle("sh", "-c", "testprog notify READY=1 && exec sleep 1000")
	id := uniqueID("notify")
	e.ok("run", "--detach", "--bundle", b.dir, id)
	e.extraEnv = nil
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case m := <-msgs:
			got = append(got, strings.TrimSpace(m))
		case <-timeout:
			t.Fatalf("notify messages %q", got)
		}
	}
	pid := e.state(id).Pid
	if got[0] != "READY=1" || got[1] != "MAINPID="+strconv.Itoa(pid) || got[2] != "BARRIER=1" {
		t.Fatalf("notify messages %q, want READY=1, MAINPID=%d, BARRIER=1", got, pid)
	}
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)
}

// A hook given as /proc/PID/exe (how Docker passes its libnetwork-setkey hook) is matched
// by the binary it resolves to, not by the path.
func TestHookPathResolvedBeforeMatching(t *testing.T) {
	e := newEnv(t)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	exe := "/proc/" + strconv.Itoa(sleeper.Process.Pid) + "/exe"
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		t.Fatal(err)
	}
	b := e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: exe, Args: []string{"sleep", "0"}}}}
	})
	id := uniqueID("prochook")
	e.fails("createRuntime hook "+exe+" ("+real+") is not an allowed hook binary", "run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)

	// Allowing the real binary (not the /proc path) lets it run.
	e.writeConfig(e.baseConfig() + fmt.Sprintf("\n[profiles.sleep-hook.hooks]\nallow = [%q]\n", real))
	b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{"org.yoroi.profile": "sleep-hook"} })
	e.ok("run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// A startContainer hook runs in the container before the launcher installs the seccomp
// filter and Landlock: it could make the syscalls the profile forbids. It is refused unless
// a profile allows it (test-hooks does), with one line naming the profile key.
func TestStartContainerHookRefused(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + "\n[profiles.hooks-no-start.hooks]\nallow = [\"/bin/busybox\"]\n")
	for _, profile := range []string{"", "hooks-no-start"} {
		b := e.newBundle("true").edit(t, func(s *specs.Spec) {
			if profile != "" {
				s.Annotations = map[string]string{"org.yoroi.profile": profile}
			}
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/busybox", Args: []string{"busybox", "true"}}}}
		})
		id := uniqueID("starthook")
		r := e.fails("refused by rule hooks.start-container: ", "run", "--bundle", b.dir, id)
		if r.code != 1 || !strings.Contains(r.stderr, "hooks.allow_start_container") {
			t.Errorf("profile %q: exit %d, stderr %q", profile, r.code, r.stderr)
		}
		e.assertNoLeftovers(id)
	}
	// Allowed by a profile, the relaxation is on record.
	b := e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-hooks"}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/busybox", Args: []string{"busybox", "true"}}}}
	})
	if exp := e.ok("policy", "explain", "--bundle", b.dir); !strings.Contains(exp, "hooks.start-container") || !strings.Contains(exp, "relaxed") {
		t.Errorf("explain does not record the relaxation:\n%s", exp)
	}
}
