package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckPids(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	unlimited := DefaultPolicy()
	unlimited.Pids.AllowUnlimited = true
	for _, tc := range []struct {
		name   string
		in     *specs.LinuxPids
		policy *Policy
		want   Outcome
		out    int64
	}{
		{"unset gets the default", nil, DefaultPolicy(), Tightened, 4096},
		{"unlimited gets the default", &specs.LinuxPids{Limit: i(-1)}, DefaultPolicy(), Tightened, 4096},
		{"zero is the strictest and kept", &specs.LinuxPids{Limit: i(0)}, DefaultPolicy(), Kept, 0},
		{"lower kept", &specs.LinuxPids{Limit: i(100)}, DefaultPolicy(), Kept, 100},
		{"higher clamped", &specs.LinuxPids{Limit: i(1 << 30)}, DefaultPolicy(), Tightened, 4096},
		{"unlimited kept where allowed", &specs.LinuxPids{Limit: i(-1)}, unlimited, Relaxed, -1},
		{"unset still gets the default where unlimited is allowed", nil, unlimited, Tightened, 4096},
		{"higher still clamped where unlimited is allowed", &specs.LinuxPids{Limit: i(1 << 30)}, unlimited, Tightened, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Resources = &specs.LinuxResources{Pids: tc.in}
			out, d, err := runRule(t, checkPids, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			if got := *out.Linux.Resources.Pids.Limit; got != tc.out {
				t.Errorf("limit %d, want %d", got, tc.out)
			}
		})
	}
}

// pids.allow_unset leaves a spec without a limit without one; what a spec sets is still
// capped.
func TestCheckPidsAllowUnset(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	p := DefaultPolicy()
	p.Pids.AllowUnset = true
	for _, s := range []*specs.LinuxResources{nil, {}, {Pids: &specs.LinuxPids{}}} {
		spec := minimalSpec()
		spec.Linux.Resources = s
		out, d, err := runRule(t, checkPids, spec, p, HostFacts{})
		wantOutcome(t, d, err, Relaxed, "")
		if r := out.Linux.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil {
			t.Errorf("limit %d set", *r.Pids.Limit)
		}
	}
	spec := minimalSpec()
	spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(1 << 30)}}
	out, d, err := runRule(t, checkPids, spec, p, HostFacts{})
	wantOutcome(t, d, err, Tightened, "")
	if got := *out.Linux.Resources.Pids.Limit; got != 4096 {
		t.Errorf("limit %d, want 4096", got)
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
	unlimited := DefaultPolicy()
	unlimited.Pids.AllowUnlimited = true
	if err := CheckUpdate(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(-1)}}, unlimited); err != nil {
		t.Errorf("unlimited where allowed: %v", err)
	}
	if err := CheckUpdate(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(100000)}}, unlimited); err == nil {
		t.Errorf("above maximum accepted where unlimited is allowed")
	}
}
