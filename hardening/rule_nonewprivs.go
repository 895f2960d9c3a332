package hardening

import "fmt"

// checkNoNewPrivileges sets process.noNewPrivileges: setuid binaries and file
// capabilities never raise privileges inside a yoroi container, unless a profile sets
// process.allow_new_privileges and the spec itself leaves it false.
func checkNoNewPrivileges(c *checker) error {
	const rule = "process.no-new-privileges"
	if c.spec.Process.NoNewPrivileges {
		c.kept(rule, "noNewPrivileges already set")
		return nil
	}
	if c.policy.Process.AllowNewPrivileges {
		c.relaxed(rule, fmt.Sprintf("noNewPrivileges left false: setuid programs and file capabilities raise privileges (profile %s)", c.policy.Name))
		return nil
	}
	c.spec.Process.NoNewPrivileges = true
	c.tightened(rule, "noNewPrivileges forced", "false", "true")
	return nil
}
