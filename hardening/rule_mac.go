package hardening

import (
	"fmt"
	"slices"
	"strings"
)

// InForce returns the accepted MAC providers that are in force on the host.
func InForce(p *Policy, f MACFacts) []string {
	var out []string
	for _, a := range p.MAC.Accept {
		switch {
		case a == "apparmor" && f.AppArmorEnabled,
			a == "selinux" && f.SELinuxEnforcing,
			a == "landlock" && f.LandlockABI >= p.MAC.LandlockMinABI:
			out = append(out, a)
		}
	}
	return out
}

// checkMAC refuses every container when none of the accepted providers is in force:
// no container runs without mandatory access control.
func checkMAC(c *checker) error {
	f := c.facts.MAC
	active := InForce(c.policy, f)
	if len(active) > 0 {
		c.kept("confined by " + strings.Join(active, " + "))
		return nil
	}
	var found []string
	if len(f.LSMs) > 0 {
		found = append(found, "LSMs "+strings.Join(f.LSMs, ","))
	}
	switch {
	case f.SELinuxEnabled && !f.SELinuxEnforcing:
		found = append(found, "SELinux permissive")
	case !f.SELinuxEnabled:
		found = append(found, "no SELinux")
	}
	if !f.AppArmorEnabled {
		found = append(found, "no AppArmor")
	}
	if f.LandlockABI == 0 {
		found = append(found, "no Landlock")
	} else {
		found = append(found, fmt.Sprintf("Landlock ABI %d", f.LandlockABI))
	}
	how := "enable AppArmor (apparmor=1 security=apparmor), SELinux in enforcing mode, or Landlock (lsm=...,landlock)"
	return c.refuse(fmt.Sprintf("no accepted mandatory access control is in force (accepted: %s; found: %s); %s",
		strings.Join(c.policy.MAC.Accept, ", "), strings.Join(found, ", "), how), "mac.accept")
}

func macActive(c *checker, provider string) bool {
	return slices.Contains(InForce(c.policy, c.facts.MAC), provider)
}

// verifyMAC: some accepted mandatory access control is in force.
func verifyMAC(v *verifier) error {
	if len(InForce(v.policy, v.facts.MAC)) == 0 {
		return fmt.Errorf("no mandatory access control in force")
	}
	return nil
}
