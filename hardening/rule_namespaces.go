package hardening

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// hostShareable maps the names used in namespaces.allow_host to namespace types.
var hostShareable = map[string]specs.LinuxNamespaceType{
	"network": specs.NetworkNamespace,
	"pid":     specs.PIDNamespace,
	"ipc":     specs.IPCNamespace,
	"uts":     specs.UTSNamespace,
	"cgroup":  specs.CgroupNamespace,
}

// requiredNamespaces: a missing pid or network namespace means host pid/network and is
// refused; the others are added.
var requiredNamespaces = []struct {
	typ      specs.LinuxNamespaceType
	name     string
	refuseIf bool // refuse (rather than add) when missing
}{
	{specs.PIDNamespace, "pid", true},
	{specs.NetworkNamespace, "network", true},
	{specs.MountNamespace, "mount", false},
	{specs.IPCNamespace, "ipc", false},
	{specs.UTSNamespace, "uts", false},
	{specs.CgroupNamespace, "cgroup", false},
}

// checkNamespaces requires private namespaces. Joining another container's namespace by
// path (a Kubernetes pod's sandbox) is fine; a path that is the host's own is refused.
func checkNamespaces(c *checker) error {
	const key = "namespaces.allow_host"
	l := c.spec.Linux
	// Namespaces joined by path must not be the host's.
	for _, ns := range l.Namespaces {
		if ns.Path == "" {
			continue
		}
		id, ok := c.facts.NamespacePaths[ns.Path]
		if !ok {
			return c.refuse(fmt.Sprintf("%s namespace path %s could not be verified", ns.Type, ns.Path), key)
		}
		if host, ok := c.facts.HostNamespaces[ns.Type]; ok && host == id {
			name := shareName(ns.Type)
			if name != "" && slices.Contains(c.policy.Namespaces.AllowHost, name) {
				c.relaxed(fmt.Sprintf("host %s namespace allowed by profile %s", ns.Type, c.policy.Name))
				continue
			}
			return c.refuse(fmt.Sprintf("%s namespace path %s is the host's %s namespace", ns.Type, ns.Path, ns.Type), key)
		}
	}
	var added []string
	relaxed := false
	for _, req := range requiredNamespaces {
		if slices.ContainsFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == req.typ }) {
			continue
		}
		if req.typ != specs.MountNamespace && slices.Contains(c.policy.Namespaces.AllowHost, req.name) {
			c.relaxed(fmt.Sprintf("host %s namespace allowed by profile %s", req.name, c.policy.Name))
			relaxed = true
			continue
		}
		if req.refuseIf {
			return c.refuse(fmt.Sprintf("host %s namespace requested (no %s namespace in the spec)", req.name, req.name), key)
		}
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: req.typ})
		added = append(added, req.name)
	}
	if len(added) == 0 && relaxed {
		return nil
	}
	if len(added) == 0 {
		c.kept("private pid, network, mount, ipc, uts and cgroup namespaces")
		return nil
	}
	c.tightened("missing namespaces added", "", fmt.Sprint(added))
	return nil
}

func shareName(t specs.LinuxNamespaceType) string {
	for name, typ := range hostShareable {
		if typ == t {
			return name
		}
	}
	return ""
}

// verifyNamespaces: the container has its own pid, network, mount, ipc, uts and cgroup
// namespaces, or joins ones that are not the host's, unless namespaces.allow_host.
func verifyNamespaces(v *verifier) error {
	allowed := v.policy.Namespaces.AllowHost
	for _, req := range requiredNamespaces {
		if !slices.ContainsFunc(v.spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == req.typ }) &&
			!slices.Contains(allowed, req.name) {
			return fmt.Errorf("no %s namespace", req.name)
		}
	}
	for _, ns := range v.spec.Linux.Namespaces {
		if ns.Path == "" || ns.Type == specs.UserNamespace {
			continue // user namespaces: userns
		}
		id, known := v.facts.NamespacePaths[ns.Path]
		if !known || id == v.facts.HostNamespaces[ns.Type] && !slices.Contains(allowed, shareName(ns.Type)) {
			return fmt.Errorf("%s namespace %s is the host's or unverified", ns.Type, ns.Path)
		}
	}
	return nil
}
