package hardening

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkScratch gives the container writable scratch space on a read-only root: a
// nosuid,nodev,noexec tmpfs (mode 1777, size-capped) at each rootfs.scratch path the
// spec does not mount itself.
func checkScratch(c *checker) error {
	const rule = "rootfs.scratch"
	size, err := ParseSize(c.policy.Rootfs.ScratchSize)
	if err != nil {
		return err
	}
	var added []string
	for _, dst := range c.policy.Rootfs.Scratch {
		if slices.ContainsFunc(c.spec.Mounts, func(m specs.Mount) bool { return path.Clean(m.Destination) == dst }) {
			continue
		}
		opts := []string{"nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(size, 10)}
		if !c.policy.Mounts.AllowExec {
			opts = append(opts, "noexec")
		}
		c.spec.Mounts = append(c.spec.Mounts, specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: opts})
		added = append(added, dst)
	}
	if len(added) == 0 {
		c.kept(rule, "the spec mounts every scratch path itself")
		return nil
	}
	c.tightened(rule, "scratch tmpfs added", "", strings.Join(added, ", ")+" ("+c.policy.Rootfs.ScratchSize+" each)")
	return nil
}
