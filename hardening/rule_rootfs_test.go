package hardening

import "testing"

func TestCheckReadonlyRoot(t *testing.T) {
	writable := DefaultPolicy()
	writable.Rootfs.Readonly = false
	for _, tc := range []struct {
		name     string
		readonly bool
		policy   *Policy
		want     Outcome
		after    bool
	}{
		{"already read-only", true, DefaultPolicy(), Kept, true},
		{"writable made read-only", false, DefaultPolicy(), Tightened, true},
		{"writable allowed by profile", false, writable, Relaxed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Root.Readonly = tc.readonly
			out, d, err := runRule(t, checkReadonlyRoot, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			if out.Root.Readonly != tc.after {
				t.Errorf("readonly %v, want %v", out.Root.Readonly, tc.after)
			}
		})
	}
}
