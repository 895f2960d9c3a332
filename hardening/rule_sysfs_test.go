package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckSysfs(t *testing.T) {
	sysfs := specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "ro"}}
	for _, tc := range []struct {
		name    string
		mode    string
		netPath string
		want    Outcome
		bind    bool
	}{
		{"own network namespace", "allocated", "", Kept, false},
		{"pod network namespace from CNI", "allocated", "/var/run/netns/cni-1", Tightened, true},
		{"pod user namespace owns the netns", "pod", "/proc/42/ns/net", Kept, false},
		{"pod joins a netns made by CNI", "pod", "/var/run/netns/cni-1", Tightened, true},
		{"caller's user namespace", "caller", "/var/run/netns/cni-1", Kept, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: tc.netPath}}
			s.Mounts = []specs.Mount{sysfs}
			facts := HostFacts{UserNS: UserNSFacts{Owners: map[string]UserNS{
				"/var/run/netns/cni-1": {Host: true},
				"/proc/42/ns/net":      {Path: "/proc/42/ns/user"},
			}}}
			out, d, _, err := runRuleMode(t, checkSysfs, s, DefaultPolicy(), facts, UserNSMode(tc.mode))
			wantOutcome(t, d, err, tc.want, "")
			if got := isSysfsBind(out.Mounts[0]); got != tc.bind {
				t.Errorf("mount %+v", out.Mounts[0])
			}
		})
	}
}
