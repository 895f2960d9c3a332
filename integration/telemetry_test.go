package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// telemetryProfiles are profiles of the telemetry tests: the monitor off, and complain
// mode.
const telemetryProfiles = `
[profiles.test-no-telemetry.telemetry]
seccomp_denials = false
exec = false

[profiles.test-complain.seccomp]
complain = true
`

// Each syscall the filter denies is an audit event, and the workload sees exactly what it
// sees without the monitor: the monitor answers with the filter's own errno.
func TestSeccompDenialTelemetry(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	watched, id := syscallResultsAs(t, e, "", "telemetry")
	unwatched, quiet := syscallResultsAs(t, e, "test-no-telemetry", "no-telemetry")
	wantDenied(t, watched)
	if !maps.Equal(watched, unwatched) {
		t.Errorf("results differ with the monitor:\n%v\nwithout:\n%v", watched, unwatched)
	}
	denied := map[string]map[string]any{}
	for _, ev := range e.auditEvents(id, "seccomp-denied") {
		denied[fmt.Sprint(ev["syscall"])] = ev
	}
	for name, errno := range map[string]float64{"kexec_load": 1, "bpf": 1, "mount": 1, "ptrace": 1, "socket": 1} {
		ev, ok := denied[name]
		if !ok {
			t.Errorf("no seccomp-denied event for %s (events for %v)", name, slices.Sorted(maps.Keys(denied)))
			continue
		}
		if ev["errno"] != errno || ev["arch"] != "x86_64" || ev["exe"] != "/bin/testprog" || ev["comm"] != "testprog" || ev["uid"] != 0.0 {
			t.Errorf("%s: event %v", name, ev)
		}
		if pid, _ := ev["pid"].(float64); pid <= 1 {
			t.Errorf("%s: pid %v", name, ev["pid"])
		}
		if host, _ := ev["hostUid"].(float64); host < 1_000_000_000 {
			t.Errorf("%s: host uid %v is not in the container's range", name, ev["hostUid"])
		}
	}
	if _, ok := denied["getppid"]; ok {
		t.Errorf("an allowed syscall was reported denied")
	}
	// ENOSYS answers (clone3, a number beyond the profile) stay in the kernel: libc falls
	// back to the older call, and the results above are the same with the monitor.
	for _, name := range []string{"clone3", "nr 1000"} {
		if ev, ok := denied[name]; ok {
			t.Errorf("%s, answered ENOSYS, was audited: %v", name, ev)
		}
	}
	if ev := e.auditEvents(quiet, "seccomp-denied"); len(ev) != 0 {
		t.Errorf("telemetry off, yet %d denials audited", len(ev))
	}
	if d := decisionsOf(e, id, "telemetry"); !strings.Contains(d, "seccomp-denied") {
		t.Errorf("telemetry decision: %s", d)
	}
}

// The kernel allows one user-notification listener per filter chain: while the monitor
// holds the container's, a workload's own listener fails with EBUSY (README, Telemetry);
// with telemetry off there is no listener, and the workload's is installed.
func TestWorkloadSeccompListener(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	for _, tc := range []struct{ profile, want string }{{"", "16"}, {"test-no-telemetry", "0"}} {
		b := e.newBundle("/bin/testprog", "seccomp-listener")
		if tc.profile != "" {
			b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{hardening.ProfileAnnotation: tc.profile} })
		}
		if out := strings.TrimSpace(e.ok("run", "--bundle", b.dir, uniqueID("listener"))); out != tc.want {
			t.Errorf("profile %q: a workload's listener: errno %s, want %s", tc.profile, out, tc.want)
		}
	}
}

// A loop of denied syscalls gets a burst of events, then a summary: every denial is
// accounted for, and the audit log stays bounded.
func TestSeccompDenialBudget(t *testing.T) {
	e := newEnv(t)
	id := uniqueID("denial-flood")
	e.ok("run", "--bundle", e.newBundle("testprog", "denied", "5000").dir, id)
	e.assertNoLeftovers(id)
	single, summed := 0, 0
	for _, ev := range e.auditEvents(id, "seccomp-denied") {
		if ev["syscall"] == "kexec_load" {
			single++
		}
	}
	for _, ev := range e.auditEvents(id, "seccomp-denied-suppressed") {
		_, counts, _ := strings.Cut(fmt.Sprint(ev["detail"]), ": ")
		for _, kv := range strings.Split(counts, ",") {
			if n, ok := strings.CutPrefix(kv, "kexec_load="); ok {
				c, _ := strconv.Atoi(n)
				summed += c
			}
		}
	}
	if single > 400 || single+summed != 5000 {
		t.Errorf("%d denial events and %d counted, want at most 400 events and 5000 in all", single, summed)
	}
}

// syscallResultsAs runs testprog's syscall probes under profile ("" : the default) and
// returns the results and the container's id.
func syscallResultsAs(t *testing.T, e *env, profile, prefix string) (map[string]string, string) {
	t.Helper()
	b := e.newBundle("testprog", "syscalls")
	if profile != "" {
		b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{hardening.ProfileAnnotation: profile} })
	}
	id := uniqueID(prefix)
	return probeResults(e.ok("run", "--bundle", b.dir, id)), id
}

// probeResults parses testprog's "NAME ERRNO" lines.
func probeResults(out string) map[string]string {
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			res[l[:i]] = l[i+1:]
		}
	}
	return res
}

// decisionsOf joins the details of a container's decisions under rule.
func decisionsOf(e *env, id, rule string) string {
	var out []string
	for _, ev := range e.auditEvents(id, "decision") {
		if d, ok := ev["decision"].(map[string]any); ok && d["rule"] == rule {
			line := fmt.Sprint(d["outcome"], ": ", d["detail"])
			if after, ok := d["after"].(string); ok && after != "" {
				line += " → " + after
			}
			out = append(out, line)
		}
	}
	return strings.Join(out, "; ")
}

// Complain mode lets run what the profile would deny, and audits it; the deny floor and
// yoroi's argument conditions still hold.
func TestSeccompComplainMode(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	// The caller's profile: the built-in one without getppid.
	profile := hardening.BuiltinSeccomp("amd64", false)
	for i := range profile.Syscalls {
		profile.Syscalls[i].Names = slices.DeleteFunc(slices.Clone(profile.Syscalls[i].Names), func(n string) bool { return n == "getppid" })
	}
	run := func(annotation, prefix string) (map[string]string, string) {
		b := e.newBundle("testprog", "syscalls").edit(t, func(s *specs.Spec) {
			s.Linux.Seccomp = profile
			if annotation != "" {
				s.Annotations = map[string]string{hardening.ProfileAnnotation: annotation}
			}
		})
		id := uniqueID(prefix)
		out := e.ok("run", "--bundle", b.dir, id)
		e.assertNoLeftovers(id)
		return probeResults(out), id
	}
	enforced, _ := run("", "enforce")
	if enforced["getppid"] != "1" {
		t.Fatalf("getppid under a profile without it: errno %s, want 1", enforced["getppid"])
	}
	complained, id := run("test-complain", "complain")
	if complained["getppid"] != "0" {
		t.Errorf("getppid in complain mode: errno %s, want 0", complained["getppid"])
	}
	for _, floor := range []string{"kexec_load", "bpf", "mount", "ptrace", "unshare(CLONE_NEWUSER)", "clone(CLONE_NEWUSER)", "socket(vsock)", "personality(ADDR_NO_RANDOMIZE)"} {
		if complained[floor] != enforced[floor] || complained[floor] == "0" {
			t.Errorf("%s in complain mode: errno %s, enforced %s", floor, complained[floor], enforced[floor])
		}
	}
	var got []string
	for _, ev := range e.auditEvents(id, "seccomp-complain") {
		got = append(got, fmt.Sprint(ev["syscall"]))
		if ev["syscall"] == "getppid" && ev["errno"] != 1.0 {
			t.Errorf("complain event %v: want the errno the filter would have returned (1)", ev)
		}
	}
	if !slices.Contains(got, "getppid") {
		t.Errorf("no seccomp-complain event for getppid: %v", got)
	}
	if slices.Contains(got, "kexec_load") {
		t.Errorf("a floor syscall was let through in complain mode")
	}
	if d := decisionsOf(e, id, "telemetry"); !strings.Contains(d, "relaxed: complain mode") {
		t.Errorf("complain mode not recorded as a relaxation: %s", d)
	}
	if out := e.ok("policy", "explain", "--bundle", e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-complain"}
	}).dir); !strings.Contains(out, "complain mode") {
		t.Errorf("policy explain does not show complain mode:\n%s", out)
	}
}

// Every execve in a container is audited from the host with its arguments, the user and
// the result: the workload's first, those of its children, and those of an exec'd process.
func TestExecAudit(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	b := e.newBundle("sh", "-c", "/bin/echo spawned child; /bin/nosuch; exec sleep 1000")
	id := uniqueID("exec-audit")
	e.ok("run", "-d", "--bundle", b.dir, id)
	t.Cleanup(func() { e.run("delete", "-f", id) })
	// The exec'd program lives a moment: yoroi exec reaps it as soon as it exits, and a
	// program gone before the monitor looks is audited "exited" (as /bin/echo may be).
	e.ok("exec", "--user", "1000:1000", id, "/bin/sh", "-c", "exec /bin/sleep 0.2")
	// Many arguments (the monitor reads them in batches), one longer than the audit keeps
	// of an argument (4096 bytes).
	many := []string{"/bin/echo"}
	for i := range 300 {
		many = append(many, fmt.Sprintf("argument-%d", i))
	}
	many = append(many, strings.Repeat("y", 5000), "last")
	e.ok(append([]string{"exec", id}, many...)...)
	manyAudited := slices.Clone(many)
	manyAudited[301] = manyAudited[301][:4096]
	execs := waitExecEvents(t, e, id, 6)
	want := []struct {
		path   string
		argv   []string
		uid    float64
		result string
	}{
		{"/bin/sh", []string{"sh", "-c", "/bin/echo spawned child; /bin/nosuch; exec sleep 1000"}, 0, "executed"},
		// A short-lived program may be reaped before the monitor sees it run.
		{"/bin/echo", []string{"/bin/echo", "spawned", "child"}, 0, "executed|exited"},
		{"/bin/nosuch", []string{"/bin/nosuch"}, 0, "failed|exited"},
		{"/bin/sh", []string{"/bin/sh", "-c", "exec /bin/sleep 0.2"}, 1000, "executed"},
		{"/bin/sleep", []string{"/bin/sleep", "0.2"}, 1000, "executed"},
		{"/bin/echo", manyAudited, 0, "executed|exited"},
	}
	for _, w := range want {
		found := false
		for _, ev := range execs {
			if ev["path"] != w.path || fmt.Sprint(ev["args"]) != fmt.Sprint(toAny(w.argv)) {
				continue
			}
			found = true
			if ev["uid"] != w.uid {
				t.Errorf("%s: uid %v, want %v", w.path, ev["uid"], w.uid)
			}
			if !slices.Contains(strings.Split(w.result, "|"), fmt.Sprint(ev["result"])) {
				t.Errorf("%s: result %v, want %s", w.path, ev["result"], w.result)
			}
		}
		if !found {
			t.Errorf("no execve event for %s %v in %v", w.path, w.argv, execs)
		}
	}
	e.ok("delete", "-f", id)
	e.assertNoLeftovers(id)

	// Off in a profile: no monitor, no events.
	b = e.newBundle("sh", "-c", "/bin/echo quiet").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-no-telemetry"}
	})
	quiet := uniqueID("exec-quiet")
	e.ok("run", "--bundle", b.dir, quiet)
	if ev := e.auditEvents(quiet, "execve"); len(ev) != 0 {
		t.Errorf("telemetry off, yet execs audited: %v", ev)
	}
}

// An attached run serves its container's monitor itself: no monitor process, every
// execve audited (the init's and an exec'd process'), nothing left once the container
// ends. Killed, it takes the monitor with it, and the container fails closed: an exec
// into it is refused, and delete --force leaves nothing behind.
func TestAttachedRunServesMonitor(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sh", "-c", "exec sleep 1000")
	id := uniqueID("attached-monitor")
	t.Cleanup(func() { e.run("delete", "-f", id) })
	run := e.cmd("run", "--bundle", b.dir, id)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, specs.StateRunning)
	if pids := monitorPids(id); len(pids) > 0 {
		t.Errorf("an attached run started a monitor process: %v", pids)
	}
	e.ok("exec", "--user", "1000:1000", id, "/bin/sh", "-c", "exec /bin/sleep 0.2")
	execs := waitExecEvents(t, e, id, 3)
	for _, want := range [][]string{{"sh", "-c", "exec sleep 1000"}, {"/bin/sh", "-c", "exec /bin/sleep 0.2"}, {"/bin/sleep", "0.2"}} {
		if !slices.ContainsFunc(execs, func(ev map[string]any) bool { return fmt.Sprint(ev["args"]) == fmt.Sprint(toAny(want)) }) {
			t.Errorf("no execve event for %v in %v", want, execs)
		}
	}
	e.ok("kill", id, "KILL")
	if err := run.Wait(); err == nil {
		t.Error("run of a killed container exited 0")
	}
	e.assertNoLeftovers(id)

	// The run killed under its running container.
	killed := uniqueID("attached-killed")
	t.Cleanup(func() { e.run("delete", "-f", killed) })
	run = e.cmd("run", "--bundle", b.dir, killed)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(killed, specs.StateRunning)
	_ = run.Process.Kill()
	_ = run.Wait()
	e.fails("monitor is not running", "exec", killed, "/bin/true")
	e.ok("delete", "-f", killed)
	e.assertNoLeftovers(killed)
}

// yoroi's containerd shim hosts the monitors of the containers it runs (it lives as long
// as they do): no monitor process runs beside a container, and the task's execs and
// denials, and an exec's through the shim, reach the audit log from the shim. Killed with
// its container gone, the shim leaves nothing behind. A create whose host cannot be
// reached starts a monitor process after all, and says so.
func TestShimHostsMonitors(t *testing.T) {
	e := newEnv(t)
	c := startContainerdEnv(t, true, yoroiBin, []string{"YOROI_CONFIG=" + e.config})
	id := uniqueID("shim-monitor")
	if out, err := c.run("run", "-d", "--runtime", "io.containerd.yoroi.v2", busyboxRef, id, "sh", "-c", "unshare -U true; exec sleep 1000"); err != nil {
		t.Fatalf("ctr run -d: %v\n%s", err, out)
	}
	defer func() {
		_, _ = c.run("task", "kill", "-s", "KILL", id)
		_, _ = c.run("task", "delete", "-f", id)
		_, _ = c.run("container", "delete", id)
	}()
	sock := filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", "default", id, "yoroi-monitors.sock")
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("the shim's monitor socket %s: %v %v, want a socket only root may use", sock, st, err)
	}
	if pids := monitorPids(id); len(pids) > 0 {
		t.Errorf("a monitor process runs beside the shim: %v", pids)
	}
	if out, err := c.run("task", "exec", "--exec-id", "probe", id, "sh", "-c", "unshare -U true; exec /bin/true"); err != nil {
		t.Fatalf("task exec: %v %q", err, out)
	}
	execs := waitExecEvents(t, e, id, 4)
	for _, want := range [][]string{{"sh", "-c", "unshare -U true; exec sleep 1000"}, {"sleep", "1000"}, {"sh", "-c", "unshare -U true; exec /bin/true"}, {"/bin/true"}} {
		if !slices.ContainsFunc(execs, func(ev map[string]any) bool { return fmt.Sprint(ev["args"]) == fmt.Sprint(toAny(want)) }) {
			t.Errorf("no execve event for %v in %v", want, execs)
		}
	}
	var denied []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(denied) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		denied = e.auditEvents(id, "seccomp-denied")
	}
	if len(denied) != 2 || denied[0]["syscall"] != "unshare" || denied[1]["syscall"] != "unshare" {
		t.Errorf("denials audited from the shim: %v, want unshare from the task and from the exec", denied)
	}
	if monitorPids(id) != nil {
		t.Error("a monitor process started for the exec")
	}

	// No host at the socket named: a monitor process, and a warning.
	e.extraEnv = []string{"YOROI_MONITOR_HOST=" + filepath.Join(t.TempDir(), "none.sock")}
	b := e.newBundle("sleep", "1000")
	lone := uniqueID("no-host")
	t.Cleanup(func() { e.run("delete", "-f", lone) })
	r := e.run("run", "--detach", "--bundle", b.dir, lone)
	if r.code != 0 || !strings.Contains(r.stderr, "did not take container "+lone+"'s monitor") {
		t.Errorf("run --detach with no monitor host: exit %d, stderr %q", r.code, r.stderr)
	}
	if pids := monitorPids(lone); len(pids) != 1 {
		t.Errorf("no host: monitor processes %v, want one", pids)
	}
	e.ok("exec", lone, "/bin/true")
	waitExecEvents(t, e, lone, 2)
	e.ok("delete", "-f", lone)
	if err := e.monitorGone(lone); err != nil {
		t.Error(err)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// waitExecEvents waits for at least n execve events of a container (each is written once
// its result is known).
func waitExecEvents(t *testing.T, e *env, id string, n int) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if evs = e.auditEvents(id, "execve"); len(evs) >= n {
			return evs
		}
	}
	t.Fatalf("%d execve events, want %d: %v", len(evs), n, evs)
	return nil
}

// monitorGone waits for the monitor of container id to be gone: its socket removed and
// no process running `yoroi monitor ID`.
func (e *env) monitorGone(id string) error {
	sum := sha256.Sum256([]byte(id))
	sock := filepath.Join(e.root, ".yoroi", "monitor", hex.EncodeToString(sum[:10]))
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		last = nil
		if _, err := os.Lstat(sock); err == nil {
			last = fmt.Errorf("monitor socket %s left behind", sock)
			continue
		}
		if pids := monitorPids(id); len(pids) > 0 {
			last = fmt.Errorf("monitor of %s still running (pids %v)", id, pids)
			continue
		}
		return nil
	}
	return last
}

// monitorPids are the processes running `yoroi monitor ID`.
func monitorPids(id string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, ent := range ents {
		data, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if len(args) == 3 && args[1] == "monitor" && args[2] == id {
			out = append(out, ent.Name())
		}
	}
	return out
}

// A real threaded program under the default policy: glibc (2.34 and later) creates every
// thread with clone3 first and falls back to clone on ENOSYS, which yoroi's filter answers
// (clone3's flags are out of seccomp's reach). Those answers stay in the kernel: threads
// are created, and the audit log holds no denial for them (it held one per thread).
func TestThreadsWithoutDenials(t *testing.T) {
	img := appsImageDir(t)
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	script := `import threading
done = []
for i in range(50):
    t = threading.Thread(target=done.append, args=(i,))
    t.start()
    t.join()
print("threads", len(done))`
	b := e.newBundle("python3", "-c", script).edit(t, func(s *specs.Spec) {
		s.Root.Path = appsRootfs(t, img)
	})
	id := uniqueID("threads")
	if out := e.ok("run", "--bundle", b.dir, id); !strings.Contains(out, "threads 50") {
		t.Fatalf("threads: %q", out)
	}
	if ev := e.auditEvents(id, "seccomp-denied"); len(ev) != 0 {
		t.Errorf("%d denials audited for a threaded program, e.g. %v", len(ev), ev[0])
	}
	if ev := e.auditEvents(id, "execve"); len(ev) == 0 {
		t.Error("no execve audited: the monitor did not run")
	}
}
