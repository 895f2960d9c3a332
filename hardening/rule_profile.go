package hardening

// checkProfile records which profile is in force and every setting in which it differs
// from the built-in policy. The runtime selects the profile from the org.yoroi.profile
// annotation; only config.toml defines what a profile allows.
func checkProfile(c *checker) error {
	if c.policy.Name == DefaultProfile || c.policy.Name == "" {
		c.kept("default policy")
		return nil
	}
	diffs := c.policy.Differences()
	if len(diffs) == 0 {
		c.kept("profile " + c.policy.Name + " (same as the default policy)")
		return nil
	}
	for _, d := range diffs {
		d.Detail = "profile " + c.policy.Name + ": " + d.Detail
		c.plan.Decisions = append(c.plan.Decisions, d)
	}
	return nil
}
