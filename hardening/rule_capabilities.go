package hardening

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkCapabilities clamps every capability set to the allowlist. Capabilities engines
// grant by default (capabilities.drop) are removed and recorded; any other capability
// outside the allowlist is refused. A name no kernel yoroi knows defines grants nothing:
// it is left out and recorded, as runc ignores it. A process without a capabilities block
// gets none.
func checkCapabilities(c *checker) error {
	p := c.spec.Process
	if p.Capabilities == nil {
		p.Capabilities = &specs.LinuxCapabilities{
			Bounding: []string{}, Effective: []string{}, Inheritable: []string{},
			Permitted: []string{}, Ambient: []string{},
		}
		c.tightened("no capabilities block: the process gets none", "(unset: all of root's)", "[]")
		return nil
	}
	allow, drop := c.policy.Capabilities.Allow, c.policy.Capabilities.Drop
	var dropped, unknown []string
	sets := []struct {
		name string
		set  *[]string
	}{
		{"bounding", &p.Capabilities.Bounding},
		{"effective", &p.Capabilities.Effective},
		{"inheritable", &p.Capabilities.Inheritable},
		{"permitted", &p.Capabilities.Permitted},
		{"ambient", &p.Capabilities.Ambient},
	}
	for _, s := range sets {
		kept := make([]string, 0, len(*s.set))
		for _, raw := range *s.set {
			name, known := normalizeCap(raw)
			switch {
			case !known:
				if !slices.Contains(unknown, raw) {
					unknown = append(unknown, raw)
				}
			case slices.Contains(allow, name):
				if !slices.Contains(kept, name) {
					kept = append(kept, name)
				}
			case slices.Contains(drop, name):
				if !slices.Contains(dropped, name) {
					dropped = append(dropped, name)
				}
			default:
				return c.refuse(fmt.Sprintf("capability %s requested (%s set)", name, s.name), "capabilities.allow")
			}
		}
		*s.set = kept
	}
	if len(unknown) > 0 {
		c.tightened("unknown capabilities ignored", strings.Join(unknown, ","), "not granted")
	}
	if len(dropped) == 0 {
		if len(unknown) > 0 {
			return nil
		}
		c.kept("all requested capabilities are allowed: " + strings.Join(p.Capabilities.Bounding, ","))
		return nil
	}
	c.tightened("engine-default capabilities dropped", strings.Join(dropped, ","), "bounding="+strings.Join(p.Capabilities.Bounding, ","))
	return nil
}

// verifyCapabilities: every capability of every set is on the allowlist.
func verifyCapabilities(v *verifier) error {
	c := v.spec.Process.Capabilities
	if c == nil {
		return fmt.Errorf("capabilities unset (all of root's)")
	}
	for _, set := range [][]string{c.Bounding, c.Effective, c.Inheritable, c.Permitted, c.Ambient} {
		for _, name := range set {
			n := strings.ToUpper(name)
			if !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			if !slices.Contains(v.policy.Capabilities.Allow, n) {
				return fmt.Errorf("capability %s outside the allowlist", name)
			}
		}
	}
	return nil
}
