package hardening

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// defaultDevice is a device every container may have.
type defaultDevice struct {
	path         string
	major, minor int64
}

var defaultDevices = []defaultDevice{
	{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7}, {"/dev/random", 1, 8},
	{"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}, {"/dev/console", 5, 1}, {"/dev/ptmx", 5, 2},
}

// ptsMajor is the major of /dev/pts/N, which terminal containers need.
const ptsMajor = 136

// checkDevices refuses host devices beyond the default set (devices.allow) and keeps the
// device cgroup to deny-by-default with allow rules for the default devices only.
func checkDevices(c *checker) error {
	const key = "devices.allow"
	l := c.spec.Linux
	allowedNums := map[deviceNum]bool{}
	for _, d := range l.Devices {
		if slices.Contains(c.policy.Devices.Allow, d.Path) {
			allowedNums[deviceNum{d.Type, d.Major, d.Minor}] = true
			continue
		}
		i := slices.IndexFunc(defaultDevices, func(dd defaultDevice) bool { return dd.path == d.Path })
		if i < 0 {
			return c.refuse(fmt.Sprintf("host device %s (%d:%d) requested", d.Path, d.Major, d.Minor), key)
		}
		if dd := defaultDevices[i]; d.Type != "c" || d.Major != dd.major || d.Minor != dd.minor {
			return c.refuse(fmt.Sprintf("device %s is %s %d:%d, not the standard %d:%d", d.Path, d.Type, d.Major, d.Minor, dd.major, dd.minor), key)
		}
	}
	if l.Resources == nil {
		l.Resources = &specs.LinuxResources{}
	}
	var removed []string
	rules := make([]specs.LinuxDeviceCgroup, 0, len(l.Resources.Devices)+1)
	if len(l.Resources.Devices) == 0 || !isDenyAll(l.Resources.Devices[0]) {
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"})
		removed = append(removed, "(deny-all rule added first)")
	}
	for _, d := range l.Resources.Devices {
		if !d.Allow || deviceRuleAllowed(d, allowedNums) {
			rules = append(rules, d)
			continue
		}
		removed = append(removed, describeDeviceRule(d))
	}
	l.Resources.Devices = rules
	if len(removed) == 0 {
		c.kept("default devices only")
		return nil
	}
	c.tightened("device cgroup rules limited to the default devices", strings.Join(removed, ","), fmt.Sprintf("%d rules", len(rules)))
	return nil
}

// isDenyAll reports whether d denies every access to every device: a deny rule of type
// all, with no numbers, whose access names read, write and mknod, or is empty (which the
// OCI spec leaves undefined and libcontainer refuses at create). To the OCI spec, a deny
// of one access only (mknod, say) leaves the others to every device; libcontainer happens
// to apply any deny of type all as deny-all, which the rule does not rely on: it puts a
// deny-all rule first.
func isDenyAll(d specs.LinuxDeviceCgroup) bool {
	every := d.Access == "" || strings.Contains(d.Access, "r") && strings.Contains(d.Access, "w") && strings.Contains(d.Access, "m")
	return !d.Allow && (d.Type == "" || d.Type == "a") && d.Major == nil && d.Minor == nil && every
}

// deviceNum is a device's type ("c", "b") and numbers.
type deviceNum struct {
	typ          string
	major, minor int64
}

// deviceRuleAllowed: a cgroup allow rule is kept for the default character devices,
// /dev/pts/*, and the devices (character or block) devices.allow admitted by path.
func deviceRuleAllowed(d specs.LinuxDeviceCgroup, extra map[deviceNum]bool) bool {
	if d.Major == nil || d.Minor == nil {
		// Wildcards: only /dev/pts/* (c 136:*) is allowed.
		return d.Type == "c" && d.Major != nil && *d.Major == ptsMajor && d.Minor == nil
	}
	if extra[deviceNum{d.Type, *d.Major, *d.Minor}] {
		return true
	}
	if d.Type != "c" {
		return false
	}
	if *d.Major == ptsMajor {
		return true
	}
	return slices.ContainsFunc(defaultDevices, func(dd defaultDevice) bool { return dd.major == *d.Major && dd.minor == *d.Minor })
}

func describeDeviceRule(d specs.LinuxDeviceCgroup) string {
	num := func(p *int64) string {
		if p == nil {
			return "*"
		}
		return fmt.Sprint(*p)
	}
	t := d.Type
	if t == "" {
		t = "a"
	}
	return fmt.Sprintf("%s %s:%s %s", t, num(d.Major), num(d.Minor), d.Access)
}

// verifyDevices: only the default devices and devices.allow are created, and the device
// cgroup starts by denying everything.
func verifyDevices(v *verifier) error {
	for _, d := range v.spec.Linux.Devices {
		isDefault := slices.ContainsFunc(defaultDevices, func(dd defaultDevice) bool {
			return dd.path == d.Path && dd.major == d.Major && dd.minor == d.Minor && d.Type == "c"
		})
		if !isDefault && !slices.Contains(v.policy.Devices.Allow, d.Path) {
			return fmt.Errorf("device %s not allowed", d.Path)
		}
	}
	r := v.spec.Linux.Resources
	if r == nil || len(r.Devices) == 0 {
		return fmt.Errorf("no device cgroup rules")
	}
	if !isDenyAll(r.Devices[0]) {
		return fmt.Errorf("the device cgroup does not start by denying every device")
	}
	return nil
}
