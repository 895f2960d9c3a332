package hardening

import (
	"fmt"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkPrivileged refuses what engines produce for --privileged: every capability, or a
// device cgroup rule that allows all devices.
func checkPrivileged(c *checker) error {
	const key = "privileged.allow"
	reason := ""
	if caps := c.spec.Process.Capabilities; caps != nil && hasAllCaps(caps.Bounding) {
		reason = "every capability in the bounding set"
	}
	if r := c.spec.Linux.Resources; r != nil && reason == "" {
		for _, d := range r.Devices {
			if isAllowAllDevices(d) {
				reason = "access to every device"
				break
			}
		}
	}
	if reason == "" {
		c.kept("not privileged")
		return nil
	}
	if c.policy.Privileged.Allow {
		c.relaxed("privileged spec (" + reason + ") allowed by profile " + c.policy.Name + "; the other rules still apply")
		return nil
	}
	return c.refuse("privileged container requested ("+reason+")", key)
}

// hasAllCaps: all capabilities every kernel since 5.x knows (CAP_CHOWN … CAP_AUDIT_READ).
func hasAllCaps(set []string) bool {
	have := map[string]bool{}
	for _, s := range set {
		if n, ok := normalizeCap(s); ok {
			have[n] = true
		}
	}
	for _, want := range allCapabilities[:38] {
		if !have[want] {
			return false
		}
	}
	return true
}

func isAllowAllDevices(d specs.LinuxDeviceCgroup) bool {
	return d.Allow && (d.Type == "" || d.Type == "a") && d.Major == nil && d.Minor == nil
}

// verifyPrivileged: no device cgroup rule grants every device (the capability side is
// the capabilities rule's allowlist).
func verifyPrivileged(v *verifier) error {
	if v.policy.Privileged.Allow || v.spec.Linux.Resources == nil {
		return nil
	}
	for _, d := range v.spec.Linux.Resources.Devices {
		if d.Allow && (d.Type == "" || d.Type == "a") && d.Major == nil && d.Minor == nil {
			return fmt.Errorf("the device cgroup allows every device")
		}
	}
	return nil
}
