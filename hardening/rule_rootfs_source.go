package hardening

import "path"

// checkRootfsSource refuses a root filesystem that is a sensitive host path (the host's
// root, its configuration, an engine's state) or contains one, by the same deny lists as
// bind sources: id-mapped, such a rootfs would show the host's root-owned files to the
// container's root as its own. root.path is judged by its real path (a bundle's rootfs
// may be a symlink to "/").
func checkRootfsSource(c *checker) error {
	const rule = "rootfs.source"
	real := c.facts.Rootfs.RealPath
	if real == "" {
		real = c.spec.Root.Path // not there: creating the container fails later
	}
	m := checkedSource{given: c.spec.Root.Path, real: path.Clean(real), what: "root filesystem"}
	if err := c.deniedSource(rule, m); err != nil {
		return err
	}
	c.kept(rule, "root filesystem "+real+" is not a sensitive host path")
	return nil
}
