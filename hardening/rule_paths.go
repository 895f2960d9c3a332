package hardening

import (
	"fmt"
	"slices"
	"strings"
)

// builtinMaskedPaths is the union of runc's, Docker's and containerd's masked paths.
var builtinMaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
	"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
	// The physical address of the kernel's crash notes: a KASLR bypass.
	"/sys/kernel/vmcoreinfo",
}

// builtinReadonlyPaths is the union of runc's, Docker's and containerd's read-only paths.
var builtinReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// checkMaskedPaths always applies the built-in masked and read-only paths (plus the
// configured extra ones), even when the caller emptied the lists.
func checkMaskedPaths(c *checker) error {
	l := c.spec.Linux
	var added []string
	merge := func(list *[]string, want ...[]string) {
		for _, w := range want {
			for _, p := range w {
				if !slices.Contains(*list, p) {
					*list = append(*list, p)
					added = append(added, p)
				}
			}
		}
	}
	merge(&l.MaskedPaths, builtinMaskedPaths, c.policy.Paths.Masked)
	merge(&l.ReadonlyPaths, builtinReadonlyPaths, c.policy.Paths.Readonly)
	if len(added) == 0 {
		c.kept("masked and read-only paths complete")
		return nil
	}
	c.tightened("masked/read-only paths added", "", strings.Join(added, ","))
	return nil
}

// verifyMaskedPaths: the built-in and configured masked and read-only paths are all there.
func verifyMaskedPaths(v *verifier) error {
	l := v.spec.Linux
	for _, p := range slices.Concat(builtinMaskedPaths, v.policy.Paths.Masked) {
		if !slices.Contains(l.MaskedPaths, p) {
			return fmt.Errorf("%s is not masked", p)
		}
	}
	for _, p := range slices.Concat(builtinReadonlyPaths, v.policy.Paths.Readonly) {
		if !slices.Contains(l.ReadonlyPaths, p) {
			return fmt.Errorf("%s is not read-only", p)
		}
	}
	return nil
}
