package hardening

// checkReadonlyRoot makes the root filesystem read-only (rootfs.readonly).
func checkReadonlyRoot(c *checker) error {
	const rule = "rootfs.readonly"
	switch {
	case c.request.Record:
		c.spec.Root.Readonly = false
		c.relaxed(rule, "writable root for profile record: an overlay whose writes are recorded, then discarded")
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

// RecordingPolicy is p as `yoroi profile record` applies it: the same in every rule but
// the root filesystem, which is writable so that the workload's writes can be learnt (the
// runtime gives it an overlay whose upper layer is read, then removed).
func RecordingPolicy(p *Policy) *Policy {
	r := *p
	r.Rootfs.Readonly = false
	return &r
}
