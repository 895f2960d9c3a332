package hardening

import (
	"slices"
	"testing"
)

func TestCheckMaskedPaths(t *testing.T) {
	extra := DefaultPolicy()
	extra.Paths.Masked = []string{"/proc/vmallocinfo"}
	for _, tc := range []struct {
		name   string
		masked []string
		policy *Policy
		want   Outcome
	}{
		{"emptied lists restored", nil, DefaultPolicy(), Tightened},
		{"complete lists kept", builtinMaskedPaths, DefaultPolicy(), Tightened}, // read-only list still empty
		{"extra masked path", nil, extra, Tightened},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.MaskedPaths = tc.masked
			out, d, err := runRule(t, checkMaskedPaths, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			for _, p := range append(append([]string{}, builtinMaskedPaths...), tc.policy.Paths.Masked...) {
				if !slices.Contains(out.Linux.MaskedPaths, p) {
					t.Errorf("%s not masked", p)
				}
			}
			for _, p := range builtinReadonlyPaths {
				if !slices.Contains(out.Linux.ReadonlyPaths, p) {
					t.Errorf("%s not read-only", p)
				}
			}
		})
	}
	s := minimalSpec()
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = builtinMaskedPaths, builtinReadonlyPaths
	_, d, err := runRule(t, checkMaskedPaths, s, DefaultPolicy(), HostFacts{})
	wantOutcome(t, d, err, Kept, "")
}
