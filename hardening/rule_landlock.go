package hardening

import (
	"fmt"
	"slices"
	"strconv"
)

// LandlockArg is the hidden argument with which the runtime's own binary, executed as the
// container's process, restricts itself with Landlock and then executes the workload.
const LandlockArg = "__yoroi_landlock"

// LandlockExe is what the container's process executes first: libcontainer's init runs
// from the runtime's sealed binary, so /proc/self/exe inside the container is that copy.
const LandlockExe = "/proc/self/exe"

// WrapLandlock returns the argv that runs args under Landlock: the launcher, its
// settings, "--", then the workload's argv unchanged.
func WrapLandlock(args []string, minABI int, execWritable bool) []string {
	out := []string{LandlockExe, LandlockArg, "abi=" + strconv.Itoa(minABI)}
	if execWritable {
		out = append(out, "exec-writable")
	}
	out = append(out, "--")
	return append(out, args...)
}

// IsLandlockWrapped reports whether args already run under the launcher.
func IsLandlockWrapped(args []string) bool {
	return len(args) > 2 && args[0] == LandlockExe && args[1] == LandlockArg
}

// checkLandlock confines the workload itself with Landlock, right before it executes:
// read+execute on the read-only root, read+write without execute on writable mounts,
// read-only on read-only mounts, nothing else.
func checkLandlock(c *checker) error {
	const rule = "mac.landlock"
	if !macActive(c, "landlock") {
		c.kept(rule, "Landlock not accepted or not available")
		return nil
	}
	return wrapProcess(c, rule)
}

func wrapProcess(c *checker, rule string) error {
	p := c.spec.Process
	if IsLandlockWrapped(p.Args) {
		return c.refuse(rule, "process.args already name yoroi's Landlock launcher", "mac.accept")
	}
	if slices.Contains(p.Args, LandlockArg) && len(p.Args) > 0 && p.Args[0] == LandlockExe {
		return c.refuse(rule, "process.args imitate yoroi's Landlock launcher", "mac.accept")
	}
	p.Args = WrapLandlock(p.Args, c.policy.MAC.LandlockMinABI, c.policy.MAC.LandlockExecWritable)
	c.tightened(rule, fmt.Sprintf("workload confined by Landlock (kernel ABI %d, at least %d)", c.facts.MAC.LandlockABI, c.policy.MAC.LandlockMinABI), "", "rx on /, rw (no exec) on writable mounts, r on read-only mounts")
	return nil
}
