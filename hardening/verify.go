package hardening

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Verify checks that a spec satisfies policy: it is the postcondition of Apply. The
// runtime calls it on every hardened spec (defence in depth against a rule bug) and the
// fuzz tests assert it for every input Apply accepts.
func Verify(s *specs.Spec, p *Policy, facts HostFacts) error {
	if s == nil || s.Process == nil || s.Root == nil || s.Linux == nil {
		return fmt.Errorf("verify: incomplete spec")
	}
	pr := s.Process
	if !pr.NoNewPrivileges && !p.Process.AllowNewPrivileges {
		return fmt.Errorf("verify: noNewPrivileges is not set")
	}
	if p.Rootfs.Readonly && !s.Root.Readonly {
		return fmt.Errorf("verify: root is writable")
	}
	if pr.Capabilities == nil {
		return fmt.Errorf("verify: capabilities unset")
	}
	for _, set := range [][]string{pr.Capabilities.Bounding, pr.Capabilities.Effective, pr.Capabilities.Inheritable, pr.Capabilities.Permitted, pr.Capabilities.Ambient} {
		for _, cp := range set {
			if n, _ := normalizeCap(cp); !slices.Contains(p.Capabilities.Allow, n) {
				return fmt.Errorf("verify: capability %s outside the allowlist", cp)
			}
		}
	}
	for _, req := range requiredNamespaces {
		if !slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == req.typ }) &&
			!slices.Contains(p.Namespaces.AllowHost, req.name) {
			return fmt.Errorf("verify: no %s namespace", req.name)
		}
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Path == "" || ns.Type == specs.UserNamespace {
			continue // user namespaces: verifyUserNS
		}
		if id, ok := facts.NamespacePaths[ns.Path]; !ok || facts.HostNamespaces[ns.Type] == id && !slices.Contains(p.Namespaces.AllowHost, shareName(ns.Type)) {
			return fmt.Errorf("verify: %s namespace %s is the host's or unverified", ns.Type, ns.Path)
		}
	}
	if err := verifyUserNS(s, p, facts); err != nil {
		return err
	}
	if err := verifySeccomp(s.Linux.Seccomp, p, facts.Arch); err != nil {
		return err
	}
	active := InForce(p, facts.MAC)
	if len(active) == 0 {
		return fmt.Errorf("verify: no mandatory access control in force")
	}
	if slices.Contains(active, "landlock") && !IsLandlockWrapped(s.Process.Args) {
		return fmt.Errorf("verify: process not confined by Landlock")
	}
	if slices.Contains(active, "apparmor") && (s.Process.ApparmorProfile == "" || s.Process.ApparmorProfile == "unconfined") {
		return fmt.Errorf("verify: no AppArmor profile")
	}
	if slices.Contains(active, "selinux") && s.Process.SelinuxLabel == "" {
		return fmt.Errorf("verify: no SELinux label")
	}
	if isSharedPropagation(s.Linux.RootfsPropagation) && !p.Mounts.AllowSharedPropagation {
		return fmt.Errorf("verify: shared rootfs propagation")
	}
	c := &checker{spec: s, policy: p, facts: facts}
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			if isSharedPropagation(o) && !p.Mounts.AllowSharedPropagation {
				return fmt.Errorf("verify: shared propagation on %s", m.Destination)
			}
		}
		if IsBind(m) && !isSysfsBind(m) {
			if err := c.checkBindSource(m); err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			tightened := !p.Mounts.AllowBindFlags
			if tightened && (!slices.Contains(m.Options, "nosuid") || !slices.Contains(m.Options, "nodev") || slices.Contains(m.Options, "suid") || slices.Contains(m.Options, "dev")) {
				return fmt.Errorf("verify: bind mount %s without nosuid,nodev", m.Destination)
			}
			if tightened && facts.Sources[m.Source].ReadOnly && (!slices.Contains(m.Options, "ro") || slices.Contains(m.Options, "rw")) {
				return fmt.Errorf("verify: bind mount %s of a read-only source is writable", m.Destination)
			}
		}
		if m.Type == "proc" && !(slices.Contains(m.Options, "nosuid") && slices.Contains(m.Options, "nodev") && slices.Contains(m.Options, "noexec")) {
			return fmt.Errorf("verify: proc mount %s without nosuid,nodev,noexec", m.Destination)
		}
		writableCgroup := (m.Type == "cgroup" || m.Type == "cgroup2") && p.Mounts.AllowWritableCgroup
		if (m.Type == "sysfs" || m.Type == "cgroup" || m.Type == "cgroup2") && !writableCgroup && (!slices.Contains(m.Options, "ro") || slices.Contains(m.Options, "rw")) {
			return fmt.Errorf("verify: %s mount %s is writable", m.Type, m.Destination)
		}
		if !slices.Contains(m.Options, "ro") && !p.Mounts.AllowExec && (!slices.Contains(m.Options, "noexec") || slices.Contains(m.Options, "exec")) {
			return fmt.Errorf("verify: writable mount %s is executable", m.Destination)
		}
	}
	for _, want := range [][2][]string{{builtinMaskedPaths, s.Linux.MaskedPaths}, {builtinReadonlyPaths, s.Linux.ReadonlyPaths}} {
		for _, w := range want[0] {
			if !slices.Contains(want[1], w) {
				return fmt.Errorf("verify: %s is not masked/read-only", w)
			}
		}
	}
	for _, d := range s.Linux.Devices {
		if !slices.Contains(p.Devices.Allow, d.Path) && !slices.ContainsFunc(defaultDevices, func(dd defaultDevice) bool {
			return dd.path == d.Path && dd.major == d.Major && dd.minor == d.Minor && d.Type == "c"
		}) {
			return fmt.Errorf("verify: device %s not allowed", d.Path)
		}
	}
	r := s.Linux.Resources
	if r == nil || len(r.Devices) == 0 || !isDenyAll(r.Devices[0]) {
		return fmt.Errorf("verify: device cgroup does not start with deny-all")
	}
	for _, d := range r.Devices {
		if isAllowAllDevices(d) && !p.Privileged.Allow {
			return fmt.Errorf("verify: device cgroup allows all devices")
		}
	}
	privateNet := slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
	var hostSet map[string]string
	if a := s.Annotations[AnnotationNetSysctls]; a != "" {
		if err := json.Unmarshal([]byte(a), &hostSet); err != nil {
			return fmt.Errorf("verify: %s: %w", AnnotationNetSysctls, err)
		}
	}
	for _, set := range []map[string]string{s.Linux.Sysctl, hostSet} {
		for name := range set {
			if !sysctlAllowed(name, privateNet, p.Sysctls.Allow) {
				return fmt.Errorf("verify: sysctl %s not allowed", name)
			}
		}
	}
	unlimited := r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit < 0 && p.Pids.AllowUnlimited
	unset := (r.Pids == nil || r.Pids.Limit == nil) && p.Pids.AllowUnset
	if !unlimited && !unset && (r.Pids == nil || r.Pids.Limit == nil || *r.Pids.Limit < 0 || *r.Pids.Limit > p.Pids.Limit) {
		return fmt.Errorf("verify: pids limit missing or above %d", p.Pids.Limit)
	}
	if s.Hooks != nil {
		if len(s.Hooks.StartContainer) > 0 && !p.Hooks.AllowStartContainer {
			return fmt.Errorf("verify: startContainer hooks not allowed")
		}
		// startContainer hooks name paths in the container: hooks.allow lists host binaries.
		for _, hooks := range [][]specs.Hook{s.Hooks.Prestart, s.Hooks.CreateRuntime, s.Hooks.CreateContainer, s.Hooks.Poststart, s.Hooks.Poststop} { //nolint:staticcheck // prestart still runs.
			for _, h := range hooks {
				real := h.Path
				if rp, ok := facts.RealPaths[h.Path]; ok {
					real = rp
				}
				if !slices.Contains(p.Hooks.Allow, real) {
					return fmt.Errorf("verify: hook %s not allowed", h.Path)
				}
			}
		}
	}
	for _, dst := range slices.Concat(p.Rootfs.Scratch, p.Rootfs.ScratchCopy) {
		at := slices.IndexFunc(s.Mounts, func(m specs.Mount) bool { return c.resolvedDestination(m) == dst })
		if at < 0 {
			return fmt.Errorf("verify: no mount at scratch path %s", dst)
		}
		// yoroi's own scratch tmpfs must not hide a mount the spec asked for (the spec's
		// own order among its mounts is the caller's).
		scratch := s.Mounts[at].Type == "tmpfs" && slices.Contains(s.Mounts[at].Options, "mode=1777") && s.Mounts[at].Source == "tmpfs" && slices.ContainsFunc(s.Mounts[at].Options, func(o string) bool { return strings.HasPrefix(o, "size=") })
		if hidden := slices.IndexFunc(s.Mounts[:at], func(m specs.Mount) bool { return strings.HasPrefix(c.resolvedDestination(m), dst+"/") }); scratch && hidden >= 0 {
			return fmt.Errorf("verify: mount %s comes before the mount at %s, which hides it", s.Mounts[hidden].Destination, dst)
		}
	}
	return nil
}

func verifyUserNS(s *specs.Spec, p *Policy, facts HostFacts) error {
	mode := s.Annotations[AnnotationUserNS]
	hasUserNS := slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != specs.UserNamespace || ns.Path == "" {
			continue
		}
		ok := false
		for _, o := range facts.UserNS.Owners {
			if o.Path == ns.Path && !o.Host {
				ok = true
			}
		}
		if !ok && !(p.Userns.AllowHost && mode == "joined") {
			return fmt.Errorf("verify: user namespace %s is the host's or unverified", ns.Path)
		}
	}
	switch {
	case mode == "host" && p.Userns.AllowHost:
		return nil
	case !hasUserNS:
		return fmt.Errorf("verify: no user namespace")
	case mode == "allocated" || mode == "caller":
		for _, m := range append(slices.Clone(s.Linux.UIDMappings), s.Linux.GIDMappings...) {
			if m.Size > 0 && m.HostID < p.Userns.MinHostID {
				return fmt.Errorf("verify: user namespace maps host id %d", m.HostID)
			}
		}
	}
	if mode == "allocated" || mode == "pod" {
		if s.Annotations[AnnotationRootfsIdmap] == "" {
			return fmt.Errorf("verify: rootfs not id-mapped")
		}
		for _, m := range s.Mounts {
			if IsBind(m) && !isSysfsBind(m) && !withinRoot(m.Source, facts) && len(m.UIDMappings) == 0 && !slices.Contains(m.Options, "idmap") && !slices.Contains(m.Options, "ridmap") {
				return fmt.Errorf("verify: bind mount %s not id-mapped", m.Destination)
			}
		}
	}
	return nil
}

func verifySeccomp(s *specs.LinuxSeccomp, p *Policy, arch string) error {
	if s == nil {
		if p.Seccomp.AllowUnset {
			return nil
		}
		return fmt.Errorf("verify: no seccomp profile")
	}
	if allowsLike(s.DefaultAction) || s.DefaultAction == "" {
		if p.Seccomp.AllowUnconfined {
			return nil
		}
		return fmt.Errorf("verify: seccomp default action %q", s.DefaultAction)
	}
	if !p.Seccomp.CompatArchitectures {
		_, compat := nativeArch(arch)
		for _, a := range s.Architectures {
			if slices.Contains(compat, a) {
				return fmt.Errorf("verify: seccomp admits the compat architecture %s", a)
			}
		}
	}
	floor := floorNames()
	for _, sc := range s.Syscalls {
		if !allowsLike(sc.Action) {
			continue
		}
		for _, n := range sc.Names {
			if slices.Contains(floor, n) && !slices.Contains(p.Seccomp.AllowFloor, n) {
				return fmt.Errorf("verify: seccomp allows %s", n)
			}
			if !conditionSafe(n, sc.Args) {
				return fmt.Errorf("verify: seccomp allows %s without yoroi's conditions", n)
			}
			if len(p.Seccomp.Syscalls) > 0 && !slices.Contains(p.Seccomp.Syscalls, n) && !slices.Contains(listedAlways, n) {
				return fmt.Errorf("verify: seccomp allows %s, which seccomp.syscalls does not list", n)
			}
		}
	}
	return nil
}
