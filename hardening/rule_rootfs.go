package hardening

// checkReadonlyRoot makes the root filesystem read-only (rootfs.readonly).
func checkReadonlyRoot(c *checker) error {
	const rule = "rootfs.readonly"
	switch {
	case c.spec.Root.Readonly:
		c.kept(rule, "root filesystem is read-only")
	case !c.policy.Rootfs.Readonly:
		c.relaxed(rule, "writable root filesystem allowed by profile "+c.policy.Name)
	default:
		c.spec.Root.Readonly = true
		c.tightened(rule, "root filesystem made read-only", "readonly=false", "readonly=true")
	}
	return nil
}
