package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Fault injection: yoroi, or a container's init, is killed with SIGKILL at each phase
// of the lifecycle; delete --force then leaves no mount, cgroup, state directory, id
// range or process.

// During create: libcontainer is in the middle of it (blocked in a createRuntime hook),
// with a cgroup, an init process, a state directory, an id-mapped rootfs and an id range.
func TestKillDuringCreate(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-hooks"}
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/busybox", Args: []string{"busybox", "sleep", "20"}}}}
	})
	id := uniqueID("killed")
	cmd := e.cmd("create", "--bundle", b.dir, id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the hook runs: the container's cgroup and id-mapped rootfs exist.
	deadline := time.Now().Add(10 * time.Second)
	for len(cgroupDirs(id)) == 0 || len(mountsUnder(t, e.stagingDir(id))) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("create did not reach its hook")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The hook is yoroi's child: find it (by pid) before yoroi dies and it is orphaned.
	hooks := descendants(cmd.Process.Pid)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for _, pid := range hooks {
		if strings.Contains(cmdline(pid), "sleep") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if r := e.run("delete", id); r.code == 0 {
		t.Errorf("delete without --force of an aborted create succeeded")
	}
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)
}

// Between create and start: the container's init, waiting for start, is killed.
func TestKillBetweenCreateAndStart(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	id := uniqueID("killcreated")
	e.ok("create", "--bundle", b.dir, id)
	pid := e.state(id).Pid
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if r := e.run("start", id); r.code == 0 {
		t.Errorf("start of a container whose init was killed succeeded")
	} else if !isErrorLine(strings.TrimSpace(r.stderr)) {
		t.Errorf("start: %q", r.stderr)
	}
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)
}

// During exec: yoroi exec is killed while the exec'd process runs; the process is in
// the container's cgroup and dies with it on delete --force.
func TestKillDuringExec(t *testing.T) {
	e := newEnv(t)
	id := e.running("killexec")
	cmd := e.cmd("exec", id, "sleep", "999")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	deadline := time.Now().Add(10 * time.Second)
	for len(pids) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the exec'd process did not appear")
		}
		time.Sleep(20 * time.Millisecond)
		pids = containerPids(t, e, id)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	e.ok("delete", "--force", id)
	for _, pid := range pids {
		waitGone(t, pid)
	}
	e.assertNoLeftovers(id)
}

// During delete: delete --force is killed after increasing delays, and again until it
// completes. A delete takes about 6 ms here: the delays step by a millisecond through it,
// so that the kill lands in each of its phases (libcontainer's destroy, then yoroi's
// records, which a delete killed in between leaves for the next one).
func TestKillDuringDelete(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	delays := []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}
	for ms := range 13 {
		delays = append(delays, time.Duration(ms)*time.Millisecond)
	}
	for i, delay := range delays {
		id := uniqueID(fmt.Sprintf("killdelete%d", i))
		e.ok("run", "--detach", "--bundle", b.dir, id)
		pid := e.state(id).Pid
		cmd := e.cmd("delete", "--force", id)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		e.ok("delete", "--force", id)
		waitGone(t, pid)
		e.assertNoLeftovers(id)
	}
}

// 500 create/delete cycles leak no file descriptors, mounts, cgroups, id ranges,
// staging directories or processes (each measured before and after).
func TestNoLeaksAfterManyCycles(t *testing.T) {
	e := newEnv(t)
	n := 500
	if testing.Short() {
		n = 20
	}
	b := e.newBundle("true")
	fdsBefore, filesBefore := countEntries(t, "/proc/self/fd"), openFiles(t)
	mountsBefore := countLines(t, "/proc/self/mountinfo")
	procsBefore := yoroiProcesses(t)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("yoroi-it-leak-%d", i)
		e.ok("create", "--bundle", b.dir, id)
		e.ok("delete", id)
	}
	if got := countEntries(t, "/proc/self/fd"); got != fdsBefore {
		t.Errorf("test process fds: %d before, %d after", fdsBefore, got)
	}
	// The host-wide count of open files moves with everything else on the machine, and
	// the kernel frees the files of exited processes with a delay (deferred fput, per-CPU
	// counters): wait for it to settle. A leak of one per cycle would be 500.
	filesAfter := openFiles(t)
	for deadline := time.Now().Add(30 * time.Second); filesAfter > filesBefore+200 && time.Now().Before(deadline); filesAfter = openFiles(t) {
		time.Sleep(200 * time.Millisecond)
	}
	if filesAfter > filesBefore+200 {
		t.Errorf("open files on the host: %d before, %d after %d cycles", filesBefore, filesAfter, n)
	}
	if got := countLines(t, "/proc/self/mountinfo"); got != mountsBefore {
		t.Errorf("host mounts: %d before, %d after", mountsBefore, got)
	}
	if got := yoroiProcesses(t); len(got) > len(procsBefore) {
		t.Errorf("yoroi processes: %v before, %v after", procsBefore, got)
	}
	if mounts := append(mountsUnder(t, e.root), mountsUnder(t, e.hostState)...); len(mounts) != 0 {
		t.Errorf("%d mounts left: %v", len(mounts), mounts[0])
	}
	if ents, _ := os.ReadDir(filepath.Join(e.hostState, "mnt")); len(ents) != 0 {
		t.Errorf("%d staging directories left", len(ents))
	}
	if data := readTrim(t, filepath.Join(e.hostState, "userns.json")); data != "{}" {
		t.Errorf("id ranges left: %s", data)
	}
	for i := 0; i < n; i++ {
		if d := cgroupDirs(fmt.Sprintf("yoroi-it-leak-%d", i)); len(d) != 0 {
			t.Fatalf("cgroup left: %v", d)
		}
	}
	t.Logf("%d cycles: test fds %d, host open files %d -> %d, host mounts %d", n, fdsBefore, filesBefore, filesAfter, mountsBefore)
}

// containerPids lists the container's processes (yoroi ps --format json).
func containerPids(t *testing.T, e *env, id string) []int {
	t.Helper()
	var pids []int
	if err := json.Unmarshal([]byte(e.ok("ps", "--format", "json", id)), &pids); err != nil {
		t.Fatal(err)
	}
	return pids
}

// waitGone waits until pid no longer exists (or is a zombie about to be reaped).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(data), ')'); i > 0 && strings.HasPrefix(string(data[i+1:]), " Z") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive: %s", pid, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countEntries(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// openFiles is the number of allocated file handles on the host (/proc/sys/fs/file-nr).
func openFiles(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Fields(readTrim(t, "/proc/sys/fs/file-nr"))[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// yoroiProcesses lists the pids whose executable is the binary under test.
func yoroiProcesses(t *testing.T) []int {
	t.Helper()
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && exe == yoroiBin {
			out = append(out, pid)
		}
	}
	return out
}

// descendants lists the processes below pid, from /proc/PID/task/TID/children.
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		data, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(data)) {
			if child, err := strconv.Atoi(f); err == nil {
				out = append(out, child)
				out = append(out, descendants(child)...)
			}
		}
	}
	return out
}
