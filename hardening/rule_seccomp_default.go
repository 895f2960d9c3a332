package hardening

import (
	"fmt"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkAllowByDefault refuses a caller's seccomp profile whose default action allows: it
// does not filter. (A spec without a profile gets yoroi's: seccomp.)
func checkAllowByDefault(c *checker) error {
	s := c.spec.Linux.Seccomp
	if s == nil || deniesByDefault(s.DefaultAction) {
		c.kept("no allow-by-default profile")
		return nil
	}
	if !c.policy.Seccomp.AllowUnconfined {
		return c.refuse(fmt.Sprintf("the seccomp profile's default action is %q: it does not filter", s.DefaultAction), "seccomp.allow_unconfined")
	}
	c.relaxed("allow-by-default profile allowed by profile " + c.policy.Name + " (seccomp.allow_unconfined)")
	return nil
}

// deniesByDefault: the action denies a syscall (an unknown one does not count).
func deniesByDefault(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap:
		return true
	}
	return false
}

// verifyAllowByDefault: a seccomp profile denies by default unless a profile allows one
// that does not.
func verifyAllowByDefault(v *verifier) error {
	s := v.spec.Linux.Seccomp
	if s == nil || v.policy.Seccomp.AllowUnconfined {
		return nil
	}
	switch s.DefaultAction {
	case specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap:
		return nil
	}
	return fmt.Errorf("seccomp default action %q", s.DefaultAction)
}
