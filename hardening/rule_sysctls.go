package hardening

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// safeSysctls is Kubernetes' safe set: namespaced and unable to affect other containers.
var safeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

// checkSysctls allows the safe set, net.* with a private network namespace, and
// sysctls.allow; anything else is refused.
func checkSysctls(c *checker) error {
	l := c.spec.Linux
	privateNet := slices.ContainsFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.NetworkNamespace
	})
	names := make([]string, 0, len(l.Sysctl))
	for name := range l.Sysctl {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if sysctlAllowed(name, privateNet, c.policy.Sysctls.Allow) {
			continue
		}
		return c.refuse(fmt.Sprintf("sysctl %s=%s is not namespaced-safe", name, l.Sysctl[name]), "sysctls.allow")
	}
	if moved := moveForeignNetSysctls(c); moved != "" {
		c.tightened("the joined network namespace belongs to another user namespace: yoroi sets its net.* sysctls from the host", moved, "(applied by the runtime)")
		return nil
	}
	if v, ok := l.Sysctl[pingGroupRange]; ok {
		if clamped, changed := clampPingGroupRange(v, l.GIDMappings); changed {
			l.Sysctl[pingGroupRange] = clamped
			c.tightened(pingGroupRange+" limited to the gids of the container's user namespace", v, clamped)
			return nil
		}
	}
	c.kept(fmt.Sprintf("%d safe sysctls", len(names)))
	return nil
}

const pingGroupRange = "net.ipv4.ping_group_range"

// clampPingGroupRange: Docker asks for "0 2147483647", which the kernel rejects in a user
// namespace where those gids are not mapped. The range is cut to the mapped gids.
func clampPingGroupRange(v string, gids []specs.LinuxIDMapping) (string, bool) {
	var lo, hi uint64
	if _, err := fmt.Sscan(v, &lo, &hi); err != nil || len(gids) == 0 {
		return v, false
	}
	var maxMapped uint64
	for _, m := range gids {
		if end := uint64(m.ContainerID) + uint64(m.Size); end > 0 && end-1 > maxMapped {
			maxMapped = end - 1
		}
	}
	if hi <= maxMapped {
		return v, false
	}
	if lo > maxMapped {
		lo = maxMapped
	}
	return fmt.Sprintf("%d %d", lo, maxMapped), true
}

func sysctlAllowed(name string, privateNet bool, extra []string) bool {
	if strings.Contains(name, "/") || strings.Contains(name, "..") {
		return false
	}
	if slices.Contains(safeSysctls, name) || (privateNet && strings.HasPrefix(name, "net.")) {
		return true
	}
	for _, e := range extra {
		if e == name || (strings.HasSuffix(e, "*") && strings.HasPrefix(name, strings.TrimSuffix(e, "*"))) {
			return true
		}
	}
	return false
}

// joinsForeignNetns: yoroi chose the container's user namespace (a private one, or its
// pod's) but the network namespace it joins belongs to another one (the host's: the CRI
// plugin and CNI make pod network namespaces).
func joinsForeignNetns(c *checker) bool {
	mode := c.plan.UserNS
	if !mode.yoroiChoseUserNS() {
		return false
	}
	return slices.ContainsFunc(c.spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		if ns.Type != specs.NetworkNamespace || ns.Path == "" {
			return false
		}
		return mode == UserNSAllocated || c.facts.UserNS.Owners[ns.Path].Host
	})
}

func moveForeignNetSysctls(c *checker) string {
	l := c.spec.Linux
	if !joinsForeignNetns(c) {
		return ""
	}
	moved := map[string]string{}
	for k, v := range l.Sysctl {
		if strings.HasPrefix(k, "net.") {
			moved[k] = v
			delete(l.Sysctl, k)
		}
	}
	if len(moved) == 0 {
		return ""
	}
	c.plan.NetSysctls = moved
	data, _ := json.Marshal(moved)
	return string(data)
}

// verifySysctls: each sysctl, the spec's and those the runtime sets from the host, is in
// Kubernetes' safe set, is net.* with the container's own network namespace, or is on
// sysctls.allow.
func verifySysctls(v *verifier) error {
	ownNet := slices.ContainsFunc(v.spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
	for _, set := range []map[string]string{v.spec.Linux.Sysctl, v.plan.NetSysctls} {
		for name := range set {
			safe := slices.Contains(safeSysctls, name) || slices.Contains(v.policy.Sysctls.Allow, name) ||
				ownNet && strings.HasPrefix(name, "net.")
			if !safe {
				return fmt.Errorf("sysctl %s", name)
			}
		}
	}
	for name := range v.plan.NetSysctls {
		if !strings.HasPrefix(name, "net.") {
			return fmt.Errorf("the runtime would set %s from the host", name)
		}
	}
	return nil
}
