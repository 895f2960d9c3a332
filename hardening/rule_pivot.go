package hardening

// checkPivot keeps pivot_root. runc's --no-pivot (containerd's NoPivotRoot, Docker's
// DOCKER_RAMDISK) moves the root filesystem onto / and chroots into it instead: the
// host's mounts stay in the container's mount namespace beneath it, one chroot escape
// away for a process that can chroot (runc: "users shouldn't be using --no-pivot except
// in exceptional circumstances"). Only a profile allows it, for a rootfs on a ramdisk.
func checkPivot(c *checker) error {
	switch {
	case !c.request.NoPivot:
		c.kept("pivot_root into the root filesystem")
	case c.policy.Rootfs.AllowNoPivot:
		c.relaxed("--no-pivot: chroot into the root filesystem, the host's mounts beneath it (rootfs.allow_no_pivot)")
	default:
		return c.refuse("--no-pivot requested (chroot instead of pivot_root leaves the host's mounts in the container's mount namespace)", "rootfs.allow_no_pivot")
	}
	return nil
}
