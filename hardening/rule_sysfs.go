package hardening

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// sysfsBind is the mount that replaces sysfs when the container cannot mount it.
var sysfsBind = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}}

// checkSysfs: a new sysfs instance can only be mounted by the user namespace that owns
// the network namespace. A container that gets a private user namespace but joins a
// network namespace made for it outside (a Kubernetes pod's, created by the CRI plugin
// and CNI) cannot: it gets a read-only recursive bind of the host's /sys instead, as
// runc does for rootless containers. The masked paths still apply and the cgroup mount
// still hides the host's cgroup tree.
func checkSysfs(c *checker) error {
	if !joinsForeignNetns(c) {
		c.kept("sysfs mounted for the container's own network namespace")
		return nil
	}
	replaced := false
	for i, m := range c.spec.Mounts {
		if m.Type == "sysfs" {
			c.spec.Mounts[i] = sysfsBind
			c.spec.Mounts[i].Destination = m.Destination
			c.spec.Mounts[i].Options = slices.Clone(sysfsBind.Options)
			replaced = true
		}
	}
	if !replaced {
		c.kept("no sysfs mount")
		return nil
	}
	c.tightened("the joined network namespace belongs to another user namespace: read-only bind of /sys", "sysfs", "rbind /sys ro")
	return nil
}

// isSysfsBind reports whether m is the bind checkSysfs puts in place of sysfs.
func isSysfsBind(m specs.Mount) bool {
	return m.Source == "/sys" && m.Type == "bind" && slices.Equal(m.Options, sysfsBind.Options)
}

// verifySysfs: a container whose user namespace yoroi chose and whose network namespace
// belongs to another user namespace mounts no sysfs (the kernel would refuse it, or show
// the host's network devices).
func verifySysfs(v *verifier) error {
	mode := v.plan.UserNS
	if mode != UserNSAllocated && mode != UserNSPod {
		return nil
	}
	foreign := slices.ContainsFunc(v.spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.NetworkNamespace && ns.Path != "" && (mode == UserNSAllocated || v.facts.UserNS.Owners[ns.Path].Host)
	})
	if foreign && slices.ContainsFunc(v.spec.Mounts, func(m specs.Mount) bool { return m.Type == "sysfs" }) {
		return fmt.Errorf("sysfs mounted in a foreign network namespace")
	}
	return nil
}
