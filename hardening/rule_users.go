package hardening

import (
	"fmt"
)

// idRange is an inclusive range of uids or gids.
func checkUsers(c *checker) error {
	u := c.spec.Process.User
	pol := c.policy.Users
	check := func(kind string, id uint32, allow, deny IDSpans) error {
		if deny.Contains(id) {
			return c.refuse(fmt.Sprintf("process %s %d is denied", kind, id), "users.deny_"+kind+"s")
		}
		if len(allow) > 0 && !allow.Contains(id) {
			return c.refuse(fmt.Sprintf("process %s %d is not in the allowed ranges", kind, id), "users.allow_"+kind+"s")
		}
		return nil
	}
	if err := check("uid", u.UID, pol.AllowUIDs, pol.DenyUIDs); err != nil {
		return err
	}
	gids := append([]uint32{u.GID}, u.AdditionalGids...)
	for _, g := range gids {
		if err := check("gid", g, pol.AllowGIDs, pol.DenyGIDs); err != nil {
			return err
		}
	}
	c.kept(fmt.Sprintf("uid %d gid %d", u.UID, u.GID))
	return nil
}

// verifyUsers: the process's uid and gids are in the allowed ranges and not denied.
func verifyUsers(v *verifier) error {
	pol := v.policy.Users
	u := v.spec.Process.User
	ok := func(id uint32, allow, deny IDSpans) bool {
		for _, r := range deny {
			if id >= r.First && id <= r.Last {
				return false
			}
		}
		for _, r := range allow {
			if id >= r.First && id <= r.Last {
				return true
			}
		}
		return len(allow) == 0
	}
	if !ok(u.UID, pol.AllowUIDs, pol.DenyUIDs) {
		return fmt.Errorf("uid %d", u.UID)
	}
	for _, g := range append([]uint32{u.GID}, u.AdditionalGids...) {
		if !ok(g, pol.AllowGIDs, pol.DenyGIDs) {
			return fmt.Errorf("gid %d", g)
		}
	}
	return nil
}
