package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckScratch(t *testing.T) {
	own := specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}}
	for _, tc := range []struct {
		name   string
		mounts []specs.Mount
		want   Outcome
		added  int
	}{
		{"adds /tmp and /run", nil, Tightened, 2},
		{"spec's own /tmp kept", []specs.Mount{own}, Tightened, 1},
		{"spec mounts both", []specs.Mount{own, {Destination: "/run/", Type: "tmpfs", Source: "tmpfs"}}, Kept, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Mounts = tc.mounts
			out, d, err := runRule(t, checkScratch, s, DefaultPolicy(), HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			added := out.Mounts[len(tc.mounts):]
			if len(added) != tc.added {
				t.Fatalf("added %v", added)
			}
			for _, m := range added {
				for _, o := range []string{"nosuid", "nodev", "noexec", "mode=1777", "size=67108864"} {
					if !slices.Contains(m.Options, o) || m.Type != "tmpfs" {
						t.Errorf("scratch %s: %s %v lacks %s", m.Destination, m.Type, m.Options, o)
					}
				}
			}
		})
	}
}
