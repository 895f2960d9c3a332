package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runc/types"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/yoroi-runtime/yoroi/hardening"
)

func TestPs(t *testing.T) {
	e := newEnv(t)
	id := e.running("ps")
	initPid := e.state(id).Pid
	var pids []int
	if err := json.Unmarshal([]byte(e.ok("ps", "--format", "json", id)), &pids); err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 || pids[0] != initPid {
		t.Fatalf("ps json %v, want [%d]", pids, initPid)
	}
	table := e.ok("ps", id)
	if !strings.Contains(table, "PID") || !strings.Contains(table, "sleep 1000") {
		t.Fatalf("ps table %q", table)
	}
}

func TestPauseResume(t *testing.T) {
	e := newEnv(t)
	id := e.running("pause")
	pid := e.state(id).Pid
	e.ok("pause", id)
	if st := e.state(id); st.Status != specs.ContainerState("paused") {
		t.Fatalf("after pause: %s", st.Status)
	}
	freezer := cgroupFile(t, pid, "freezer", "freezer.state")
	if got := readTrim(t, freezer); got != "FROZEN" {
		t.Errorf("%s = %q, want FROZEN", freezer, got)
	}
	e.ok("resume", id)
	if st := e.state(id); st.Status != specs.StateRunning {
		t.Fatalf("after resume: %s", st.Status)
	}
	if got := readTrim(t, freezer); got != "THAWED" {
		t.Errorf("%s = %q, want THAWED", freezer, got)
	}
}

func TestUpdateLimits(t *testing.T) {
	e := newEnv(t)
	id := e.running("update")
	pid := e.state(id).Pid
	e.ok("update", "--pids-limit", "42", "--memory", "64m", id)
	if got := readTrim(t, cgroupFile(t, pid, "pids", "pids.max")); got != "42" {
		t.Errorf("pids.max = %q, want 42", got)
	}
	if got := readTrim(t, cgroupFile(t, pid, "memory", "memory.limit_in_bytes")); got != strconv.Itoa(64<<20) {
		t.Errorf("memory.limit_in_bytes = %q, want %d", got, 64<<20)
	}
	// The --resources form, as containerd uses it.
	res := filepath.Join(t.TempDir(), "res.json")
	if err := os.WriteFile(res, []byte(`{"pids":{"limit":17}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("update", "--resources", res, id)
	if got := readTrim(t, cgroupFile(t, pid, "pids", "pids.max")); got != "17" {
		t.Errorf("pids.max = %q after --resources, want 17", got)
	}
	// The limit is real: a fork loop inside cannot exceed it.
	out := e.run("exec", id, "sh", "-c", "for i in $(seq 40); do sleep 5 & done; wait")
	if !strings.Contains(out.stderr, "can't fork") && !strings.Contains(out.stderr, "Resource temporarily unavailable") {
		t.Errorf("40 children under pids.max=17 did not fail: exit %d stderr %q", out.code, out.stderr)
	}
}

func TestEventsStats(t *testing.T) {
	e := newEnv(t)
	id := e.running("events")
	var ev types.Event
	if err := json.Unmarshal([]byte(e.ok("events", "--stats", id)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "stats" || ev.ID != id {
		t.Fatalf("event %+v", ev)
	}
	data, _ := json.Marshal(ev.Data)
	var st types.Stats
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if st.Pids.Current != 1 || st.Memory.Usage.Usage == 0 {
		t.Errorf("stats: pids.current=%d memory.usage=%d", st.Pids.Current, st.Memory.Usage.Usage)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	// A --root that does not exist is an error, as with runc.
	e.fails("no such file or directory", "list")
	if err := os.MkdirAll(e.root, 0o711); err != nil {
		t.Fatal(err)
	}
	if out := e.ok("list", "--format", "json"); strings.TrimSpace(out) != "null" {
		t.Errorf("empty list json %q, want null (as runc)", out)
	}
	a, b := e.running("list-a"), e.running("list-b")
	var states []struct {
		ID     string `json:"id"`
		Pid    int    `json:"pid"`
		Status string `json:"status"`
		Bundle string `json:"bundle"`
		Owner  string `json:"owner"`
	}
	if err := json.Unmarshal([]byte(e.ok("list", "--format", "json")), &states); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range states {
		if s.Status != "running" || s.Pid <= 0 || s.Owner != "root" || s.Bundle == "" {
			t.Errorf("list entry %+v", s)
		}
		seen[s.ID] = true
	}
	if !seen[a] || !seen[b] || len(states) != 2 {
		t.Errorf("list json %+v, want %s and %s", states, a, b)
	}
	quiet := strings.Fields(e.ok("list", "--quiet"))
	if len(quiet) != 2 {
		t.Errorf("list --quiet %q", quiet)
	}
	if table := e.ok("list"); !strings.HasPrefix(table, "ID") || !strings.Contains(table, a) {
		t.Errorf("list table %q", table)
	}
}

func TestFeatures(t *testing.T) {
	e := newEnv(t)
	var f features.Features
	if err := json.Unmarshal([]byte(e.ok("features")), &f); err != nil {
		t.Fatalf("features is not OCI features JSON: %v", err)
	}
	if f.OCIVersionMax != specs.Version || f.Linux == nil || len(f.Linux.Namespaces) == 0 {
		t.Fatalf("features %+v", f)
	}
	if f.Linux.Seccomp == nil || f.Linux.Seccomp.Enabled == nil || !*f.Linux.Seccomp.Enabled {
		t.Errorf("seccomp not reported (is the binary built with -tags seccomp?)")
	}
	if !slices.Contains(f.Linux.Namespaces, "user") {
		t.Errorf("user namespaces not reported: %v", f.Linux.Namespaces)
	}
	if f.Linux.MountExtensions == nil || f.Linux.MountExtensions.IDMap == nil || !*f.Linux.MountExtensions.IDMap.Enabled {
		t.Errorf("idmap mounts not reported")
	}
	// The hardening in force, under org.yoroi.*: what this host's modules and the
	// configuration's default policy give every container.
	a := f.Annotations
	if a[hardening.FeatureMACInForce] == "" || strings.HasPrefix(a[hardening.FeatureMACInForce], "none") {
		t.Errorf("no MAC provider in force reported: %q", a[hardening.FeatureMACInForce])
	}
	if data, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil && strings.Contains(string(data), "landlock") {
		if abi := a[hardening.FeatureLandlockABI]; abi == "" || abi == "0" {
			t.Errorf("Landlock ABI %q on a host with Landlock", abi)
		}
	}
	for key, want := range map[string]string{
		hardening.FeatureTelemetry:       "seccomp-denials,exec",
		hardening.FeatureUserns:          "mandatory",
		hardening.FeatureSeccompDefault:  "built-in allowlist",
		hardening.FeatureSeccompFloor:    "kexec_load",
		hardening.FeatureSeccompComplain: "false",
		hardening.FeatureNoNewPrivileges: "forced",
		hardening.FeatureRootfs:          "read-only",
	} {
		if !strings.Contains(a[key], want) {
			t.Errorf("%s = %q, want %q", key, a[key], want)
		}
	}
	// A profile's relaxations are not the default's: complain mode in one profile does
	// not show as the default; the profile is listed.
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	if err := json.Unmarshal([]byte(e.ok("features")), &f); err != nil {
		t.Fatal(err)
	}
	if f.Annotations[hardening.FeatureSeccompComplain] != "false" || !strings.Contains(f.Annotations[hardening.FeatureProfiles], "test-complain") {
		t.Errorf("with a complain profile: %v", f.Annotations)
	}
}

// The state of a container carries the decisions that were applied to it.
func TestStateDecisions(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	id := uniqueID("state-decisions")
	e.ok("create", "--bundle", b.dir, id)
	t.Cleanup(func() { e.run("delete", "-f", id) })
	st := e.state(id)
	raw, ok := st.Annotations[runtimeDecisionsAnnotation]
	if !ok {
		t.Fatalf("no %s in the state: %v", runtimeDecisionsAnnotation, st.Annotations)
	}
	var decisions []hardening.Decision
	if err := json.Unmarshal([]byte(raw), &decisions); err != nil {
		t.Fatalf("decisions %q: %v", raw, err)
	}
	rules := map[string]bool{}
	for _, d := range decisions {
		rules[d.Rule] = true
	}
	for _, want := range []string{"capabilities", "userns", "rootfs.readonly", "seccomp", "mac.landlock", "pids", "telemetry", "rootfs.idmap"} {
		if !rules[want] {
			t.Errorf("no decision of rule %s in the state: %v", want, decisions)
		}
	}
	if st.Annotations["org.yoroi.state.profile"] != "default" {
		t.Errorf("profile %q", st.Annotations["org.yoroi.state.profile"])
	}
	// Not in the state every hook and seccomp agent is sent (libcontainer's): an agent
	// that reads one page (runc's) must still read it whole.
	if data, err := os.ReadFile(filepath.Join(e.root, id, "state.json")); err != nil || strings.Contains(string(data), runtimeDecisionsAnnotation) {
		t.Errorf("decisions in libcontainer's state (err %v)", err)
	}
	// A spec cannot write them itself.
	b2 := e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{runtimeDecisionsAnnotation: `[{"rule":"written-by-the-spec","outcome":"kept"}]`}
	})
	id2 := uniqueID("state-forged")
	e.ok("create", "--bundle", b2.dir, id2)
	t.Cleanup(func() { e.run("delete", "-f", id2) })
	if strings.Contains(e.state(id2).Annotations[runtimeDecisionsAnnotation], "written-by-the-spec") {
		t.Errorf("a spec's annotation stood for yoroi's decisions")
	}
}

// runtimeDecisionsAnnotation is where the state carries the decisions.
const runtimeDecisionsAnnotation = "org.yoroi.decisions"

// cgroupFile returns a file of pid's cgroup for a v1 controller.
func cgroupFile(t *testing.T, pid int, controller, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == controller {
			return filepath.Join("/sys/fs/cgroup", controller, parts[2], file)
		}
	}
	t.Fatalf("pid %d has no %s cgroup", pid, controller)
	return ""
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// What engines and scripts rely on in runc's command line and words: flags after the
// container id, signal 0, "container not running" for a kill of an exited container
// (containerd's shim matches it), and a workload that cannot be executed reported as
// runc's init does with a shell's exit code (Docker derives 126/127 from runc's words).
func TestRuncCompatibleCommandLine(t *testing.T) {
	e := newEnv(t)
	id := e.running("runc-cli")
	e.ok("kill", id, "0")
	e.ok("update", id, "--pids-limit", "100")
	if out := e.ok("exec", id, "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"); strings.TrimSpace(out) != "100" {
		t.Errorf("pids.max after update with the flag after the id: %q", out)
	}
	e.ok("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	e.fails("container not running", "kill", id, "TERM")
	e.ok("kill", "--all", id, "TERM")

	rootfs := copyRootfs(t)
	if err := os.WriteFile(filepath.Join(rootfs, "run.sh"), []byte("#!/no/such/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"/run.sh"}, 127, "exec /run.sh: no such file or directory"},
		{[]string{"/etc/passwd"}, 126, "exec /etc/passwd: exec format error"},
	} {
		b := e.newBundle(tc.args...).edit(t, func(s *specs.Spec) { s.Root.Path = rootfs })
		if err := os.Chmod(filepath.Join(rootfs, "etc", "passwd"), 0o755); err != nil {
			t.Fatal(err)
		}
		cid := uniqueID("runc-exec")
		r := e.run("run", "--bundle", b.dir, cid)
		if r.code != tc.code || strings.TrimSpace(r.stderr) != tc.msg {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
		e.assertNoLeftovers(cid)
	}
}

// delete --force of a running container (here a paused one, whose processes get the
// SIGKILL only once thawed) and delete of a created one end every process of the
// container, not only its init, and leave nothing behind. delete waits for the init's
// death on a pidfd of it, no longer a look every 100 ms; this is what that wait ends on.
func TestDeleteKillsEveryProcess(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		setup func(id, bundle string)
		del   []string
	}{
		{"running and paused", func(id, bundle string) {
			e.ok("run", "--detach", "--bundle", bundle, id)
			e.waitStatus(id, specs.StateRunning)
			e.ok("pause", id)
		}, []string{"delete", "--force"}},
		{"created", func(id, bundle string) { e.ok("create", "--bundle", bundle, id) }, []string{"delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBundle("sh", "-c", "sleep 1000 & sleep 1000 & wait")
			id := uniqueID("delkill")
			tc.setup(id, b.dir)
			pids := containerPids(t, e, id)
			if len(pids) == 0 {
				t.Fatalf("ps of %s: no process", id)
			}
			starts := map[int]string{}
			for _, pid := range pids {
				starts[pid] = procStart(pid)
			}
			e.ok(append(tc.del, id)...)
			for pid, start := range starts {
				if now := procStart(pid); now != "" && now == start {
					t.Errorf("process %d of %s outlived its delete", pid, id)
				}
			}
			e.assertNoLeftovers(id)
		})
	}
}

// procStart is the start time of process pid (field 22 of its stat), or "" if there is no
// such process or it is a zombie.
func procStart(pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}

// An administrator changes runtime.state_dir while a container runs. The next container's
// id range is drawn clear of the running one's, and a delete under the new setting takes
// down the first one's id-mapped rootfs and id range, which are in the old directory.
func TestStateDirChangedWhileRunning(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	first, second := uniqueID("statedir-old"), uniqueID("statedir-new")
	e.ok("run", "--detach", "--bundle", b.dir, first)
	oldState, oldStaging := e.hostState, e.stagingDir(first)
	if !e.rangeHeld(first) || len(mountsUnder(t, oldStaging)) == 0 {
		t.Fatalf("%s: no id range or staged rootfs in %s", first, oldState)
	}
	e.hostState = filepath.Join(filepath.Dir(oldState), "yoroi-state-changed")
	e.writeConfig(e.baseConfig())
	e.ok("run", "--detach", "--bundle", b.dir, second)
	var report checkReport
	if err := json.Unmarshal([]byte(e.ok("check", "--format", "json")), &report); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(report.Checks, func(c checkItem) bool {
		return c.Name == "statedir" && strings.Contains(c.Detail, "still hold ids in "+oldState+" (1)")
	}) {
		t.Errorf("check does not name the old state directory's container: %+v", report.Checks)
	}
	r1, r2 := hostUIDRange(t, e.state(first).Pid), hostUIDRange(t, e.state(second).Pid)
	if r1[0] < r2[0]+r2[1] && r2[0] < r1[0]+r1[1] {
		t.Errorf("the containers' host uid ranges overlap: %v and %v", r1, r2)
	}
	e.ok("delete", "--force", first)
	for _, m := range mountsUnder(t, oldState) {
		t.Errorf("mount of %s left in the old state directory: %s", first, m)
	}
	if _, err := os.Lstat(oldStaging); err == nil {
		t.Errorf("%s left behind", oldStaging)
	}
	if data, _ := os.ReadFile(filepath.Join(oldState, "userns.json")); strings.Contains(string(data), `"id":"`+first+`"`) {
		t.Errorf("id range of %s left in the old state directory: %s", first, data)
	}
	e.assertNoLeftovers(first)
	e.ok("delete", "--force", second)
	e.assertNoLeftovers(second)
}

// hostUIDRange is the host side of process pid's user namespace's one uid mapping: first
// host id and size.
func hostUIDRange(t *testing.T, pid int) [2]uint64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "uid_map"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	if len(f) != 3 {
		t.Fatalf("uid_map of %d: %q, want one mapping", pid, data)
	}
	host, err1 := strconv.ParseUint(f[1], 10, 64)
	size, err2 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("uid_map of %d: %q", pid, data)
	}
	return [2]uint64{host, size}
}
