package hardening

import (
	"fmt"
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
	size := int64(c.policy.Rootfs.ScratchSize)
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
		c.kept("the spec mounts every scratch path itself")
		return nil
	}
	c.tightened("scratch tmpfs added", "", strings.Join(added, ", ")+" ("+c.policy.Rootfs.ScratchSize.String()+" each)")
	return nil
}

// resolvedDestination is where m lands inside the root filesystem.
func (c *checker) resolvedDestination(m specs.Mount) string {
	if d, ok := c.facts.Destinations[m.Destination]; ok {
		return d
	}
	return path.Clean(m.Destination)
}

// verifyScratch: every scratch path has a mount, and yoroi's scratch tmpfs hides no
// mount the spec asked for beneath it.
func verifyScratch(v *verifier) error {
	dest := func(m specs.Mount) string {
		if d, ok := v.facts.Destinations[m.Destination]; ok {
			return d
		}
		return path.Clean(m.Destination)
	}
	for _, dst := range slices.Concat(v.policy.Rootfs.Scratch, v.policy.Rootfs.ScratchCopy) {
		at := slices.IndexFunc(v.spec.Mounts, func(m specs.Mount) bool { return dest(m) == dst })
		if at < 0 {
			return fmt.Errorf("no mount at scratch path %s", dst)
		}
		m := v.spec.Mounts[at]
		scratch := m.Type == "tmpfs" && m.Source == "tmpfs" && hasOption(m, "mode=1777") && slices.ContainsFunc(m.Options, func(o string) bool { return strings.HasPrefix(o, "size=") })
		if hidden := slices.IndexFunc(v.spec.Mounts[:at], func(m specs.Mount) bool { return strings.HasPrefix(dest(m), dst+"/") }); scratch && hidden >= 0 {
			return fmt.Errorf("mount %s comes before the mount at %s, which hides it", v.spec.Mounts[hidden].Destination, dst)
		}
	}
	return nil
}
