package hardening

import (
	"fmt"
	"slices"
)

// checkAppArmor: where AppArmor is in force, a spec without a profile gets yoroi's
// (generated and loaded by the runtime), "unconfined" is refused, and a named profile
// that is not loaded is refused (never a silent unconfined fallback).
func checkAppArmor(c *checker) error {
	p := c.spec.Process
	if !macActive(c, "apparmor") {
		if p.ApparmorProfile != "" && p.ApparmorProfile != "unconfined" && c.facts.MAC.AppArmorEnabled {
			// Enabled but not accepted: the requested profile still must exist.
			if !slices.Contains(c.facts.MAC.AppArmorProfiles, p.ApparmorProfile) {
				return c.refuse(fmt.Sprintf("AppArmor profile %q is not loaded", p.ApparmorProfile), "mac.apparmor_profile")
			}
		}
		if !c.facts.MAC.AppArmorEnabled && p.ApparmorProfile != "" {
			// libcontainer would fail on a profile it cannot apply; drop the request
			// only when it is "unconfined", which is what is in force anyway.
			if p.ApparmorProfile == "unconfined" {
				p.ApparmorProfile = ""
				c.tightened("AppArmor is not enabled on this host: the unconfined request is moot", "unconfined", "")
				return nil
			}
			return c.refuse(fmt.Sprintf("AppArmor profile %q requested but AppArmor is not enabled", p.ApparmorProfile), "mac.accept")
		}
		c.kept("AppArmor not in force")
		return nil
	}
	switch name := p.ApparmorProfile; {
	case name == "" && c.exec:
		c.kept("the exec'd process keeps the container's AppArmor profile")
	case name == "":
		p.ApparmorProfile = c.policy.MAC.AppArmorProfile
		c.tightened("yoroi's AppArmor profile applied", "(none)", p.ApparmorProfile)
	case name == "unconfined":
		return c.refuse("AppArmor profile \"unconfined\" requested", "mac.accept")
	case name == c.policy.MAC.AppArmorProfile || slices.Contains(c.facts.MAC.AppArmorProfiles, name):
		c.kept("AppArmor profile " + name)
	default:
		return c.refuse(fmt.Sprintf("AppArmor profile %q is not loaded", name), "mac.apparmor_profile")
	}
	return nil
}

// verifyAppArmor: where AppArmor is in force, the process has a profile that confines
// (an exec'd process without one keeps the container's).
func verifyAppArmor(v *verifier) error {
	if !slices.Contains(InForce(v.policy, v.facts.MAC), "apparmor") {
		return nil
	}
	switch p := v.spec.Process.ApparmorProfile; {
	case p == "" && v.exec:
		return nil
	case p == "" || p == "unconfined":
		return fmt.Errorf("no AppArmor profile")
	}
	return nil
}
