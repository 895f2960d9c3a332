package hardening

import (
	"fmt"
	"slices"
	"strings"
)

// unconfinedSELinuxTypes are the SELinux process types that mean no confinement.
var unconfinedSELinuxTypes = []string{"spc_t", "unconfined_t", "kernel_t", "container_runtime_t", "init_t"}

// checkSELinux: where SELinux enforces, the process gets container_t with the
// container's unique MCS pair (and the mount label to match) unless it brings a confined
// label; spc_t, unconfined_t and the like are refused.
func checkSELinux(c *checker) error {
	p := c.spec.Process
	if !macActive(c, "selinux") {
		if p.SelinuxLabel != "" && !c.facts.MAC.SELinuxEnabled {
			return c.refuse(fmt.Sprintf("SELinux label %q requested but SELinux is not enabled", p.SelinuxLabel), "mac.accept")
		}
		c.kept("SELinux not in force")
		return nil
	}
	if p.SelinuxLabel != "" {
		parts := strings.Split(p.SelinuxLabel, ":")
		if len(parts) < 3 {
			return c.refuse(fmt.Sprintf("SELinux label %q is malformed", p.SelinuxLabel), "mac.selinux_type")
		}
		for _, t := range unconfinedSELinuxTypes {
			if parts[2] == t {
				return c.refuse(fmt.Sprintf("SELinux type %s is not a confinement", t), "mac.selinux_type")
			}
		}
		if slices.Contains(c.facts.MAC.SELinuxUndefined, parts[2]) {
			return c.refuse(fmt.Sprintf("SELinux type %s is not defined by the loaded policy", parts[2]), "mac.selinux_type")
		}
		c.kept("SELinux label " + p.SelinuxLabel)
		return nil
	}
	if c.exec {
		c.kept("the exec'd process keeps the container's SELinux label")
		return nil
	}
	if t := c.policy.MAC.SELinuxType; slices.Contains(c.facts.MAC.SELinuxUndefined, t) {
		return c.refuse(fmt.Sprintf("SELinux type %s is not defined by the loaded policy (a container policy module defines it: container-selinux, or the reference policy's container module)", t), "mac.selinux_type")
	}
	if c.facts.MAC.MCS == "" {
		return fmt.Errorf("hardening: no MCS categories were reserved for the container")
	}
	p.SelinuxLabel = "system_u:system_r:" + c.policy.MAC.SELinuxType + ":s0:" + c.facts.MAC.MCS
	c.spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0:" + c.facts.MAC.MCS
	c.tightened("SELinux label with the container's own categories", "(none)", p.SelinuxLabel)
	return nil
}

// verifySELinux: where SELinux enforces, the process has a label whose type confines (an
// exec'd process without one keeps the container's).
func verifySELinux(v *verifier) error {
	if !slices.Contains(InForce(v.policy, v.facts.MAC), "selinux") {
		return nil
	}
	l := v.spec.Process.SelinuxLabel
	if l == "" && v.exec {
		return nil
	}
	parts := strings.Split(l, ":")
	if len(parts) < 4 || slices.Contains(unconfinedSELinuxTypes, parts[2]) {
		return fmt.Errorf("SELinux label %q does not confine", l)
	}
	return nil
}
