package hardening

import "testing"

func TestCheckNoNewPrivileges(t *testing.T) {
	relaxed := DefaultPolicy()
	relaxed.Process.AllowNewPrivileges = true
	for _, tc := range []struct {
		name   string
		in     bool
		policy *Policy
		want   Outcome
		out    bool
	}{
		{"set is kept", true, DefaultPolicy(), Kept, true},
		{"unset is forced", false, DefaultPolicy(), Tightened, true},
		{"unset is left where a profile allows", false, relaxed, Relaxed, false},
		{"set stays set where a profile allows", true, relaxed, Kept, true},
	} {
		s := minimalSpec()
		s.Process.NoNewPrivileges = tc.in
		out, d, err := runRule(t, checkNoNewPrivileges, s, tc.policy, HostFacts{})
		wantOutcome(t, d, err, tc.want, "")
		if out.Process.NoNewPrivileges != tc.out {
			t.Errorf("%s: noNewPrivileges %v, want %v", tc.name, out.Process.NoNewPrivileges, tc.out)
		}
	}
}
