package hardening

import (
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Annotations yoroi sets on the hardened spec for `state` to show (a caller cannot set
// them: they are removed from the input). Nothing reads them back: the runtime acts on
// the Plan.
const (
	// AnnotationUserNS is the Plan's UserNS.
	AnnotationUserNS = "org.yoroi.userns"
	// AnnotationIDRange is the allocated range, "start:size".
	AnnotationIDRange = "org.yoroi.userns.range"
)

// UserNSMode says how the container got its user namespace.
type UserNSMode string

const (
	// UserNSAllocated: a private range of the pool, reserved for the container.
	UserNSAllocated UserNSMode = "allocated"
	// UserNSPod: the user namespace owning the namespaces it joins (its pod's).
	UserNSPod UserNSMode = "pod"
	// UserNSCaller: the spec's own mappings.
	UserNSCaller UserNSMode = "caller"
	// UserNSJoined: the user namespace path the spec names.
	UserNSJoined UserNSMode = "joined"
	// UserNSHost: the host's, allowed by a profile.
	UserNSHost UserNSMode = "host"
)

// yoroiChoseUserNS: yoroi, not the caller, chose the container's user namespace, so it
// id-maps the root filesystem and volumes for it.
func (m UserNSMode) yoroiChoseUserNS() bool { return m == UserNSAllocated || m == UserNSPod }

// NeedsIDRange reports whether create must reserve a private id range for spec: it has no
// user namespace of its own and joins none owned by a non-host user namespace.
func NeedsIDRange(spec *specs.Spec, p *Policy, facts HostFacts) bool {
	if p.Userns.AllowHost {
		return false
	}
	if spec.Linux == nil {
		return true
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return false
		}
		if o, ok := facts.UserNS.Owners[ns.Path]; ns.Path != "" && ok && !o.Host {
			return false
		}
	}
	return true
}

// checkUserNS makes sure container root is never host root: the container gets a private
// user namespace, joins its pod's, or keeps the caller's if it never maps low host ids.
func checkUserNS(c *checker) error {
	l := c.spec.Linux
	i := slices.IndexFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	switch {
	case i >= 0 && l.Namespaces[i].Path != "":
		return joinUserNS(c, l.Namespaces[i].Path)
	case i >= 0:
		return callersUserNS(c)
	}
	if owner, err := podUserNS(c); err != nil || owner != nil {
		return err
	}
	if c.policy.Userns.AllowHost {
		c.plan.UserNS = UserNSHost
		c.relaxed("host user namespace allowed by profile " + c.policy.Name)
		return nil
	}
	return allocateUserNS(c)
}

// joinUserNS: the spec joins the user namespace at path, which must not be the host's
// and whose mappings must stay above userns.min_host_id.
func joinUserNS(c *checker, path string) error {
	l := c.spec.Linux
	o, ok := c.facts.UserNS.Owners[path]
	switch {
	case !ok:
		return c.refuse("user namespace "+path+" could not be verified", "userns.allow_host")
	case o.Host && !c.policy.Userns.AllowHost:
		return c.refuse("user namespace "+path+" is the host's: container root would be host root", "userns.allow_host")
	}
	uid, gid := o.UIDMap, o.GIDMap
	if len(uid) == 0 && len(l.UIDMappings) > 0 {
		// The namespace's mappings could not be read from the host: the spec states
		// them, and libcontainer refuses to join a namespace whose mappings differ.
		uid, gid = l.UIDMappings, l.GIDMappings
	}
	if len(uid) == 0 || len(gid) == 0 {
		return c.refuse("the mappings of user namespace "+path+" could not be read from the host; state them in linux.uidMappings and linux.gidMappings", "")
	}
	if err := c.checkMappings(uid, gid, "user namespace "+path); err != nil {
		return err
	}
	if !o.Host {
		if err := c.refuseHostOwnedJoins(); err != nil {
			return err
		}
	}
	c.plan.UserNS = UserNSJoined
	c.kept("joins user namespace " + path)
	return nil
}

// callersUserNS: the spec makes its own user namespace with its own mappings.
func callersUserNS(c *checker) error {
	l := c.spec.Linux
	if len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
		return c.refuse("user namespace without uid/gid mappings", "userns.min_host_id")
	}
	if err := c.checkMappings(l.UIDMappings, l.GIDMappings, "the spec's user namespace"); err != nil {
		return err
	}
	if err := c.refuseHostOwnedJoins(); err != nil {
		return err
	}
	c.plan.UserNS = UserNSCaller
	c.kept("the spec's user namespace maps " + describeMappings(l.UIDMappings))
	return nil
}

// podUserNS: a container joining a pod's namespaces joins the pod's user namespace (the
// one owning them). It returns nil when the spec joins no such namespace.
func podUserNS(c *checker) (*UserNS, error) {
	l := c.spec.Linux
	var owner *UserNS
	for _, ns := range l.Namespaces {
		o, ok := c.facts.UserNS.Owners[ns.Path]
		if ns.Path == "" || !ok || o.Host {
			continue
		}
		if owner != nil && owner.ID != o.ID {
			return nil, c.refuse("the joined namespaces belong to different user namespaces", "userns.allow_host")
		}
		owner = &o
	}
	if owner == nil {
		return nil, nil
	}
	if owner.Path == "" {
		return nil, c.refuse("the joined namespaces belong to a user namespace that cannot be addressed", "userns.allow_host")
	}
	if err := c.checkMappings(owner.UIDMap, owner.GIDMap, "the pod's user namespace"); err != nil {
		return nil, err
	}
	if err := c.refuseHostOwnedJoins(); err != nil {
		return nil, err
	}
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: owner.Path})
	l.UIDMappings, l.GIDMappings = nil, nil
	c.plan.UserNS = UserNSPod
	c.tightened("joins the user namespace of the namespaces it shares", "host user namespace", owner.Path)
	return owner, nil
}

// allocateUserNS gives the container a user namespace of its own over the range the
// runtime reserved for it.
func allocateUserNS(c *checker) error {
	l := c.spec.Linux
	if err := c.refuseHostOwnedJoins(); err != nil {
		return err
	}
	r := c.facts.UserNS.Allocated
	if r == nil {
		return fmt.Errorf("hardening: no id range was reserved for a container without a user namespace")
	}
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: r.Start, Size: r.Size}}
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	l.UIDMappings, l.GIDMappings = m, slices.Clone(m)
	c.plan.UserNS = UserNSAllocated
	c.plan.IDRange = r
	c.tightened("private user namespace added", "host user namespace", describeMappings(m))
	return nil
}

// hostOwnedUnusable are the namespaces a container in a user namespace of its own cannot
// use when the host's user namespace owns them: setting them up (the mqueue mount of an
// ipc namespace, /proc of a pid namespace, the hostname, the mount table) needs
// privileges over that owner. (A network namespace can be joined so: a CRI pod's is.)
var hostOwnedUnusable = []specs.LinuxNamespaceType{specs.IPCNamespace, specs.PIDNamespace, specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace}

// refuseHostOwnedJoins refuses joining such a namespace by path with one line, where
// libcontainer would fail with a bare EPERM.
func (c *checker) refuseHostOwnedJoins() error {
	for _, ns := range c.spec.Linux.Namespaces {
		o, ok := c.facts.UserNS.Owners[ns.Path]
		if ns.Path == "" || !ok || !o.Host || !slices.Contains(hostOwnedUnusable, ns.Type) {
			continue
		}
		return c.refuse(fmt.Sprintf("the %s namespace %s belongs to the host's user namespace: a container in a user namespace of its own cannot set it up; share the host user namespace", ns.Type, ns.Path), "userns.allow_host")
	}
	return nil
}

// checkMappings refuses mappings that reach host ids below userns.min_host_id (0: root).
func (c *checker) checkMappings(uid, gid []specs.LinuxIDMapping, what string) error {
	min := c.policy.Userns.MinHostID
	for _, set := range []struct {
		kind string
		m    []specs.LinuxIDMapping
	}{{"uid", uid}, {"gid", gid}} {
		if len(set.m) == 0 {
			return c.refuse(what+" has no "+set.kind+" mappings", "userns.min_host_id")
		}
		for _, m := range set.m {
			if m.Size == 0 {
				continue
			}
			if m.HostID < min || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
				return c.refuse(fmt.Sprintf("%s maps host %s %d-%d, below userns.min_host_id %d", what, set.kind, m.HostID, uint64(m.HostID)+uint64(m.Size)-1, min), "userns.min_host_id")
			}
		}
	}
	return nil
}

func describeMappings(m []specs.LinuxIDMapping) string {
	s := ""
	for i, x := range m {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%d→%d+%d", x.ContainerID, x.HostID, x.Size)
	}
	return s
}

// verifyUserNS: the container has a user namespace (the host's only by profile), a joined
// one is not the host's, and mappings yoroi did not take from a pod never reach host ids
// below userns.min_host_id.
func verifyUserNS(v *verifier) error {
	mode := v.plan.UserNS
	pol := v.policy.Userns
	if mode == UserNSHost {
		if !pol.AllowHost {
			return fmt.Errorf("host user namespace")
		}
		return nil
	}
	i := slices.IndexFunc(v.spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	if i < 0 {
		return fmt.Errorf("no user namespace")
	}
	if p := v.spec.Linux.Namespaces[i].Path; p != "" {
		notHost := slices.ContainsFunc(slices.Collect(maps.Values(v.facts.UserNS.Owners)), func(o UserNS) bool { return o.Path == p && !o.Host })
		if !notHost && !(pol.AllowHost && mode == UserNSJoined) {
			return fmt.Errorf("user namespace %s is the host's or unverified", p)
		}
	}
	if mode == UserNSAllocated || mode == UserNSCaller {
		for _, m := range slices.Concat(v.spec.Linux.UIDMappings, v.spec.Linux.GIDMappings) {
			if m.Size > 0 && m.HostID < pol.MinHostID {
				return fmt.Errorf("the user namespace maps host id %d", m.HostID)
			}
		}
	}
	if mode == UserNSAllocated && (v.plan.IDRange == nil || len(v.spec.Linux.UIDMappings) != 1 || v.spec.Linux.UIDMappings[0].HostID != v.plan.IDRange.Start) {
		return fmt.Errorf("the user namespace does not map the allocated range")
	}
	return nil
}
