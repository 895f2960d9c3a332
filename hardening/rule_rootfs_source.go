package hardening

import (
	"fmt"
	"path"
)

// checkRootfsSource refuses a root filesystem that is a sensitive host path (the host's
// root, its configuration, an engine's state) or contains one, by the same deny lists as
// bind sources: id-mapped, such a rootfs would show the host's root-owned files to the
// container's root as its own. root.path is judged by its real path (a bundle's rootfs
// may be a symlink to "/").
func checkRootfsSource(c *checker) error {
	// An unresolved root.path (not there: creating the container fails later) is judged
	// as written.
	real := c.facts.Rootfs.RealPath
	if err := c.deniedSource(checkedSource{given: c.spec.Root.Path, real: real, what: "root filesystem"}); err != nil {
		return err
	}
	if real == "" {
		real = c.spec.Root.Path
	}
	c.kept("root filesystem " + path.Clean(real) + " is not a sensitive host path")
	return nil
}

// verifyRootfsSource: the root filesystem is not a sensitive host path.
func verifyRootfsSource(v *verifier) error {
	root := v.spec.Root.Path
	if st := v.plan.Staged; st != nil && st.Root == root {
		root = st.Original
	}
	real := v.facts.Rootfs.RealPath
	if p := v.exposesHost(root, real); p != "" {
		return fmt.Errorf("root filesystem %s", p)
	}
	return nil
}
