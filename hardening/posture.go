package hardening

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"
)

// Posture is what the policy promised about a started container's process, as the kernel
// can show it from the host: the model its observed state is compared with after the
// workload starts. The runtime builds it from the configuration the container was
// created with.
type Posture struct {
	// Capability sets, as masks of capability numbers: Bounding is the exact bounding set;
	// every other set must lie within it, and the ambient set within Ambient.
	Bounding, Ambient uint64
	NoNewPrivileges   bool
	// Seccomp: the process runs under a seccomp filter (mode 2).
	Seccomp bool
	// UIDMap and GIDMap are the user namespace's mappings as /proc/PID/uid_map shows
	// them; nil when the container has none of its own to expect.
	UIDMap, GIDMap []IDMapLine
	// HostRootAllowed: host uid 0 may be mapped (a profile's userns.allow_host).
	HostRootAllowed bool
	// Namespaces: for each namespace kind ("net", "pid", …), what its identity must be.
	Namespaces map[string]NamespaceExpectation
	// RootReadonly: "/" is mounted read-only.
	RootReadonly bool
	// Mounts are the mount points (inside the container) with the options each must carry.
	Mounts []MountExpectation
	// Rlimits are the resource limits the process must have, by /proc/PID/limits name.
	Rlimits map[string]Rlimit
	// ForbiddenFDTargets: no open descriptor of the process may point at or below these
	// (the runtime's state).
	ForbiddenFDTargets []string
}

// IDMapLine is one line of a uid_map or gid_map.
type IDMapLine struct{ Inside, Outside, Size uint64 }

// NamespaceExpectation is a namespace's identity: it must differ from the host's, or be
// the one joined.
type NamespaceExpectation struct {
	Host   FileID // the host's namespace of this kind
	Joined *FileID
}

// MountExpectation is a mount point and the per-mount options it must have.
type MountExpectation struct {
	Path    string
	Options []string // of "ro", "nosuid", "nodev", "noexec"
}

// Rlimit is a soft and a hard limit ("unlimited" is ^0).
type Rlimit struct{ Soft, Hard uint64 }

// Observed is what the host reads of the process: /proc/PID/status, the id maps, the
// namespace links, mountinfo, limits and fd links.
type Observed struct {
	CapBnd, CapEff, CapPrm, CapInh, CapAmb uint64
	NoNewPrivs                             bool
	SeccompMode                            int
	UIDMap, GIDMap                         []IDMapLine
	Namespaces                             map[string]FileID
	// Mounts maps each mount point to its per-mount options (the last mount there wins,
	// as it is the one visible).
	Mounts  map[string][]string
	Rlimits map[string]Rlimit
	FDs     map[int]string
}

// Compare returns every way o differs from the model, one short phrase each.
func (m Posture) Compare(o Observed) []string {
	var out []string
	for _, cmp := range []func(Posture, Observed, *differences){
		compareCapabilities, comparePrivileges, compareIDMaps, compareNamespaces, compareMounts, compareRlimits, compareFDs,
	} {
		cmp(m, o, (*differences)(&out))
	}
	return out
}

// differences collects Compare's phrases.
type differences []string

func (d *differences) add(format string, args ...any) { *d = append(*d, fmt.Sprintf(format, args...)) }

func compareCapabilities(m Posture, o Observed, d *differences) {
	if o.CapBnd != m.Bounding {
		d.add("bounding capabilities %s, want %s", capList(o.CapBnd), capList(m.Bounding))
	}
	for _, set := range []struct {
		name string
		mask uint64
	}{{"effective", o.CapEff}, {"permitted", o.CapPrm}, {"inheritable", o.CapInh}} {
		if extra := set.mask &^ m.Bounding; extra != 0 {
			d.add("%s capabilities %s outside the bounding set", set.name, capList(extra))
		}
	}
	if extra := o.CapAmb &^ (m.Ambient & m.Bounding); extra != 0 {
		d.add("ambient capabilities %s not granted", capList(extra))
	}
}

func comparePrivileges(m Posture, o Observed, d *differences) {
	if m.NoNewPrivileges && !o.NoNewPrivs {
		d.add("no_new_privs is not set")
	}
	if m.Seccomp && o.SeccompMode != 2 {
		d.add("seccomp mode %d, want 2 (filter)", o.SeccompMode)
	}
}

func compareIDMaps(m Posture, o Observed, d *differences) {
	for _, ids := range []struct {
		name      string
		want, got []IDMapLine
	}{{"uid_map", m.UIDMap, o.UIDMap}, {"gid_map", m.GIDMap, o.GIDMap}} {
		if ids.want != nil && !slices.Equal(ids.want, ids.got) {
			d.add("%s %v, want %v", ids.name, ids.got, ids.want)
		}
		if !m.HostRootAllowed && slices.ContainsFunc(ids.got, func(l IDMapLine) bool { return l.Outside == 0 }) {
			d.add("%s maps host id 0", ids.name)
		}
	}
}

func compareNamespaces(m Posture, o Observed, d *differences) {
	for _, kind := range slices.Sorted(maps.Keys(m.Namespaces)) {
		want := m.Namespaces[kind]
		got, ok := o.Namespaces[kind]
		switch {
		case !ok:
			d.add("%s namespace unreadable", kind)
		case want.Joined != nil && got != *want.Joined:
			d.add("%s namespace is not the one joined", kind)
		case want.Joined == nil && got == want.Host:
			d.add("%s namespace is the host's", kind)
		}
	}
}

func compareMounts(m Posture, o Observed, d *differences) {
	if m.RootReadonly && !slices.Contains(o.Mounts["/"], "ro") {
		d.add("/ is mounted writable")
	}
	for _, me := range m.Mounts {
		got, ok := o.Mounts[me.Path]
		if !ok {
			d.add("mount %s missing", me.Path)
			continue
		}
		var missing []string
		for _, opt := range me.Options {
			if !slices.Contains(got, opt) {
				missing = append(missing, opt)
			}
		}
		if len(missing) > 0 {
			d.add("mount %s without %s", me.Path, strings.Join(missing, ","))
		}
	}
}

func compareRlimits(m Posture, o Observed, d *differences) {
	for _, n := range slices.Sorted(maps.Keys(m.Rlimits)) {
		if got, ok := o.Rlimits[n]; !ok || got != m.Rlimits[n] {
			d.add("rlimit %q is %v, want %v", n, got, m.Rlimits[n])
		}
	}
}

func compareFDs(m Posture, o Observed, d *differences) {
	for _, fd := range slices.Sorted(maps.Keys(o.FDs)) {
		if target := o.FDs[fd]; UnderAny(target, m.ForbiddenFDTargets) {
			d.add("fd %d open on %s", fd, target)
		}
	}
}

// UnderAny reports whether link (a descriptor's /proc link: a path, possibly followed by
// " (deleted)") names one of targets or lies below one.
func UnderAny(link string, targets []string) bool {
	for _, t := range targets {
		if link == t || strings.HasPrefix(link, t+"/") || strings.HasPrefix(link, t+" ") {
			return true
		}
	}
	return false
}

// CapMask turns capability names into a mask of their numbers; unknown names are ignored
// (the policy refused them before).
func CapMask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := normalizeCap(n); ok {
			if i := slices.Index(allCapabilities, c); i >= 0 {
				m |= 1 << uint(i)
			}
		}
	}
	return m
}

// capList names the capabilities of a mask ("CAP_SYS_ADMIN,#45" for numbers beyond the
// known ones).
func capList(m uint64) string {
	if m == 0 {
		return "none"
	}
	var names []string
	for m != 0 {
		i := bits.TrailingZeros64(m)
		m &^= 1 << uint(i)
		if i < len(allCapabilities) {
			names = append(names, allCapabilities[i])
		} else {
			names = append(names, fmt.Sprintf("#%d", i))
		}
	}
	return strings.Join(names, ",")
}
