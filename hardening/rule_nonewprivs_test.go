package hardening

import "testing"

func TestCheckNoNewPrivileges(t *testing.T) {
	for _, tc := range []struct {
		in   bool
		want Outcome
	}{{true, Kept}, {false, Tightened}} {
		s := minimalSpec()
		s.Process.NoNewPrivileges = tc.in
		out, d, err := runRule(t, checkNoNewPrivileges, s, DefaultPolicy(), HostFacts{})
		wantOutcome(t, d, err, tc.want, "")
		if !out.Process.NoNewPrivileges {
			t.Errorf("in=%v: noNewPrivileges not set", tc.in)
		}
	}
}
