package hardening

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkSources refuses a bind source by its path (the deny lists) and by what it is
// (engineSource). The sysfs bind mounts.sysfs puts in place of a sysfs mount is yoroi's own.
func checkSources(c *checker) error {
	n := 0
	for _, m := range c.spec.Mounts {
		if !IsBind(m) {
			continue
		}
		if err := c.deniedSource(checkedSource{given: m.Source, real: c.facts.RealPaths[m.Source], what: "bind mount", dest: m.Destination}); err != nil {
			return err
		}
		if err := c.engineSource(m); err != nil {
			return err
		}
		n++
	}
	c.kept(fmt.Sprintf("%d bind sources, none a sensitive host path or engine state", n))
	return nil
}

// engineSource judges a bind source by what it is, not where it is: an engine's control
// socket or state directory gives the host away wherever an administrator put it. It
// refuses a UNIX socket, a directory with a bound UNIX socket beneath it, and a directory
// that is, or contains, engine state derived from the container itself (its root
// filesystem and layers, the runtime's state root, the bundles beside its own). Only
// mounts.allow_sources naming the exact path lets such a source through.
func (c *checker) engineSource(m specs.Mount) error {
	given := path.Clean(m.Source)
	real := given
	if r := c.facts.RealPaths[m.Source]; r != "" {
		real = path.Clean(r)
	}
	if slices.Contains(c.policy.Mounts.AllowSources, given) || slices.Contains(c.policy.Mounts.AllowSources, real) {
		return nil
	}
	const key = "mounts.allow_sources"
	f := c.facts.Sources[m.Source]
	if f.Type == "socket" {
		return c.refuse(fmt.Sprintf("bind mount of host path %s at %s is a UNIX socket (an engine's API socket controls the host)", m.Source, m.Destination), key)
	}
	if len(f.Sockets) > 0 {
		return c.refuse(fmt.Sprintf("bind mount of host path %s at %s contains the bound UNIX socket %s (an engine's API socket controls the host)", m.Source, m.Destination, f.Sockets[0]), key)
	}
	for _, e := range c.facts.EngineState {
		p := path.Clean(e.Path)
		if real == "/" || p == real || strings.HasPrefix(p, real+"/") {
			what := "is"
			if p != real {
				what = "contains"
			}
			return c.refuse(fmt.Sprintf("bind mount of host path %s at %s %s %s (%s)", m.Source, m.Destination, what, e.What, p), key)
		}
	}
	return nil
}

// verifySources: no bind source (as written or resolved) exposes the host, is a socket,
// holds a bound socket, or is or contains engine state, unless mounts.allow_sources names
// it. The sysfs bind of mounts.sysfs is checked there.
func verifySources(v *verifier) error {
	allow := v.policy.Mounts.AllowSources
	for _, m := range v.binds() {
		if isSysfsBind(m) {
			continue
		}
		given := path.Clean(v.hostPath(m.Source))
		real := v.facts.RealPaths[given]
		if real == "" {
			real = v.facts.RealPaths[v.hostPath(m.Source)]
		}
		if p := v.exposesHost(given, real); p != "" {
			return fmt.Errorf("bind mount of %s at %s", p, m.Destination)
		}
		if slices.Contains(allow, given) || real != "" && slices.Contains(allow, path.Clean(real)) {
			continue
		}
		f := v.facts.Sources[v.hostPath(m.Source)]
		if f.Type == "socket" || len(f.Sockets) > 0 {
			return fmt.Errorf("bind mount of a UNIX socket (or a directory holding one) at %s", m.Destination)
		}
		if real == "" {
			real = given
		}
		for _, e := range v.facts.EngineState {
			if p := path.Clean(e.Path); real == "/" || p == path.Clean(real) || strings.HasPrefix(p, path.Clean(real)+"/") {
				return fmt.Errorf("bind mount of engine state %s at %s", p, m.Destination)
			}
		}
	}
	return nil
}
