package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckPids(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		in   *specs.LinuxPids
		want Outcome
		out  int64
	}{
		{"unset gets the default", nil, Tightened, 4096},
		{"unlimited gets the default", &specs.LinuxPids{Limit: i(-1)}, Tightened, 4096},
		{"zero is the strictest and kept", &specs.LinuxPids{Limit: i(0)}, Kept, 0},
		{"lower kept", &specs.LinuxPids{Limit: i(100)}, Kept, 100},
		{"higher clamped", &specs.LinuxPids{Limit: i(1 << 30)}, Tightened, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Resources = &specs.LinuxResources{Pids: tc.in}
			out, d, err := runRule(t, checkPids, s, DefaultPolicy(), HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			if got := *out.Linux.Resources.Pids.Limit; got != tc.out {
				t.Errorf("limit %d, want %d", got, tc.out)
			}
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		res  *specs.LinuxResources
		ok   bool
	}{
		{"no pids change", &specs.LinuxResources{}, true},
		{"lowered", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(10)}}, true},
		{"unlimited refused", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(-1)}}, false},
		{"lowered to zero", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(0)}}, true},
		{"above maximum refused", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(100000)}}, false},
	} {
		if err := CheckUpdate(tc.res, DefaultPolicy()); (err == nil) != tc.ok || (err != nil && !IsRefusal(err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
