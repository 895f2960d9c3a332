package hardening

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// fixtureSpecs are the engines' specs of testdata/specs.
func fixtureSpecs(t *testing.T) map[string]*specs.Spec {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "specs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	out := map[string]*specs.Spec{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s specs.Spec
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = &s
	}
	return out
}

// Every decision bears the name of the rule that made it, rules decide in table order,
// and names are unique: a decision or refusal says exactly which rule to read.
func TestRulesEmitOnlyTheirOwnName(t *testing.T) {
	order := map[string]int{}
	for i, r := range rules {
		if _, dup := order[r.name]; dup {
			t.Fatalf("rule %s twice in the table", r.name)
		}
		order[r.name] = i
	}
	relaxed := DefaultPolicy()
	relaxed.Name = "relaxed"
	relaxed.Privileged.Allow = true
	relaxed.Mounts.AllowSources = []string{"/", "/var/run/docker.sock", "/dev/shm"}
	relaxed.Namespaces.AllowHost = []string{"pid", "network", "ipc"}
	relaxed.Capabilities.Allow = allCapabilities
	relaxed.Userns.AllowHost = true
	for name, spec := range fixtureSpecs(t) {
		for _, p := range []*Policy{DefaultPolicy(), relaxed} {
			plan, err := Apply(spec, p, factsFor(spec), Request{})
			last := -1
			for _, d := range plan.Decisions {
				at, ok := order[d.Rule]
				if !ok {
					t.Errorf("%s under %s: decision by %q, which is no rule of the table", name, p.Name, d.Rule)
					continue
				}
				if at < last {
					t.Errorf("%s under %s: %s decided after %s", name, p.Name, d.Rule, rules[last].name)
				}
				last = at
			}
			if r, ok := err.(*Refusal); ok && (len(plan.Decisions) == 0 || plan.Decisions[len(plan.Decisions)-1].Rule != r.Rule) {
				t.Errorf("%s under %s: refusal by %s is not the last decision", name, p.Name, r.Rule)
			}
		}
	}
}

// Every rule states its postcondition, but for those that leave nothing to check.
func TestEveryRuleHasAPostcondition(t *testing.T) {
	nothingToCheck := map[string]string{
		"profile":      "it selects the policy and records its differences; it changes no spec",
		"rootfs.pivot": "--no-pivot is a create option, not part of the spec",
	}
	for _, r := range rules {
		if (r.verify == nil) != (nothingToCheck[r.name] != "") {
			t.Errorf("rule %s: verify %v, exempt %q", r.name, r.verify != nil, nothingToCheck[r.name])
		}
	}
}

// Each postcondition is checked on its own: breaking a hardened spec in the one way a
// rule forbids fails verification by that rule. (The fuzz target checks the converse:
// whatever Apply accepts verifies.)
func TestVerifyCatchesEachViolation(t *testing.T) {
	base := fixtureSpecs(t)["docker-default"]
	facts := factsFor(base)
	facts.MAC = MACFacts{LandlockABI: 7, AppArmorEnabled: true, AppArmorProfiles: []string{"yoroi-default"}}
	facts.Sources = map[string]SourceFacts{}
	facts.NamespacePaths["/var/run/netns/cni-1"] = FileID{Dev: 4, Ino: 4026532999}
	policy := DefaultPolicy()
	policy.Users.DenyGIDs = IDSpans{{4294967295, 4294967295}}
	for _, tc := range []struct {
		rule   string
		break_ func(s *specs.Spec, p *Plan)
	}{
		{"privileged", func(s *specs.Spec, _ *Plan) {
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"})
		}},
		{"process.no-new-privileges", func(s *specs.Spec, _ *Plan) { s.Process.NoNewPrivileges = false }},
		{"process.cwd", func(s *specs.Spec, _ *Plan) { s.Process.Cwd = "/proc/self/fd/7" }},
		{"users", func(s *specs.Spec, _ *Plan) { s.Process.User.AdditionalGids = []uint32{4294967295} }},
		{"capabilities", func(s *specs.Spec, _ *Plan) { s.Process.Capabilities.Ambient = []string{"sys_admin"} }},
		{"namespaces", func(s *specs.Spec, _ *Plan) {
			s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.PIDNamespace })
		}},
		{"userns", func(s *specs.Spec, _ *Plan) { s.Linux.UIDMappings[0].HostID = 0 }},
		{"rootfs.source", func(s *specs.Spec, _ *Plan) { s.Root.Path = "/etc" }},
		{"rootfs.readonly", func(s *specs.Spec, _ *Plan) { s.Root.Readonly = false }},
		{"mounts.propagation", func(s *specs.Spec, _ *Plan) { s.Linux.RootfsPropagation = "rshared" }},
		{"mounts.source", func(s *specs.Spec, _ *Plan) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/h", Type: "bind", Source: "/var/lib", Options: []string{"rbind", "ro", "nosuid", "nodev"}, UIDMappings: s.Linux.UIDMappings, GIDMappings: s.Linux.GIDMappings})
		}},
		{"mounts", func(s *specs.Spec, _ *Plan) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/w", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}})
		}},
		{"mounts.sysfs", func(s *specs.Spec, _ *Plan) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1"})
		}},
		{"rootfs.idmap", func(_ *specs.Spec, p *Plan) { p.RootfsIdmap = "" }},
		{"rootfs.scratch", func(s *specs.Spec, _ *Plan) {
			s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/tmp" })
		}},
		{"paths", func(s *specs.Spec, _ *Plan) { s.Linux.MaskedPaths = s.Linux.MaskedPaths[1:] }},
		{"devices", func(s *specs.Spec, _ *Plan) { s.Linux.Resources.Devices = s.Linux.Resources.Devices[1:] }},
		{"sysctls", func(s *specs.Spec, _ *Plan) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }},
		{"seccomp.allow-by-default", func(s *specs.Spec, _ *Plan) { s.Linux.Seccomp.DefaultAction = specs.ActLog }},
		{"seccomp", func(s *specs.Spec, _ *Plan) {
			s.Linux.Seccomp.Syscalls = append(s.Linux.Seccomp.Syscalls, specs.LinuxSyscall{Names: []string{"kexec_load"}, Action: specs.ActAllow})
		}},
		{"mac.apparmor", func(s *specs.Spec, _ *Plan) { s.Process.ApparmorProfile = "unconfined" }},
		{"mac.landlock", func(s *specs.Spec, _ *Plan) { s.Process.Args = []string{"sh"} }},
		{"pids", func(s *specs.Spec, _ *Plan) { s.Linux.Resources.Pids = nil }},
		{"hooks.start-container", func(s *specs.Spec, _ *Plan) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		}},
		{"hooks", func(s *specs.Spec, _ *Plan) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}} }},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			plan, err := Apply(base, policy, facts, Request{})
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(plan, policy, facts); err != nil {
				t.Fatalf("before: %v", err)
			}
			tc.break_(plan.Spec, plan)
			err = Verify(plan, policy, facts)
			if err == nil || !strings.HasPrefix(err.Error(), "verify "+tc.rule+": ") {
				t.Errorf("got %v, want a failure of %s", err, tc.rule)
			}
		})
	}
}

// An exec'd process is held to the process rules' postconditions.
func TestVerifyProcess(t *testing.T) {
	facts := HostFacts{MAC: MACFacts{LandlockABI: 7}}
	p, _, err := ApplyProcess(&specs.Process{Args: []string{"sh"}, Cwd: "/"}, DefaultPolicy(), facts)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProcess(p, DefaultPolicy(), facts); err != nil {
		t.Fatal(err)
	}
	p.Capabilities.Bounding = append(p.Capabilities.Bounding, "CAP_SYS_ADMIN")
	if err := VerifyProcess(p, DefaultPolicy(), facts); err == nil || !strings.HasPrefix(err.Error(), "verify capabilities: ") {
		t.Errorf("got %v", err)
	}
}

// What the runtime stages (the id-mapped root, its own mounts) is verified with the rest:
// the staged root is judged as the root it is a view of, and only the runtime's own
// mounts may have yoroi's state as their source.
func TestVerifyStaged(t *testing.T) {
	base := fixtureSpecs(t)["runc-template"]
	facts := factsFor(base)
	plan, err := Apply(base, DefaultPolicy(), facts, Request{})
	if err != nil {
		t.Fatal(err)
	}
	plan.StageRoot("rootfs.idmap", "/bundle/rootfs", "/run/yoroi/mnt/abc/rootfs", "id-mapped root")
	plan.AddMount("notify-socket", specs.Mount{Destination: "/run/notify", Source: "/run/yoroi/abc/notify", Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"}}, []string{"NOTIFY_SOCKET=/run/notify/notify.sock"}, "relayed")
	if err := Verify(plan, DefaultPolicy(), facts); err != nil {
		t.Fatal(err)
	}
	if d := plan.Decisions[len(plan.Decisions)-1]; d.Outcome != Staged {
		t.Errorf("last decision %+v", d)
	}
	plan.Spec.Mounts = append(plan.Spec.Mounts, specs.Mount{Destination: "/state", Source: "/run/yoroi/abc", Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"}, UIDMappings: plan.Spec.Linux.UIDMappings, GIDMappings: plan.Spec.Linux.GIDMappings})
	if err := Verify(plan, DefaultPolicy(), facts); err == nil || !strings.HasPrefix(err.Error(), "verify mounts.source: ") {
		t.Errorf("a bind of yoroi's state the runtime did not add: %v", err)
	}
}

func TestStageRootRebasesBindsBeneathIt(t *testing.T) {
	s := &specs.Spec{Process: &specs.Process{}, Root: &specs.Root{Path: "rootfs"}, Linux: &specs.Linux{}, Mounts: []specs.Mount{
		{Destination: "/mnt/x", Source: "/b/rootfs/mnt/x", Type: "bind", Options: []string{"rbind"}},
		{Destination: "/y", Source: "/b/rootfsy/z", Type: "bind"},
		{Destination: "/tmp", Source: "/b/rootfs/tmp", Type: "tmpfs"},
		{Destination: "/data", Source: "/srv/data", Options: []string{"bind"}},
	}}
	plan := &Plan{Spec: s}
	plan.StageRoot("rootfs.idmap", "/b/rootfs/", "/staged/root", "test")
	want := []string{"/staged/root/mnt/x", "/b/rootfsy/z", "/b/rootfs/tmp", "/srv/data"}
	for i, m := range s.Mounts {
		if m.Source != want[i] {
			t.Errorf("%s: source %s, want %s", m.Destination, m.Source, want[i])
		}
	}
	if s.Root.Path != "/staged/root" || plan.Staged.Original != "/b/rootfs" {
		t.Errorf("root %s, staged %+v", s.Root.Path, plan.Staged)
	}
	v := &verifier{spec: s, plan: plan}
	if got := v.hostPath("/staged/root/mnt/x"); got != "/b/rootfs/mnt/x" {
		t.Errorf("host path %s", got)
	}
}
