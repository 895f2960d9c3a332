package hardening

import (
	"strings"
	"testing"
)

func TestCheckPivot(t *testing.T) {
	allowing := DefaultPolicy()
	allowing.Rootfs.AllowNoPivot = true
	for _, tc := range []struct {
		name    string
		noPivot bool
		policy  *Policy
		want    Outcome
	}{
		{"pivot_root", false, DefaultPolicy(), Kept},
		{"pivot_root under a profile allowing --no-pivot", false, allowing, Kept},
		{"--no-pivot refused", true, DefaultPolicy(), Refused},
		{"--no-pivot allowed by a profile", true, allowing, Relaxed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			_, ds, err := runRuleRequest(t, checkPivot, s, tc.policy, factsFor(s), Request{NoPivot: tc.noPivot})
			wantOutcome(t, ds, err, tc.want, "rootfs.allow_no_pivot")
		})
	}
	// Through Apply: the refusal is the one line users see.
	s := minimalSpec()
	_, err := Apply(s, DefaultPolicy(), factsFor(s), Request{NoPivot: true})
	if want := "refused by rule rootfs.pivot: --no-pivot requested"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Apply with --no-pivot: %v", err)
	}
}
