package hardening

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// loadFixture reads a spec captured from a real engine (testdata/specs, see its README).
func loadFixture(t testing.TB, name string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "specs", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// factsFor resolves what the runtime would: Docker's /proc/PID/exe hook to dockerd.
func factsFor(s *specs.Spec) HostFacts {
	f := HostFacts{
		RealPaths: map[string]string{}, NamespacePaths: map[string]FileID{},
		UserNS: UserNSFacts{Allocated: &IDRange{Start: 1000000000, Size: 65536}, Owners: map[string]UserNS{}},
		Rootfs: RootfsFacts{FSType: "ext4"},
		Arch:   "amd64",
		MAC:    MACFacts{LandlockABI: 7},
	}
	if s.Hooks != nil {
		for _, h := range s.Hooks.Prestart { //nolint:staticcheck // Docker still uses it.
			if strings.HasPrefix(h.Path, "/proc/") {
				f.RealPaths[h.Path] = "/usr/sbin/dockerd"
			}
		}
	}
	// A Kubernetes container joins its pod sandbox's namespaces: not the host's. Docker's
	// --network host joins <exec-root>/netns/default, a bind mount of the host's netns:
	// the runtime finds it has the inode of /proc/1/ns/net.
	hostNet := FileID{Dev: 4, Ino: 4026531840}
	f.HostNamespaces = map[specs.LinuxNamespaceType]FileID{specs.NetworkNamespace: hostNet}
	if s.Linux == nil {
		return f
	}
	for i, ns := range s.Linux.Namespaces {
		switch {
		case strings.HasSuffix(ns.Path, "/netns/default"):
			f.NamespacePaths[ns.Path] = hostNet
		case ns.Path != "":
			f.NamespacePaths[ns.Path] = FileID{Dev: 4, Ino: uint64(4026532000 + i)}
		}
		if ns.Path != "" {
			// Namespaces of a pod sandbox created by runc belong to the host user namespace.
			f.UserNS.Owners[ns.Path] = UserNS{Host: true, ID: FileID{Dev: 4, Ino: 4026531837}}
		}
	}
	return f
}

var refusalLine = regexp.MustCompile(`^refused by rule [a-z.-]+: [^\n]+ \((allow it with [^\n]+ in a profile|no profile can allow it)\)$`)

// Every engine's spec either hardens into one that satisfies the policy, or is refused
// by the rule that names the insecure request.
func TestApplyFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		refused string // rule id, "" when the spec must be accepted
		key     string
	}{
		{"runc-template", "", ""},
		{"docker-default", "", ""},
		{"docker-ipc-host", "mounts.source", "mounts.allow_sources"}, // binds the host's /dev/shm
		{"podman-default", "", ""},
		{"containerd-ctr-default", "", ""},
		// Its pod's sandbox, made by runc, left pid, ipc and uts namespaces owned by the
		// host's user namespace: a container in a user namespace of its own cannot set
		// them up (it failed with a bare EPERM); a yoroi sandbox's belong to its own.
		{"containerd-cri-default", "userns", "userns.allow_host"},
		{"containerd-cri-sandbox", "", ""},
		{"docker-privileged", "privileged", "privileged.allow"},
		{"docker-cap-add-sys-admin", "capabilities", "capabilities.allow"},
		{"docker-volume-root", "mounts.source", "mounts.allow_sources"},
		{"docker-volume-docker-sock", "mounts.source", "mounts.allow_sources"},
		{"docker-pid-host", "namespaces", "namespaces.allow_host"},
		{"docker-network-host", "namespaces", "namespaces.allow_host"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			in := loadFixture(t, tc.fixture)
			orig, _ := json.Marshal(in)
			plan, err := Apply(in, DefaultPolicy(), factsFor(in), Request{})
			if after, _ := json.Marshal(in); string(after) != string(orig) {
				t.Fatal("Apply modified its input")
			}
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if err := Verify(plan, DefaultPolicy(), factsFor(in)); err != nil {
					t.Fatalf("hardened spec violates the policy: %v", err)
				}
				if len(plan.Decisions) < len(rules) {
					t.Errorf("%d decisions for %d rules", len(plan.Decisions), len(rules))
				}
				return
			}
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("want refusal by %s, got %v", tc.refused, err)
			}
			if r.Rule != tc.refused || r.Key != tc.key {
				t.Errorf("refused by %s (key %s), want %s (key %s): %v", r.Rule, r.Key, tc.refused, tc.key, r)
			}
			if !refusalLine.MatchString(r.Error()) {
				t.Errorf("refusal %q is not one line in the documented form", r.Error())
			}
			if last := plan.Decisions[len(plan.Decisions)-1]; last.Outcome != Refused {
				t.Errorf("last decision %+v, want the refusal", last)
			}
		})
	}
}

func TestApplyProcess(t *testing.T) {
	p := &specs.Process{Args: []string{"sh"}, Cwd: "/", Capabilities: &specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL", "CAP_NET_RAW"}, Effective: []string{"CAP_KILL"},
	}}
	facts := HostFacts{MAC: MACFacts{LandlockABI: 7}}
	out, _, err := ApplyProcess(p, DefaultPolicy(), facts)
	if err != nil {
		t.Fatal(err)
	}
	if !out.NoNewPrivileges || len(out.Capabilities.Bounding) != 1 || !IsLandlockWrapped(out.Args) || out.Args[len(out.Args)-1] != "sh" {
		t.Errorf("exec process not hardened: %+v", out)
	}
	if _, _, err := ApplyProcess(p, DefaultPolicy(), HostFacts{}); !IsRefusal(err) {
		t.Errorf("exec without any MAC in force: %v, want refusal", err)
	}
	p.Capabilities.Bounding = append(p.Capabilities.Bounding, "CAP_SYS_ADMIN")
	if _, _, err := ApplyProcess(p, DefaultPolicy(), facts); !IsRefusal(err) {
		t.Errorf("exec with CAP_SYS_ADMIN: %v, want refusal", err)
	}
}

// minimalSpec is a small valid spec for rule tests.
func minimalSpec() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/", NoNewPrivileges: true, Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"},
		}},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.MountNamespace},
			{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.CgroupNamespace},
		}},
	}
}

// runRule applies one rule to a copy of s and returns the spec, the decisions and the error.
func runRule(t *testing.T, f func(*checker) error, s *specs.Spec, p *Policy, facts HostFacts) (*specs.Spec, []Decision, error) {
	t.Helper()
	return runRuleRequest(t, f, s, p, facts, Request{})
}

// runTable applies the named rules of the table, in the table's order, as Apply does.
func runTable(t *testing.T, names []string, s *specs.Spec, p *Policy, facts HostFacts) (*specs.Spec, []Decision, error) {
	t.Helper()
	out := deepCopy(s)
	plan := &Plan{}
	c := &checker{spec: out, policy: p, facts: facts, plan: plan}
	for _, r := range rules {
		if slices.Contains(names, r.name) {
			c.rule = r.name
			if err := r.apply(c); err != nil {
				return out, plan.Decisions, err
			}
		}
	}
	return out, plan.Decisions, nil
}

// runRuleMode applies one rule after the userns rule decided mode.
func runRuleMode(t *testing.T, f func(*checker) error, s *specs.Spec, p *Policy, facts HostFacts, mode UserNSMode) (*specs.Spec, []Decision, *Plan, error) {
	t.Helper()
	out, plan, err := runRulePlan(t, f, s, p, facts, mode, Request{})
	return out, plan.Decisions, plan, err
}

// runRuleRequest applies one rule for a create asking req.
func runRuleRequest(t *testing.T, f func(*checker) error, s *specs.Spec, p *Policy, facts HostFacts, req Request) (*specs.Spec, []Decision, error) {
	t.Helper()
	out, plan, err := runRulePlan(t, f, s, p, facts, "", req)
	return out, plan.Decisions, err
}

// runRulePlan applies one rule to a copy of s, after the userns rule decided mode, and
// returns the spec, the plan and the error.
func runRulePlan(t *testing.T, f func(*checker) error, s *specs.Spec, p *Policy, facts HostFacts, mode UserNSMode, req Request) (*specs.Spec, *Plan, error) {
	t.Helper()
	out := deepCopy(s)
	if out.Linux == nil {
		out.Linux = &specs.Linux{}
	}
	plan := &Plan{UserNS: mode}
	c := &checker{spec: out, policy: p, facts: facts, request: req, plan: plan, rule: "test"}
	err := f(c)
	return out, plan, err
}

// wantOutcome asserts the rule's last decision and, on refusal, its config key.
func wantOutcome(t *testing.T, decisions []Decision, err error, want Outcome, key string) {
	t.Helper()
	if len(decisions) == 0 {
		t.Fatalf("no decision recorded (err %v)", err)
	}
	if got := decisions[len(decisions)-1].Outcome; got != want {
		t.Fatalf("outcome %s, want %s (decisions %+v, err %v)", got, want, decisions, err)
	}
	if want == Refused {
		var r *Refusal
		if !errors.As(err, &r) || r.Key != key {
			t.Fatalf("refusal %v, want key %s", err, key)
		}
	} else if err != nil {
		t.Fatalf("unexpected error %v", err)
	}
}

// Every process-scoped rule applies to exec: the MAC rules that exec once skipped among
// them, on hosts where each provider is in force.
func TestApplyProcessMAC(t *testing.T) {
	apparmor := HostFacts{MAC: MACFacts{AppArmorEnabled: true, AppArmorProfiles: []string{"yoroi-default", "custom"}, LandlockABI: 7}}
	selinux := HostFacts{MAC: MACFacts{SELinuxEnabled: true, SELinuxEnforcing: true, LandlockABI: 7, MCS: "c1,c2"}}
	landlock := HostFacts{MAC: MACFacts{LandlockABI: 7}}
	for _, tc := range []struct {
		name        string
		facts       HostFacts
		apparmor    string
		label       string
		refusedRule string
	}{
		{"apparmor unconfined", apparmor, "unconfined", "", "mac.apparmor"},
		{"apparmor profile not loaded", apparmor, "not-loaded", "", "mac.apparmor"},
		{"apparmor loaded profile", apparmor, "custom", "", ""},
		{"apparmor inherited", apparmor, "", "", ""},
		{"selinux spc_t", selinux, "", "system_u:system_r:spc_t:s0", "mac.selinux"},
		{"selinux unconfined_t", selinux, "", "unconfined_u:unconfined_r:unconfined_t:s0", "mac.selinux"},
		{"selinux container_t", selinux, "", "system_u:system_r:container_t:s0:c1,c2", ""},
		{"selinux inherited", selinux, "", "", ""},
		{"apparmor profile without apparmor", landlock, "custom", "", "mac.apparmor"},
		{"selinux label without selinux", landlock, "", "system_u:system_r:spc_t:s0", "mac.selinux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &specs.Process{Args: []string{"sh"}, Cwd: "/", ApparmorProfile: tc.apparmor, SelinuxLabel: tc.label}
			out, _, err := ApplyProcess(p, DefaultPolicy(), tc.facts)
			if tc.refusedRule != "" {
				var r *Refusal
				if !errors.As(err, &r) || r.Rule != tc.refusedRule {
					t.Fatalf("err %v, want a refusal by %s", err, tc.refusedRule)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.ApparmorProfile != tc.apparmor || out.SelinuxLabel != tc.label {
				t.Errorf("labels changed: %q %q", out.ApparmorProfile, out.SelinuxLabel)
			}
		})
	}
}

// A process is hardened the same way by create and by exec: for engines' real specs,
// ApplyProcess gives the process Apply gives. A rule that changes the process but is not
// marked as process-scoped in the table makes them differ.
func TestApplyProcessMatchesApply(t *testing.T) {
	facts := HostFacts{MAC: MACFacts{LandlockABI: 7}, Arch: "amd64",
		UserNS: UserNSFacts{Allocated: &IDRange{Start: 1 << 30, Size: 65536}}, Rootfs: RootfsFacts{FSType: "ext4", RealPath: "/srv/rootfs"}}
	for _, name := range []string{"runc-template", "docker-default", "containerd-ctr-default", "containerd-cri-default"} {
		t.Run(name, func(t *testing.T) {
			spec := loadFixture(t, name)
			// What the fixtures join or run on the host of their capture is not the
			// process's: leave it out, so that Apply accepts them.
			spec.Hooks = nil
			for i := range spec.Linux.Namespaces {
				spec.Linux.Namespaces[i].Path = ""
			}
			plan, err := Apply(spec, DefaultPolicy(), facts, Request{})
			if err != nil {
				t.Fatal(err)
			}
			proc, _, err := ApplyProcess(spec.Process, DefaultPolicy(), facts)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(plan.Spec.Process)
			b, _ := json.Marshal(proc)
			if string(a) != string(b) {
				t.Errorf("create and exec harden the process differently:\ncreate %s\nexec   %s", a, b)
			}
		})
	}
}

// A spec asking for no seccomp flags at all keeps that: libcontainer adds SPEC_ALLOW (the
// speculative store bypass mitigation off) only when the list is absent.
func TestApplyKeepsEmptySeccompFlags(t *testing.T) {
	s := minimalSpec()
	s.Linux.Seccomp = BuiltinSeccomp("amd64", false)
	s.Linux.Seccomp.Flags = []specs.LinuxSeccompFlag{}
	facts := HostFacts{MAC: MACFacts{LandlockABI: 7}, Arch: "amd64", UserNS: UserNSFacts{Allocated: &IDRange{Start: 1 << 30, Size: 65536}}, Rootfs: RootfsFacts{FSType: "ext4", RealPath: "/srv/rootfs"}}
	plan, err := Apply(s, DefaultPolicy(), facts, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if f := plan.Spec.Linux.Seccomp.Flags; f == nil || len(f) != 0 {
		t.Errorf("flags %#v, want an empty list", f)
	}
	s.Linux.Seccomp.Flags = nil
	if plan, _ := Apply(s, DefaultPolicy(), facts, Request{}); plan.Spec.Linux.Seccomp.Flags != nil {
		t.Errorf("absent flags became %#v", plan.Spec.Linux.Seccomp.Flags)
	}
}
