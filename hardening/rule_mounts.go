package hardening

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// defaultDenySources: a bind source that is one of these, or an ancestor of one, exposes
// the host (its root, configuration, runtime state or an engine's control socket).
var defaultDenySources = []string{
	"/", "/etc", "/usr", "/boot", "/root", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/bin", "/sbin", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
	"/var/lib/containers", "/run/containerd", "/var/run/docker.sock", "/run/docker.sock",
	"/run/containerd/containerd.sock", "/run/crio/crio.sock", "/run/podman/podman.sock",
	"/var/run/crio", "/run/yoroi", "/etc/yoroi", "/var/log/yoroi",
	// The engines' and runtimes' own runtime directories (their sockets and state).
	"/run/docker", "/run/crio", "/run/podman", "/run/containers", "/run/runc", "/run/crun",
	"/run/runsc", "/var/lib/cri-o",
}

// defaultDenySubtrees: a bind source anywhere under these is refused (kernel interfaces,
// devices, secrets).
var defaultDenySubtrees = []string{
	"/proc", "/sys", "/dev", "/boot", "/root", "/etc/shadow", "/etc/gshadow", "/etc/sudoers",
	"/etc/ssh", "/etc/kubernetes", "/etc/yoroi", "/var/lib/kubelet/pki", "/run/yoroi",
}

// checkMounts tightens mount options: nosuid,nodev on binds, noexec on writable mounts,
// sysfs/cgroup ro (what may be mounted at all is mounts.source's and mounts.propagation's).
func checkMounts(c *checker) error {
	pol := c.policy.Mounts
	var changes, bindFlagsAsNamed []string
	relaxed := false
	for i := range c.spec.Mounts {
		m := &c.spec.Mounts[i]
		if IsBind(*m) {
			if pol.AllowBindFlags {
				bindFlagsAsNamed = append(bindFlagsAsNamed, m.Destination)
			} else {
				changes = append(changes, tightenBind(c, m)...)
			}
		}
		switch m.Type {
		case "proc":
			if set, ch := setOptions(m.Options, []string{"nosuid", "nodev", "noexec"}, []string{"suid", "dev", "exec"}); ch {
				m.Options = set
				changes = append(changes, m.Destination+": nosuid,nodev,noexec (proc)")
			}
		case "cgroup", "cgroup2":
			if pol.AllowWritableCgroup && !slices.Contains(m.Options, "ro") {
				relaxed = true
				c.relaxed(fmt.Sprintf("%s: %s kept writable, delegated to the container's root (profile %s, mounts.allow_writable_cgroup)", m.Destination, m.Type, c.policy.Name))
				break
			}
			fallthrough
		case "sysfs":
			if set, ch := setOptions(m.Options, []string{"ro"}, []string{"rw"}); ch {
				m.Options = set
				changes = append(changes, m.Destination+": ro ("+m.Type+")")
			}
			// On cgroup v1, libcontainer mounts a tmpfs there for the controllers and,
			// in a user namespace, leaves that tmpfs writable (the posture check saw it):
			// a read-only path bound over it makes the top mount read-only too.
			if m.Type != "sysfs" && !slices.Contains(c.spec.Linux.ReadonlyPaths, m.Destination) {
				c.spec.Linux.ReadonlyPaths = append(c.spec.Linux.ReadonlyPaths, m.Destination)
				changes = append(changes, m.Destination+": read-only path")
			}
		}
		if !slices.Contains(m.Options, "ro") && !pol.AllowExec {
			if set, ch := setOptions(m.Options, []string{"noexec"}, []string{"exec"}); ch {
				m.Options = set
				changes = append(changes, m.Destination+": noexec (writable)")
			}
		}
	}
	if len(bindFlagsAsNamed) > 0 {
		relaxed = true
		c.relaxed(fmt.Sprintf("binds with the flags they name, as runc mounts them (profile %s, mounts.allow_bind_flags): %s", c.policy.Name, strings.Join(bindFlagsAsNamed, ", ")))
	}
	if len(changes) == 0 {
		if !relaxed {
			c.kept("every mount already satisfies the policy")
		}
		return nil
	}
	c.tightened("mount options tightened", "", strings.Join(changes, "; "))
	return nil
}

// tightenBind gives bind m nosuid,nodev, keeps its source's flags when it names none,
// and keeps it read-only when its source is; it returns what it changed.
func tightenBind(c *checker, m *specs.Mount) []string {
	var changes []string
	flagless := !slices.ContainsFunc(m.Options, isFlagOption)
	if set, ch := setOptions(m.Options, []string{"nosuid", "nodev"}, []string{"suid", "dev"}); ch {
		m.Options = set
		changes = append(changes, m.Destination+": nosuid,nodev")
		// A bind with no flags keeps its source's (mount(8)'s --bind); with
		// yoroi's, libcontainer remounts it with only the flags named: name the
		// source's too, or a noexec source would come out executable.
		if kept := c.facts.Sources[m.Source].Flags; flagless && len(kept) > 0 {
			m.Options, _ = setOptions(m.Options, kept, nil)
			changes = append(changes, m.Destination+": "+strings.Join(kept, ",")+" (kept from its source's mount)")
		}
	}
	// Remounting a bind with nosuid,nodev sets its flags anew: without ro, a
	// read-only source would come out writable (in the host's user namespace,
	// where the source's flags are not locked).
	if c.facts.Sources[m.Source].ReadOnly {
		if set, ch := setOptions(m.Options, []string{"ro"}, []string{"rw"}); ch {
			m.Options = set
			changes = append(changes, m.Destination+": ro (its source is on a read-only mount)")
		}
	}
	return changes
}

// checkedSource is a host path the container would see: a bind source or the rootfs.
type checkedSource struct {
	given, real string // as written, and with symlinks resolved ("" if unknown)
	what, dest  string // for the refusal line
}

// deniedSource refuses src when it (as written or resolved) is a denied path or an
// ancestor of one, or lies under a denied subtree, unless mounts.allow_sources lists it.
func (c *checker) deniedSource(src checkedSource) error {
	pol := c.policy.Mounts
	at := ""
	if src.dest != "" {
		at = " at " + src.dest
	}
	given := path.Clean(src.given)
	candidates := []string{given}
	if src.real != "" && path.Clean(src.real) != given {
		candidates = append(candidates, path.Clean(src.real))
	}
	for _, cand := range candidates {
		if slices.Contains(pol.AllowSources, cand) {
			continue
		}
		resolved := ""
		if cand != given {
			resolved = "resolves to " + cand + ", "
		}
		for _, d := range pol.DenySources {
			if cand == d || cand == "/" || strings.HasPrefix(d, cand+"/") {
				return c.refuse(fmt.Sprintf("%s of host path %s (%s%s)%s", src.what, src.given, resolved, describeDeny(cand, d), at), "mounts.allow_sources")
			}
		}
		for _, d := range pol.DenySubtrees {
			if cand == d || strings.HasPrefix(cand, d+"/") {
				return c.refuse(fmt.Sprintf("%s of host path %s (%sunder %s)%s", src.what, src.given, resolved, d, at), "mounts.allow_sources")
			}
		}
	}
	return nil
}

func describeDeny(cand, d string) string {
	if cand == d {
		return "denied"
	}
	return "contains " + d
}

// IsBind reports whether m is a bind mount (type "bind", or a bind/rbind option).
func IsBind(m specs.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// flagOptions are the mount options that set or clear a mount flag (libcontainer then
// remounts a bind with exactly the flags named).
var flagOptions = []string{
	"ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async",
	"dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime",
	"relatime", "norelatime", "strictatime", "nostrictatime", "symfollow", "nosymfollow",
}

func isFlagOption(o string) bool { return slices.Contains(flagOptions, o) }

// setOptions ensures every option of add is present and none of remove is; it reports
// whether anything changed.
func setOptions(opts, add, remove []string) ([]string, bool) {
	out := make([]string, 0, len(opts)+len(add))
	changed := false
	for _, o := range opts {
		if slices.Contains(remove, o) {
			changed = true
			continue
		}
		out = append(out, o)
	}
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
			changed = true
		}
	}
	return out, changed
}

// verifyMounts: binds are nosuid,nodev (read-only where their source is) unless
// mounts.allow_bind_flags; proc is nosuid,nodev,noexec; sysfs and cgroup are read-only
// (cgroup writable only by mounts.allow_writable_cgroup); writable mounts are noexec
// unless mounts.allow_exec.
func verifyMounts(v *verifier) error {
	pol := v.policy.Mounts
	for _, m := range v.spec.Mounts {
		if IsBind(m) && !pol.AllowBindFlags && !isSysfsBind(m) {
			if !hasFlag(m, "nosuid", "suid") || !hasFlag(m, "nodev", "dev") {
				return fmt.Errorf("bind mount %s without nosuid,nodev", m.Destination)
			}
			if v.facts.Sources[v.hostPath(m.Source)].ReadOnly && !hasFlag(m, "ro", "rw") {
				return fmt.Errorf("bind mount %s of a read-only source is writable", m.Destination)
			}
		}
		if m.Type == "proc" && !(hasFlag(m, "nosuid", "suid") && hasFlag(m, "nodev", "dev") && hasFlag(m, "noexec", "exec")) {
			return fmt.Errorf("proc mount %s without nosuid,nodev,noexec", m.Destination)
		}
		cgroup := m.Type == "cgroup" || m.Type == "cgroup2"
		if (m.Type == "sysfs" || cgroup && !pol.AllowWritableCgroup) && !hasFlag(m, "ro", "rw") {
			return fmt.Errorf("%s mount %s is writable", m.Type, m.Destination)
		}
		if !hasOption(m, "ro") && !pol.AllowExec && !hasFlag(m, "noexec", "exec") {
			return fmt.Errorf("writable mount %s is executable", m.Destination)
		}
	}
	return nil
}
