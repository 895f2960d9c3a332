package hardening

// checkNoNewPrivileges sets process.noNewPrivileges: setuid binaries and file
// capabilities never raise privileges inside a yoroi container. There is no knob.
func checkNoNewPrivileges(c *checker) error {
	const rule = "process.no-new-privileges"
	if c.spec.Process.NoNewPrivileges {
		c.kept(rule, "noNewPrivileges already set")
		return nil
	}
	c.spec.Process.NoNewPrivileges = true
	c.tightened(rule, "noNewPrivileges forced", "false", "true")
	return nil
}
