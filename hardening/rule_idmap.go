package hardening

import (
	"fmt"
	"github.com/opencontainers/runtime-spec/specs-go"
	"path"
	"slices"
	"strings"
)

// checkIdmap makes the root filesystem and volumes appear with their owners inside a
// container whose user namespace yoroi chose ("allocated" or "pod"): never a chown, an
// id-mapped mount with the container's mapping. A rootfs the caller prepared for its own
// user namespace is left alone.
func checkIdmap(c *checker) error {
	mode := c.plan.UserNS
	if !mode.yoroiChoseUserNS() {
		c.kept("root filesystem prepared by the caller for its user namespace (" + string(mode) + ")")
		return nil
	}
	kind, err := idmapRoot(c)
	if err != nil {
		return err
	}
	c.plan.RootfsIdmap = kind
	mapped, err := idmapVolumes(c, mode)
	if err != nil {
		return err
	}
	after := "rootfs (" + string(kind) + ")"
	if len(mapped) > 0 {
		after += ", volumes " + strings.Join(mapped, ",")
	}
	c.tightened("id-mapped with the container's user namespace", "", after)
	return nil
}

// idmapRoot says how the root filesystem is id-mapped, or refuses a filesystem that
// cannot be.
func idmapRoot(c *checker) (IdmapKind, error) {
	fs := c.facts.Rootfs
	if !slices.Contains(c.policy.Userns.IdmapFilesystems, fs.FSType) {
		return "", c.refuse(fmt.Sprintf("the root filesystem is on %q, which yoroi cannot id-map (it would look owned by nobody inside the user namespace)", fs.FSType), "userns.idmap_filesystems")
	}
	if fs.NoIdmap {
		return "", c.refuse(fmt.Sprintf("the root filesystem is on %s, which this kernel cannot id-map (tmpfs can be from Linux 6.3): put the image on one of %s", fs.FSType, strings.Join(c.policy.Userns.IdmapFilesystems, ", ")), "userns.idmap_filesystems")
	}
	switch {
	case fs.OverlayMount:
		// An overlay mount cannot itself be id-mapped: rebuilt from id-mapped layers,
		// read-only (the engine's upper directory is in use by its own overlay).
		if !c.spec.Root.Readonly {
			c.spec.Root.Readonly = true
			c.tightened("the rebuilt overlay root is read-only", "readonly=false", "readonly=true")
		}
		return IdmapOverlay, nil
	case fs.FSType == "overlay":
		return "", c.refuse("the root filesystem is a directory inside an overlay mount, not the overlay mount itself", "userns.idmap_filesystems")
	}
	return IdmapBind, nil
}

// idmapVolumes gives each bind of a host path the container's mapping (a pod's: the
// "idmap" option, libcontainer reads the joined namespace's), and returns their
// destinations. A bind of the container's own tree is mapped with it already.
func idmapVolumes(c *checker, mode UserNSMode) ([]string, error) {
	uid, gid := c.spec.Linux.UIDMappings, c.spec.Linux.GIDMappings
	var mapped []string
	for i := range c.spec.Mounts {
		m := &c.spec.Mounts[i]
		own := withinRoot(m.Source, c.facts)
		if own && (len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0) {
			return nil, c.refuse(fmt.Sprintf("the bind of %s at %s lies in the container's root filesystem, id-mapped with it, and asks for a mapping of its own: a mount cannot be id-mapped twice", m.Source, m.Destination), "userns.allow_host")
		}
		if !IsBind(*m) || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 || isSysfsBind(*m) {
			continue // sysfs cannot be id-mapped; it is read-only anyway
		}
		if own {
			if set, ch := setOptions(m.Options, nil, []string{"idmap", "ridmap"}); ch {
				m.Options = set
				c.tightened("a bind of the container's own tree is id-mapped with it already", m.Destination+" idmap", m.Destination+" (the tree's mapping)")
			}
			continue
		}
		if err := idmappableVolume(c, m); err != nil {
			return nil, err
		}
		if mode == UserNSPod {
			// The mappings of a joined user namespace are read by libcontainer.
			m.Options = append(m.Options, "idmap")
		} else {
			m.UIDMappings, m.GIDMappings = slices.Clone(uid), slices.Clone(gid)
		}
		mapped = append(mapped, m.Destination)
	}
	return mapped, nil
}

// idmappableVolume refuses a volume on a filesystem that cannot be id-mapped; an overlay
// mount is rebuilt by the runtime, read-only.
func idmappableVolume(c *checker, m *specs.Mount) error {
	src := c.facts.Sources[m.Source]
	switch {
	case src.OverlayMount || src.InOverlayMount != "":
		// Rebuilt by the runtime from id-mapped mounts of its layers, read-only (the
		// engine's upper directory is in use by its own overlay).
		if set, ch := setOptions(m.Options, []string{"ro"}, []string{"rw"}); ch {
			m.Options = set
			c.tightened("the rebuilt overlay volume is read-only", m.Destination+" rw", m.Destination+" ro")
		}
	case src.NoIdmap:
		return c.refuse(fmt.Sprintf("the volume at %s (%s) is on %s, which this kernel cannot id-map (tmpfs can be from Linux 6.3): it would look owned by nobody; put it on one of %s",
			m.Destination, m.Source, src.FSType, strings.Join(c.policy.Userns.IdmapFilesystems, ", ")), "userns.idmap_filesystems")
	case src.FSType != "" && (src.FSType == "overlay" || !slices.Contains(c.policy.Userns.IdmapFilesystems, src.FSType)):
		return c.refuse(fmt.Sprintf("the volume at %s (%s) is on %s, which cannot be id-mapped: it would look owned by nobody; put it on one of %s, or a whole overlay mount",
			m.Destination, m.Source, src.FSType, strings.Join(c.policy.Userns.IdmapFilesystems, ", ")), "userns.idmap_filesystems")
	}
	return nil
}

// IdmapKind is how the runtime id-maps the root filesystem.
type IdmapKind string

const (
	// IdmapBind: an id-mapped bind mount of root.path.
	IdmapBind IdmapKind = "bind"
	// IdmapOverlay: root.path is an overlay mount, rebuilt from id-mapped layers.
	IdmapOverlay IdmapKind = "overlay"
)

// withinRoot reports whether a bind source lies beneath the container's root filesystem.
func withinRoot(source string, facts HostFacts) bool {
	root := facts.Rootfs.RealPath
	if root == "" || root == "/" {
		return false
	}
	for _, p := range []string{source, facts.RealPaths[source]} {
		if p != "" && strings.HasPrefix(path.Clean(p), root+"/") {
			return true
		}
	}
	return false
}

// verifyIdmap: when yoroi chose the user namespace, the root filesystem and every bind of
// a host path outside it are id-mapped with it.
func verifyIdmap(v *verifier) error {
	mode := v.plan.UserNS
	if mode != UserNSAllocated && mode != UserNSPod {
		return nil
	}
	if v.plan.RootfsIdmap == "" {
		return fmt.Errorf("the root filesystem is not id-mapped")
	}
	for _, m := range v.binds() {
		idmapped := len(m.UIDMappings) > 0 || hasOption(m, "idmap") || hasOption(m, "ridmap") || v.stagedVolume(m)
		if !idmapped && !isSysfsBind(m) && !withinRoot(v.hostPath(m.Source), v.facts) {
			return fmt.Errorf("bind mount %s is not id-mapped", m.Destination)
		}
	}
	return nil
}
