package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckPrivileged(t *testing.T) {
	allow := DefaultPolicy()
	allow.Privileged.Allow = true
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		policy *Policy
		want   Outcome
	}{
		{"ordinary", func(*specs.Spec) {}, DefaultPolicy(), Kept},
		{"all caps", func(s *specs.Spec) { s.Process.Capabilities.Bounding = allCapabilities }, DefaultPolicy(), Refused},
		{"all caps without CAP_ prefix", func(s *specs.Spec) {
			var short []string
			for _, c := range allCapabilities {
				short = append(short, c[4:])
			}
			s.Process.Capabilities.Bounding = short
		}, DefaultPolicy(), Refused},
		{"all but one cap", func(s *specs.Spec) { s.Process.Capabilities.Bounding = allCapabilities[1:] }, DefaultPolicy(), Kept},
		{"allow all devices", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}}
		}, DefaultPolicy(), Refused},
		{"allow all devices type a", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "a", Access: "rwm"}}}
		}, DefaultPolicy(), Refused},
		{"privileged allowed by profile", func(s *specs.Spec) { s.Process.Capabilities.Bounding = allCapabilities }, allow, Relaxed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			tc.mutate(s)
			_, d, err := runRule(t, checkPrivileged, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "privileged.allow")
		})
	}
}
