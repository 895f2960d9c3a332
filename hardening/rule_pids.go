package hardening

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkPids gives every container a pids limit: pids.limit when the spec sets none (or
// unlimited: a negative limit), and never more than it. A limit of 0 is the strictest
// there is and is kept (libcontainer, like systemd, writes it as 1: the init alone). An
// explicit unlimited limit is kept only where pids.allow_unlimited says so, and no limit
// where the spec sets none only where pids.allow_unset does.
func checkPids(c *checker) error {
	r := c.spec.Linux.Resources
	if (r == nil || r.Pids == nil || r.Pids.Limit == nil) && c.policy.Pids.AllowUnset {
		c.relaxed(fmt.Sprintf("no pids limit: the spec sets none (profile %s, pids.allow_unset)", c.policy.Name))
		return nil
	}
	if r == nil {
		r = &specs.LinuxResources{}
		c.spec.Linux.Resources = r
	}
	max := c.policy.Pids.Limit
	before := "unlimited"
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit < 0 && c.policy.Pids.AllowUnlimited {
		c.relaxed(fmt.Sprintf("unlimited pids kept (profile %s)", c.policy.Name))
		return nil
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit >= 0 {
		if *r.Pids.Limit <= max {
			c.kept(fmt.Sprintf("pids limit %d", *r.Pids.Limit))
			return nil
		}
		before = fmt.Sprint(*r.Pids.Limit)
	}
	limit := max
	r.Pids = &specs.LinuxPids{Limit: &limit}
	c.tightened("pids limit set", before, fmt.Sprint(max))
	return nil
}

// CheckUpdate applies the pids rule to `update`: a running container's limit can be
// lowered (down to 0), never removed or raised above pids.limit.
func CheckUpdate(r *specs.LinuxResources, p *Policy) error {
	if r == nil || r.Pids == nil {
		return nil
	}
	if r.Pids.Limit != nil && *r.Pids.Limit < 0 && p.Pids.AllowUnlimited {
		return nil
	}
	if r.Pids.Limit == nil || *r.Pids.Limit < 0 || *r.Pids.Limit > p.Pids.Limit {
		what := "unlimited"
		if r.Pids.Limit != nil && *r.Pids.Limit >= 0 {
			what = fmt.Sprint(*r.Pids.Limit)
		}
		return &Refusal{Rule: "pids", What: fmt.Sprintf("pids limit %s requested, above the maximum %d", what, p.Pids.Limit), Key: "pids.limit"}
	}
	return nil
}

// verifyPids: a pids limit no higher than pids.limit (unlimited or unset only by profile).
func verifyPids(v *verifier) error {
	r := v.spec.Linux.Resources
	var limit *int64
	if r != nil && r.Pids != nil {
		limit = r.Pids.Limit
	}
	switch {
	case limit == nil && v.policy.Pids.AllowUnset:
	case limit != nil && *limit < 0 && v.policy.Pids.AllowUnlimited:
	case limit == nil || *limit < 0 || *limit > v.policy.Pids.Limit:
		return fmt.Errorf("pids limit missing or above %d", v.policy.Pids.Limit)
	}
	return nil
}
