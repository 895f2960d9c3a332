package hardening

import (
	"fmt"
)

// checkReadonlyRoot makes the root filesystem read-only (rootfs.readonly).
func checkReadonlyRoot(c *checker) error {
	switch {
	case c.request.Record:
		c.spec.Root.Readonly = false
		c.relaxed("writable root for profile record: an overlay whose writes are recorded, then discarded")
	case c.spec.Root.Readonly:
		c.kept("root filesystem is read-only")
	case !c.policy.Rootfs.Readonly:
		c.relaxed("writable root filesystem allowed by profile " + c.policy.Name)
	default:
		c.spec.Root.Readonly = true
		c.tightened("root filesystem made read-only", "readonly=false", "readonly=true")
	}
	return nil
}

// RecordingPolicy is p as `yoroi profile record` applies it: the same in every rule but
// the root filesystem, which is writable so that the workload's writes can be learnt (the
// runtime gives it an overlay whose upper layer is read, then removed), and the list of
// syscalls, which the recording learns anew (its filter notifies the agent of every
// syscall but the deny floor's).
func RecordingPolicy(p *Policy) *Policy {
	r := *p
	r.Rootfs.Readonly = false
	r.Seccomp.Syscalls = nil
	return &r
}

// verifyReadonlyRoot: the root filesystem is read-only unless a profile allows otherwise.
func verifyReadonlyRoot(v *verifier) error {
	if v.policy.Rootfs.Readonly && !v.spec.Root.Readonly {
		return fmt.Errorf("the root filesystem is writable")
	}
	return nil
}
