package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckNamespaces(t *testing.T) {
	hostNet := FileID{Dev: 4, Ino: 4026531840}
	podNet := FileID{Dev: 4, Ino: 4026532999}
	facts := HostFacts{
		HostNamespaces: map[specs.LinuxNamespaceType]FileID{specs.NetworkNamespace: hostNet},
		NamespacePaths: map[string]FileID{"/proc/1/ns/net": hostNet, "/proc/4242/ns/net": podNet},
	}
	allowHostNet := DefaultPolicy()
	allowHostNet.Namespaces.AllowHost = []string{"network"}
	without := func(typ specs.LinuxNamespaceType) func(*specs.Spec) {
		return func(s *specs.Spec) {
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != typ {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		}
	}
	withPath := func(p string) func(*specs.Spec) {
		return func(s *specs.Spec) {
			for i := range s.Linux.Namespaces {
				if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
					s.Linux.Namespaces[i].Path = p
				}
			}
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		policy *Policy
		want   Outcome
	}{
		{"all private", func(*specs.Spec) {}, DefaultPolicy(), Kept},
		{"host network", without(specs.NetworkNamespace), DefaultPolicy(), Refused},
		{"host pid", without(specs.PIDNamespace), DefaultPolicy(), Refused},
		{"host ipc gets its own", without(specs.IPCNamespace), DefaultPolicy(), Tightened},
		{"no cgroup namespace gets one", without(specs.CgroupNamespace), DefaultPolicy(), Tightened},
		{"no mount namespace gets one", without(specs.MountNamespace), DefaultPolicy(), Tightened},
		{"host network by path", withPath("/proc/1/ns/net"), DefaultPolicy(), Refused},
		{"pod sandbox network by path", withPath("/proc/4242/ns/net"), DefaultPolicy(), Kept},
		{"unverifiable path", withPath("/proc/999/ns/net"), DefaultPolicy(), Refused},
		{"host network allowed by profile", without(specs.NetworkNamespace), allowHostNet, Relaxed},
		{"host network path allowed by profile", withPath("/proc/1/ns/net"), allowHostNet, Kept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			tc.mutate(s)
			out, d, err := runRule(t, checkNamespaces, s, tc.policy, facts)
			wantOutcome(t, d, err, tc.want, "namespaces.allow_host")
			if tc.want == Tightened && len(out.Linux.Namespaces) != 6 {
				t.Errorf("namespaces %v", out.Linux.Namespaces)
			}
		})
	}
}
