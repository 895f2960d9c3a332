package hardening

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// engineSource judges a bind source by what it is, not where it is: an engine's control
// socket or state directory gives the host away wherever an administrator put it. It
// refuses a UNIX socket, a directory with a bound UNIX socket beneath it, and a directory
// that is, or contains, engine state derived from the container itself (its root
// filesystem and layers, the runtime's state root, the bundles beside its own). Only
// mounts.allow_sources naming the exact path lets such a source through.
func (c *checker) engineSource(m specs.Mount) error {
	const rule = "mounts.source"
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
		return c.refuse(rule, fmt.Sprintf("bind mount of host path %s at %s is a UNIX socket (an engine's API socket controls the host)", m.Source, m.Destination), key)
	}
	if len(f.Sockets) > 0 {
		return c.refuse(rule, fmt.Sprintf("bind mount of host path %s at %s contains the bound UNIX socket %s (an engine's API socket controls the host)", m.Source, m.Destination, f.Sockets[0]), key)
	}
	for _, e := range c.facts.EngineState {
		p := path.Clean(e.Path)
		if real == "/" || p == real || strings.HasPrefix(p, real+"/") {
			what := "is"
			if p != real {
				what = "contains"
			}
			return c.refuse(rule, fmt.Sprintf("bind mount of host path %s at %s %s %s (%s)", m.Source, m.Destination, what, e.What, p), key)
		}
	}
	return nil
}
