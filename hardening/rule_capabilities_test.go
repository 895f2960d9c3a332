package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckCapabilities(t *testing.T) {
	extra := DefaultPolicy()
	extra.Capabilities.Allow = append(extra.Capabilities.Allow, "CAP_SYS_ADMIN")
	for _, tc := range []struct {
		name     string
		caps     *specs.LinuxCapabilities
		policy   *Policy
		want     Outcome
		bounding []string
	}{
		{"allowed only", &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_CHOWN"}}, DefaultPolicy(), Kept, []string{"CAP_KILL", "CAP_CHOWN"}},
		{"docker defaults dropped", &specs.LinuxCapabilities{
			Bounding:  []string{"CAP_CHOWN", "CAP_NET_RAW", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SYS_CHROOT", "CAP_SETFCAP", "CAP_SETPCAP"},
			Effective: []string{"CAP_NET_RAW"}, Ambient: []string{"CAP_NET_RAW"},
		}, DefaultPolicy(), Tightened, []string{"CAP_CHOWN"}},
		{"short names normalized", &specs.LinuxCapabilities{Bounding: []string{"kill", "NET_RAW"}}, DefaultPolicy(), Tightened, []string{"CAP_KILL"}},
		{"sys_admin refused", &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_SYS_ADMIN"}}, DefaultPolicy(), Refused, nil},
		{"sys_admin only in ambient refused", &specs.LinuxCapabilities{Ambient: []string{"CAP_SYS_ADMIN"}}, DefaultPolicy(), Refused, nil},
		{"bpf refused", &specs.LinuxCapabilities{Effective: []string{"CAP_BPF"}}, DefaultPolicy(), Refused, nil},
		{"ipc_lock (neither allowed nor engine default) refused", &specs.LinuxCapabilities{Bounding: []string{"CAP_IPC_LOCK"}}, DefaultPolicy(), Refused, nil},
		{"unknown ignored, as runc does", &specs.LinuxCapabilities{Bounding: []string{"CAP_MAKE_COFFEE", "CAP_KILL"}}, DefaultPolicy(), Tightened, []string{"CAP_KILL"}},
		{"sys_admin allowed by profile", &specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_ADMIN"}}, extra, Kept, []string{"CAP_SYS_ADMIN"}},
		{"unset gets none", nil, DefaultPolicy(), Tightened, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			s := minimalSpec()
			s.Process.Capabilities = tc.caps
			out, d, err := runRule(t, checkCapabilities, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "capabilities.allow")
			if tc.want == Refused {
				return
			}
			if !slices.Equal(out.Process.Capabilities.Bounding, tc.bounding) {
				t.Errorf("bounding %v, want %v", out.Process.Capabilities.Bounding, tc.bounding)
			}
			for _, set := range [][]string{out.Process.Capabilities.Effective, out.Process.Capabilities.Ambient, out.Process.Capabilities.Permitted} {
				for _, c := range set {
					if !slices.Contains(tc.policy.Capabilities.Allow, c) {
						t.Errorf("%s left in a set", c)
					}
				}
			}
		})
	}
}
