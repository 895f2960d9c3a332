package hardening

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkHooks: OCI hooks run on the host as root, so every hook binary (resolved, e.g.
// /proc/PID/exe to the daemon's binary) must be on hooks.allow. (startContainer hooks run
// in the container: hooks.start-container.)
func checkHooks(c *checker) error {
	h := c.spec.Hooks
	if h == nil {
		c.kept("no hooks")
		return nil
	}
	n := 0
	for _, list := range [][]struct{ kind, path string }{
		hookPaths("prestart", h.Prestart), //nolint:staticcheck // deprecated but still run.
		hookPaths("createRuntime", h.CreateRuntime),
		hookPaths("createContainer", h.CreateContainer),
		hookPaths("poststart", h.Poststart),
		hookPaths("poststop", h.Poststop),
	} {
		for _, hk := range list {
			real := hk.path
			if r, ok := c.facts.RealPaths[hk.path]; ok {
				real = r
			}
			if !slices.Contains(c.policy.Hooks.Allow, real) {
				return c.refuse(fmt.Sprintf("%s hook %s (%s) is not an allowed hook binary", hk.kind, hk.path, real), "hooks.allow")
			}
			n++
		}
	}
	c.kept(fmt.Sprintf("%d allowed hooks", n))
	return nil
}

func hookPaths(kind string, hooks []specs.Hook) []struct{ kind, path string } {
	out := make([]struct{ kind, path string }, len(hooks))
	for i, h := range hooks {
		out[i] = struct{ kind, path string }{kind, h.Path}
	}
	return out
}

// verifyHooks: every host hook's binary, resolved, is on hooks.allow.
func verifyHooks(v *verifier) error {
	h := v.spec.Hooks
	if h == nil {
		return nil
	}
	for _, hook := range slices.Concat(h.Prestart, h.CreateRuntime, h.CreateContainer, h.Poststart, h.Poststop) { //nolint:staticcheck // prestart still runs.
		real := hook.Path
		if rp, ok := v.facts.RealPaths[hook.Path]; ok {
			real = rp
		}
		if !slices.Contains(v.policy.Hooks.Allow, real) {
			return fmt.Errorf("hook %s not allowed", hook.Path)
		}
	}
	return nil
}
