package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The default policy, observed from inside a real container.
func TestHardeningEnforcedInside(t *testing.T) {
	e := newEnv(t)
	script := `
touch /written 2>&1; echo "root-write=$?"
echo ok > /tmp/f && echo "tmp-write=ok"
cp /bin/busybox /tmp/true && /tmp/true; echo "tmp-exec=$?"
grep -E '^(CapEff|CapBnd|CapPrm|CapAmb|NoNewPrivs):' /proc/self/status
echo "keys=$(wc -c < /proc/keys) interrupts=$(wc -c < /proc/interrupts)"
echo "firmware=$(ls /sys/firmware | wc -l)"
echo x > /proc/sys/kernel/domainname; echo "procsys-write=$?"
echo "run-mount=$(grep ' /run ' /proc/mounts | cut -d' ' -f4)"
echo "tmp-mount=$(grep ' /tmp ' /proc/mounts | cut -d' ' -f4)"
`
	// Ask for what Docker grants by default: yoroi clamps it to the allowlist.
	b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
		docker := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
			"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
			"CAP_KILL", "CAP_AUDIT_WRITE"}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: docker, Effective: docker, Permitted: docker}
		s.Process.NoNewPrivileges = false
		s.Root.Readonly = false
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	})
	id := uniqueID("enforced")
	r := e.run("run", "--bundle", b.dir, id)
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr
	// CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID NET_BIND_SERVICE = 0x4fb.
	for _, want := range []string{
		"Read-only file system", "root-write=1",
		"tmp-write=ok", "tmp-exec=126",
		"CapEff:\t00000000000004fb", "CapBnd:\t00000000000004fb", "CapPrm:\t00000000000004fb", "CapAmb:\t0000000000000000",
		"NoNewPrivs:\t1",
		"keys=0 interrupts=0", "firmware=0", "procsys-write=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, m := range []string{"run-mount", "tmp-mount"} {
		line := regexp.MustCompile(m + `=(\S+)`).FindStringSubmatch(out)
		if line == nil {
			t.Errorf("no %s in %s", m, out)
			continue
		}
		for _, opt := range []string{"rw", "nosuid", "nodev", "noexec", "size=65536k"} {
			if !strings.Contains(","+line[1]+",", ","+opt+",") {
				t.Errorf("%s options %q lack %s", m, line[1], opt)
			}
		}
	}
	e.assertNoLeftovers(id)
}

func TestPidsLimit(t *testing.T) {
	e := newEnv(t)
	id := e.running("pids-default")
	if got := readTrim(t, cgroupFile(t, e.state(id).Pid, "pids", "pids.max")); got != "4096" {
		t.Errorf("default pids.max = %s, want 4096", got)
	}
	// update can lower the limit but never lift it.
	e.ok("update", "--pids-limit", "100", id)
	e.fails("refused by rule pids", "update", "--pids-limit", "-1", id)
	e.fails("refused by rule pids", "update", "--pids-limit", "100000", id)
	if got := readTrim(t, cgroupFile(t, e.state(id).Pid, "pids", "pids.max")); got != "100" {
		t.Errorf("pids.max = %s after refused updates, want 100", got)
	}
	// A bounded fork loop hits a (configured) limit.
	e.writeConfig(strings.Replace(readTrim(t, e.config), "[audit]", "[pids]\nlimit = 32\n\n[audit]", 1))
	b := e.newBundle("sh", "-c", "for i in $(seq 64); do sleep 30 & done 2>&1; wait")
	r := e.run("run", "--bundle", b.dir, uniqueID("forkloop"))
	if !strings.Contains(r.stdout+r.stderr, "can't fork") {
		t.Errorf("64 children under pids.max=32: exit %d, output %q", r.code, r.stdout+r.stderr)
	}
}

// Requests captured from real engines are refused with one line naming the rule and the
// config key, and leave nothing behind.
func TestRefusedEngineRequests(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		fixture, rule, key string
	}{
		{"docker-privileged", "privileged", "privileged.allow"},
		{"docker-cap-add-sys-admin", "capabilities", "capabilities.allow"},
		{"docker-volume-root", "mounts.source", "mounts.allow_sources"},
		{"docker-volume-docker-sock", "mounts.source", "mounts.allow_sources"},
		{"docker-pid-host", "namespaces", "namespaces.allow_host"},
		{"docker-network-host", "namespaces", "namespaces.allow_host"},
		{"docker-ipc-host", "mounts.source", "mounts.allow_sources"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			b := fixtureBundle(t, tc.fixture)
			id := uniqueID("refused")
			r := e.fails("refused by rule "+tc.rule+": ", "create", "--bundle", b.dir, id)
			if r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "(allow it with "+tc.key+" in a profile)") {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
			e.assertNoLeftovers(id)
			if ev := e.auditEvents(id, "refusal"); len(ev) != 1 || !strings.Contains(ev[0]["error"].(string), tc.rule) {
				t.Errorf("audit refusal events %v", ev)
			}
			e.fails("refused by rule "+tc.rule+": ", "run", "--bundle", b.dir, id)
			e.assertNoLeftovers(id)
		})
	}
}

// Specs from real engines' default requests run.
func TestEngineDefaultSpecsRun(t *testing.T) {
	e := newEnv(t)
	for _, fixture := range []string{"podman-default", "containerd-ctr-default"} {
		t.Run(fixture, func(t *testing.T) {
			b := fixtureBundle(t, fixture)
			id := uniqueID("engine")
			if r := e.run("run", "--bundle", b.dir, id); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			e.assertNoLeftovers(id)
		})
	}
}

// fixtureBundle makes a bundle from a captured engine spec: the shared rootfs, a command
// that exits, and bind sources from the capture's (gone) daemon roots pointed at files
// that exist. Docker's host-network namespace path becomes what it is on a real host: a
// path to the host's own network namespace.
func fixtureBundle(t *testing.T, name string) *bundle {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "hardening", "testdata", "specs", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{dir: t.TempDir()}
	if err := json.Unmarshal(data, &b.spec); err != nil {
		t.Fatal(err)
	}
	b.spec.Root.Path = rootfsTemplate
	b.spec.Process.Args = []string{"true"}
	b.spec.Process.Terminal = false
	b.spec.Hooks = nil
	b.spec.Linux.CgroupsPath = ""
	stub := filepath.Join(b.dir, "stub")
	if err := os.WriteFile(stub, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, m := range b.spec.Mounts {
		if strings.HasPrefix(m.Source, "/tmp/cap/") {
			if strings.HasSuffix(m.Source, "/shm") {
				b.spec.Mounts[i].Source = b.dir
			} else {
				b.spec.Mounts[i].Source = stub
			}
		}
	}
	for i, ns := range b.spec.Linux.Namespaces {
		if strings.HasSuffix(ns.Path, "/netns/default") {
			b.spec.Linux.Namespaces[i].Path = "/proc/1/ns/net"
		}
	}
	b.save(t)
	return b
}

// auditEvents returns the audit log lines of one container and event type.
func (e *env) auditEvents(id, event string) []map[string]any {
	e.t.Helper()
	return readAuditEvents(e.t, e.audit, id, event)
}

// readAuditEvents returns the lines of the audit log at path for one container and event
// type.
func readAuditEvents(t *testing.T, path, id, event string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if ev["id"] == id && ev["event"] == event {
			out = append(out, ev)
		}
	}
	return out
}

func TestAuditLog(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	id := uniqueID("audit")
	e.ok("create", "--bundle", b.dir, id)
	e.ok("start", id)
	e.ok("exec", id, "true")
	e.ok("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	e.ok("delete", id)
	for _, ev := range []string{"create", "start", "exec", "kill", "delete"} {
		if got := e.auditEvents(id, ev); len(got) != 1 {
			t.Errorf("%d %q events for %s", len(got), ev, id)
		}
	}
	created := e.auditEvents(id, "create")[0]
	if created["bundle"] != b.dir || created["profile"] != "default" || created["user"] != "0:0" {
		t.Errorf("create event %v", created)
	}
	decisions := e.auditEvents(id, "decision")
	rules := map[string]bool{}
	for _, d := range decisions {
		rules[d["decision"].(map[string]any)["rule"].(string)] = true
	}
	for _, r := range []string{"capabilities", "namespaces", "mounts", "rootfs.scratch", "pids", "hooks"} {
		if !rules[r] {
			t.Errorf("no audit decision for rule %s (have %v)", r, rules)
		}
	}
	if st, err := os.Stat(e.audit); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v (%v), want 0600", st.Mode(), err)
	}
}

func TestExecIsHardened(t *testing.T) {
	e := newEnv(t)
	id := e.running("exec-hard")
	r := e.fails("refused by rule capabilities", "exec", "--cap", "CAP_SYS_ADMIN", id, "true")
	if r.code != 255 {
		t.Errorf("refused exec: exit %d, want 255", r.code)
	}
	// --cap of an engine-default capability is dropped, and NoNewPrivs cannot be turned off.
	out := e.ok("exec", "--cap", "CAP_NET_RAW", "--no-new-privs=false", id, "grep", "-E", "^(CapEff|NoNewPrivs)", "/proc/self/status")
	if !strings.Contains(out, "NoNewPrivs:\t1") || strings.Contains(out, "CapEff:\t0000000000002") {
		t.Errorf("exec status:\n%s", out)
	}
}

func TestProfilesRelaxOnlyFromConfig(t *testing.T) {
	e := newEnv(t)
	script := "cp /bin/busybox /tmp/true && /tmp/true; echo tmp-exec=$?"
	// The admin profile test-exec-tmp allows exec on writable mounts.
	b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-exec-tmp"}
	})
	if out := e.ok("run", "--bundle", b.dir, uniqueID("profile")); !strings.Contains(out, "tmp-exec=0") {
		t.Errorf("profile test-exec-tmp: %q", out)
	}
	// A profile config.toml does not define is refused, not ignored.
	b = e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "made-up"}
	})
	id := uniqueID("noprofile")
	e.fails("refused by rule profile", "run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

// --no-pivot (chroot instead of pivot_root) is refused unless a profile allows it; then
// the container runs, and the audit log says the rule was relaxed.
func TestNoPivot(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	id := uniqueID("nopivot")
	r := e.fails("refused by rule rootfs.pivot: --no-pivot requested", "create", "--no-pivot", "--bundle", b.dir, id)
	if r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "(allow it with rootfs.allow_no_pivot in a profile)") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	e.assertNoLeftovers(id)
	if ev := e.auditEvents(id, "refusal"); len(ev) != 1 {
		t.Errorf("audit refusal events %v", ev)
	}
	if out := e.ok("policy", "explain", "--no-pivot", "--bundle", b.dir); !strings.Contains(out, "verdict: refused by rule rootfs.pivot") {
		t.Errorf("policy explain --no-pivot:\n%s", out)
	}

	e.fails("refused by rule rootfs.pivot: --no-pivot requested", "run", "--no-pivot", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)

	b = e.newBundle("sh", "-c", "echo no-pivot-ran").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.profile": "test-no-pivot"}
	})
	id = uniqueID("nopivot-allowed")
	if out := e.ok("run", "--no-pivot", "--bundle", b.dir, id); !strings.Contains(out, "no-pivot-ran") {
		t.Errorf("run --no-pivot under profile test-no-pivot: %q", out)
	}
	e.assertNoLeftovers(id)
	relaxed := false
	for _, d := range e.auditEvents(id, "decision") {
		dec := d["decision"].(map[string]any)
		relaxed = relaxed || dec["rule"] == "rootfs.pivot" && dec["outcome"] == "relaxed"
	}
	if !relaxed {
		t.Errorf("no relaxed rootfs.pivot decision in the audit log")
	}
}

func TestConfigFailsClosed(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	for _, tc := range []struct{ config, want string }{
		{"[pids]\nlimt = 3\n", `line 2: unknown key "pids.limt"`},
		{"[pids\n", "config line"},
		{"[capabilities]\nallow = [\"CAP_FLY\"]\n", "unknown capability"},
	} {
		e.writeConfig(tc.config)
		id := uniqueID("badconfig")
		e.fails(tc.want, "run", "--bundle", b.dir, id)
		e.assertNoLeftovers(id)
	}
	// Unreadable (here: a directory) and explicitly named but missing configs fail too.
	id := uniqueID("dirconfig")
	e.fails("config", "--config", t.TempDir(), "run", "--bundle", b.dir, id)
	e.fails("no such file", "--config", filepath.Join(t.TempDir(), "missing.toml"), "run", "--bundle", b.dir, id)
	e.assertNoLeftovers(id)
}

func TestPolicyExplain(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("true")
	table := e.ok("policy", "explain", "--bundle", b.dir)
	for _, want := range []string{"RULE", "capabilities", "tightened", "verdict: would run"} {
		if !strings.Contains(table, want) {
			t.Errorf("explain table lacks %q:\n%s", want, table)
		}
	}
	var ex struct {
		Profile   string `json:"profile"`
		Refusal   string `json:"refusal"`
		Decisions []struct {
			Rule, Outcome, Before, After string
		} `json:"decisions"`
		Spec *specs.Spec `json:"spec"`
	}
	if err := json.Unmarshal([]byte(e.ok("policy", "explain", "--format", "json", "--bundle", fixtureBundle(t, "docker-cap-add-sys-admin").dir)), &ex); err != nil {
		t.Fatal(err)
	}
	last := ex.Decisions[len(ex.Decisions)-1]
	if !strings.Contains(ex.Refusal, "CAP_SYS_ADMIN") || last.Outcome != "refused" || last.Rule != "capabilities" || ex.Spec != nil {
		t.Errorf("explain of a refused spec: %+v", ex)
	}
	if ents, _ := os.ReadDir(e.root); len(ents) != 0 {
		t.Errorf("explain created state: %v", ents)
	}
}

// containerd reads a failed command's error from the JSON log (--log, --log-format json).
func TestRefusalInJSONLog(t *testing.T) {
	e := newEnv(t)
	log := filepath.Join(t.TempDir(), "log.json")
	b := fixtureBundle(t, "docker-privileged")
	id := uniqueID("jsonlog")
	e.fails("refused by rule privileged", "--log", log, "--log-format", "json", "create", "--bundle", b.dir, id)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var entry struct{ Level, Msg string }
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatalf("log %q: %v", data, err)
	}
	if entry.Level != "error" || !strings.HasPrefix(entry.Msg, "refused by rule privileged: ") {
		t.Errorf("log entry %+v", entry)
	}
	e.assertNoLeftovers(id)
}
