package hardening

import "testing"

func TestCheckCwd(t *testing.T) {
	for _, tc := range []struct {
		cwd  string
		want Outcome
	}{
		{"", Kept},
		{"/", Kept},
		{"/app", Kept},
		{"/home/user/", Kept},
		{"/proc/self/fd/7", Refused},
		{"/proc/self/fd/7/../../..", Refused},
		{"/proc/1/cwd", Refused},
		{"/proc", Refused},
		{"/dev/fd/5", Refused},
		{"/sys/fs/cgroup", Refused},
		{"/app/../proc/self/fd/7", Refused},
		{"/app/..", Refused},
		{"tmp", Refused},
		{"/procfs", Kept},
		{"/device", Kept},
	} {
		t.Run(tc.cwd, func(t *testing.T) {
			s := minimalSpec()
			s.Process.Cwd = tc.cwd
			_, d, err := runRule(t, checkCwd, s, DefaultPolicy(), HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			if tc.want == Refused && !refusalLine.MatchString(err.Error()) {
				t.Errorf("refusal %q is not one line in the documented form", err)
			}
		})
	}
}
