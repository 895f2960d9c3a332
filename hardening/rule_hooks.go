package hardening

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkHooks: OCI hooks run on the host as root, so every hook binary (resolved, e.g.
// /proc/PID/exe to the daemon's binary) must be on hooks.allow. startContainer hooks run
// inside the container, but before its seccomp filter and Landlock domain (the launcher
// installs both at the workload's execve): they are refused unless
// hooks.allow_start_container says they may run so, and are then not host binaries.
func checkHooks(c *checker) error {
	const rule = "hooks"
	h := c.spec.Hooks
	if h == nil {
		c.kept(rule, "no hooks")
		return nil
	}
	if len(h.StartContainer) > 0 {
		if !c.policy.Hooks.AllowStartContainer {
			return c.refuse("hooks.start-container", fmt.Sprintf("startContainer hook %s would run in the container outside its seccomp filter and Landlock domain", h.StartContainer[0].Path), "hooks.allow_start_container")
		}
		c.relaxed("hooks.start-container", fmt.Sprintf("%d startContainer hooks run without the container's seccomp filter and Landlock domain (profile %s)", len(h.StartContainer), c.policy.Name))
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
				return c.refuse(rule, fmt.Sprintf("%s hook %s (%s) is not an allowed hook binary", hk.kind, hk.path, real), "hooks.allow")
			}
			n++
		}
	}
	c.kept(rule, fmt.Sprintf("%d allowed hooks", n))
	return nil
}

func hookPaths(kind string, hooks []specs.Hook) []struct{ kind, path string } {
	out := make([]struct{ kind, path string }, len(hooks))
	for i, h := range hooks {
		out[i] = struct{ kind, path string }{kind, h.Path}
	}
	return out
}
