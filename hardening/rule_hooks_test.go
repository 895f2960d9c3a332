package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckHooks(t *testing.T) {
	facts := HostFacts{RealPaths: map[string]string{"/proc/123/exe": "/usr/sbin/dockerd", "/proc/456/exe": "/usr/bin/evil"}}
	busybox := DefaultPolicy()
	busybox.Hooks.Allow = []string{"/bin/busybox"}
	for _, tc := range []struct {
		name   string
		hooks  *specs.Hooks
		policy *Policy
		want   Outcome
	}{
		{"none", nil, DefaultPolicy(), Kept},
		{"docker setkey via /proc/PID/exe", &specs.Hooks{Prestart: []specs.Hook{{Path: "/proc/123/exe"}}}, DefaultPolicy(), Kept},
		{"other /proc/PID/exe refused", &specs.Hooks{Prestart: []specs.Hook{{Path: "/proc/456/exe"}}}, DefaultPolicy(), Refused},
		{"arbitrary createRuntime refused", &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/tmp/x.sh"}}}, DefaultPolicy(), Refused},
		{"poststop refused too", &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/busybox"}}}, DefaultPolicy(), Refused},
		{"allowed by profile", &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/busybox"}}}, busybox, Kept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Hooks = tc.hooks
			_, d, err := runRule(t, checkHooks, s, tc.policy, facts)
			wantOutcome(t, d, err, tc.want, "hooks.allow")
		})
	}
}

// startContainer hooks run in the container before its seccomp filter and Landlock
// domain: refused unless a profile allows them, then recorded as relaxed.
func TestCheckStartContainerHooks(t *testing.T) {
	allowed := DefaultPolicy()
	allowed.Hooks.AllowStartContainer = true
	allowed.Name = "hooks"
	hooks := &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh"}}}
	s := minimalSpec()
	s.Hooks = hooks
	_, d, err := runTable(t, hookRules, s, DefaultPolicy(), HostFacts{})
	wantOutcome(t, d, err, Refused, "hooks.allow_start_container")
	if r := err.(*Refusal); r.Rule != "hooks.start-container" {
		t.Errorf("rule %s", r.Rule)
	}
	_, d, err = runTable(t, hookRules, s, allowed, HostFacts{})
	if err != nil || len(d) != 2 || d[0].Rule != "hooks.start-container" || d[0].Outcome != Relaxed {
		t.Errorf("allowed by profile: %v %+v", err, d)
	}
}

// hookRules are the rules that judge hooks, in table order.
var hookRules = []string{"hooks.start-container", "hooks"}
