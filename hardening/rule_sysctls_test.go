package hardening

import (
	"maps"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckSysctls(t *testing.T) {
	msg := DefaultPolicy()
	msg.Sysctls.Allow = []string{"kernel.msg*"}
	for _, tc := range []struct {
		name    string
		sysctl  map[string]string
		hostNet bool
		policy  *Policy
		want    Outcome
	}{
		{"none", nil, false, DefaultPolicy(), Kept},
		{"kubernetes safe set", map[string]string{"kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "0"}, false, DefaultPolicy(), Kept},
		{"net.* with private netns", map[string]string{"net.core.somaxconn": "1024"}, false, DefaultPolicy(), Kept},
		{"net.* with host network refused", map[string]string{"net.core.somaxconn": "1024"}, true, DefaultPolicy(), Refused},
		{"kernel.* refused", map[string]string{"kernel.core_pattern": "|/tmp/x"}, false, DefaultPolicy(), Refused},
		{"vm.* refused", map[string]string{"vm.overcommit_memory": "1"}, false, DefaultPolicy(), Refused},
		{"path traversal refused", map[string]string{"net/../kernel/core_pattern": "x"}, false, DefaultPolicy(), Refused},
		{"prefix allowed by profile", map[string]string{"kernel.msgmax": "65536"}, false, msg, Kept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Sysctl = tc.sysctl
			if tc.hostNet {
				s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}}
			}
			_, d, err := runRule(t, checkSysctls, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "sysctls.allow")
		})
	}
}

func TestClampPingGroupRange(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000000000, Size: 65536}}
	s := minimalSpec()
	s.Linux.GIDMappings = m
	s.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 2147483647"}
	out, d, err := runRule(t, checkSysctls, s, DefaultPolicy(), HostFacts{})
	wantOutcome(t, d, err, Tightened, "")
	if got := out.Linux.Sysctl["net.ipv4.ping_group_range"]; got != "0 65535" {
		t.Errorf("clamped to %q", got)
	}
	s.Linux.Sysctl["net.ipv4.ping_group_range"] = "0 0"
	_, d, err = runRule(t, checkSysctls, s, DefaultPolicy(), HostFacts{})
	wantOutcome(t, d, err, Kept, "")
}

func TestForeignNetnsSysctlsMovedToTheRuntime(t *testing.T) {
	s := minimalSpec()
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1"}, {Type: specs.PIDNamespace}}
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1"}
	out, d, plan, err := runRuleMode(t, checkSysctls, s, DefaultPolicy(), HostFacts{}, UserNSMode("allocated"))
	wantOutcome(t, d, err, Tightened, "")
	if _, left := out.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"]; left || out.Linux.Sysctl["kernel.shm_rmid_forced"] != "1" {
		t.Errorf("sysctls %v", out.Linux.Sysctl)
	}
	if !maps.Equal(plan.NetSysctls, map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}) {
		t.Errorf("sysctls for the runtime %v", plan.NetSysctls)
	}
}
