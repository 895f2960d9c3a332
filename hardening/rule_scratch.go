package hardening

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkScratch gives the container writable scratch space on a read-only root: a
// nosuid,nodev,noexec tmpfs (mode 1777, size-capped) at each rootfs.scratch and
// rootfs.scratch_copy path the spec does not mount itself; at a scratch_copy path it
// starts with a copy of what the image has there (tmpcopyup, as Podman's read-only tmpfs
// mounts), so that a directory of the image can be made writable without losing its
// content. It is mounted before the spec's mounts beneath it (a secret
// at /run/secrets, a volume at /tmp/vol, also through an image's /var/run -> /run), which
// it would hide if it came after them.
func checkScratch(c *checker) error {
	const rule = "rootfs.scratch"
	size, err := ParseSize(c.policy.Rootfs.ScratchSize)
	if err != nil {
		return err
	}
	var added []string
	for _, dst := range slices.Concat(c.policy.Rootfs.Scratch, c.policy.Rootfs.ScratchCopy) {
		if slices.ContainsFunc(c.spec.Mounts, func(m specs.Mount) bool { return c.resolvedDestination(m) == dst }) {
			continue
		}
		opts := []string{"nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(size, 10)}
		if !c.policy.Mounts.AllowExec {
			opts = append(opts, "noexec")
		}
		if c.facts.Populated[dst] && slices.Contains(c.policy.Rootfs.ScratchCopy, dst) {
			opts = append(opts, "tmpcopyup")
		}
		scratch := specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: opts}
		at := slices.IndexFunc(c.spec.Mounts, func(m specs.Mount) bool { return strings.HasPrefix(c.resolvedDestination(m), dst+"/") })
		if at < 0 {
			at = len(c.spec.Mounts)
		}
		c.spec.Mounts = slices.Insert(c.spec.Mounts, at, scratch)
		added = append(added, dst)
	}
	if len(added) == 0 {
		c.kept(rule, "the spec mounts every scratch path itself")
		return nil
	}
	c.tightened(rule, "scratch tmpfs added", "", strings.Join(added, ", ")+" ("+c.policy.Rootfs.ScratchSize+" each)")
	return nil
}

// resolvedDestination is where m lands inside the root filesystem.
func (c *checker) resolvedDestination(m specs.Mount) string {
	if d, ok := c.facts.Destinations[m.Destination]; ok {
		return d
	}
	return path.Clean(m.Destination)
}
