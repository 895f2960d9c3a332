package hardening

import "fmt"

// checkPropagation refuses shared propagation, of the root filesystem or of a mount: a
// shared mount lets the container's mounts appear on the host, and the host's in it.
func checkPropagation(c *checker) error {
	const key = "mounts.allow_shared_propagation"
	shared := c.policy.Mounts.AllowSharedPropagation
	if p := c.spec.Linux.RootfsPropagation; isSharedPropagation(p) && !shared {
		return c.refuse("rootfsPropagation "+p+" requested", key)
	}
	used := isSharedPropagation(c.spec.Linux.RootfsPropagation)
	for _, m := range c.spec.Mounts {
		for _, o := range m.Options {
			if isSharedPropagation(o) && !shared {
				return c.refuse(fmt.Sprintf("%s propagation on mount %s", o, m.Destination), key)
			}
			used = used || isSharedPropagation(o)
		}
	}
	if used {
		c.relaxed("shared propagation allowed by profile " + c.policy.Name + " (" + key + ")")
		return nil
	}
	c.kept("no shared propagation")
	return nil
}

func isSharedPropagation(o string) bool { return o == "shared" || o == "rshared" }

// verifyPropagation: no shared propagation unless a profile allows it.
func verifyPropagation(v *verifier) error {
	if v.policy.Mounts.AllowSharedPropagation {
		return nil
	}
	if p := v.spec.Linux.RootfsPropagation; p == "shared" || p == "rshared" {
		return fmt.Errorf("rootfsPropagation %s", p)
	}
	for _, m := range v.spec.Mounts {
		if hasOption(m, "shared") || hasOption(m, "rshared") {
			return fmt.Errorf("shared propagation on %s", m.Destination)
		}
	}
	return nil
}
