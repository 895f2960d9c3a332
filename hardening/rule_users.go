package hardening

import (
	"fmt"
	"strconv"
	"strings"
)

// idRange is an inclusive range of uids or gids.
type idRange struct{ lo, hi uint32 }

func parseRanges(list []string) ([]idRange, error) {
	out := make([]idRange, 0, len(list))
	for _, s := range list {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
		l, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid id range %q", s)
		}
		h := l
		if isRange {
			if h, err = strconv.ParseUint(hi, 10, 32); err != nil || h < l {
				return nil, fmt.Errorf("invalid id range %q", s)
			}
		}
		out = append(out, idRange{uint32(l), uint32(h)})
	}
	return out, nil
}

func inRanges(id uint32, rs []idRange) bool {
	for _, r := range rs {
		if id >= r.lo && id <= r.hi {
			return true
		}
	}
	return false
}

// checkUsers applies the optional uid/gid allow and deny lists to the process user.
func checkUsers(c *checker) error {
	u := c.spec.Process.User
	pol := c.policy.Users
	check := func(kind string, id uint32, allow, deny []string) error {
		a, _ := parseRanges(allow)
		d, _ := parseRanges(deny)
		if inRanges(id, d) {
			return c.refuse(fmt.Sprintf("process %s %d is denied", kind, id), "users.deny_"+kind+"s")
		}
		if len(a) > 0 && !inRanges(id, a) {
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
	ok := func(id uint32, allow, deny []string) bool {
		a, errA := parseRanges(allow)
		d, errD := parseRanges(deny)
		return errA == nil && errD == nil && !inRanges(id, d) && (len(a) == 0 || inRanges(id, a))
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
