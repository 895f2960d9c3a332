package hardening

import "fmt"

// checkStartContainerHooks: startContainer hooks run inside the container, but before its
// seccomp filter and Landlock domain (the launcher installs both at the workload's
// execve): they are refused unless hooks.allow_start_container says they may run so. They
// name paths in the container, so hooks.allow (host binaries) does not apply to them.
func checkStartContainerHooks(c *checker) error {
	h := c.spec.Hooks
	if h == nil || len(h.StartContainer) == 0 {
		c.kept("no startContainer hooks")
		return nil
	}
	if !c.policy.Hooks.AllowStartContainer {
		return c.refuse(fmt.Sprintf("startContainer hook %s would run in the container outside its seccomp filter and Landlock domain", h.StartContainer[0].Path), "hooks.allow_start_container")
	}
	c.relaxed(fmt.Sprintf("%d startContainer hooks run without the container's seccomp filter and Landlock domain (profile %s)", len(h.StartContainer), c.policy.Name))
	return nil
}

// verifyStartContainerHooks: none unless hooks.allow_start_container.
func verifyStartContainerHooks(v *verifier) error {
	if h := v.spec.Hooks; h != nil && len(h.StartContainer) > 0 && !v.policy.Hooks.AllowStartContainer {
		return fmt.Errorf("startContainer hooks")
	}
	return nil
}
