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
