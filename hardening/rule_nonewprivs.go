package hardening

import "fmt"

// checkNoNewPrivileges sets process.noNewPrivileges: setuid binaries and file
// capabilities never raise privileges inside a yoroi container, unless a profile sets
// process.allow_new_privileges and the spec itself leaves it false.
func checkNoNewPrivileges(c *checker) error {
	if c.spec.Process.NoNewPrivileges {
		c.kept("noNewPrivileges already set")
		return nil
	}
	if c.policy.Process.AllowNewPrivileges {
		c.relaxed(fmt.Sprintf("noNewPrivileges left false: setuid programs and file capabilities raise privileges (profile %s)", c.policy.Name))
		return nil
	}
	c.spec.Process.NoNewPrivileges = true
	c.tightened("noNewPrivileges forced", "false", "true")
	return nil
}

// verifyNoNewPrivileges: no_new_privs is set unless the profile allows otherwise.
func verifyNoNewPrivileges(v *verifier) error {
	if !v.spec.Process.NoNewPrivileges && !v.policy.Process.AllowNewPrivileges {
		return fmt.Errorf("noNewPrivileges is not set")
	}
	return nil
}
