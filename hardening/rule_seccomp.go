package hardening

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// allowsLike reports whether an action lets the syscall run (or lets something other
// than the kernel decide).
func allowsLike(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActAllow, specs.ActLog, specs.ActNotify, specs.ActTrace:
		return true
	}
	return false
}

// checkSeccomp: a spec without seccomp gets the built-in profile (or seccomp.syscalls'
// list); a deny-by-default caller profile is kept minus the deny floor, with landlock_*
// allowed; compat ABIs leave every profile unless admitted. (An allow-by-default one is
// seccomp.allow-by-default's to refuse.)
func checkSeccomp(c *checker) error {
	pol := c.policy.Seccomp
	s := c.spec.Linux.Seccomp
	switch {
	case s == nil && pol.AllowUnset:
		c.relaxed(fmt.Sprintf("no seccomp filter: the spec names no profile (profile %s, seccomp.allow_unset)", c.policy.Name))
		return nil
	case s == nil && len(pol.Syscalls) > 0:
		c.spec.Linux.Seccomp = ListedSeccomp(c.facts.Arch, pol.Syscalls, pol.CompatArchitectures, pol.AllowFloor)
		c.tightened(fmt.Sprintf("no profile in the spec: profile %s's list of %d syscalls (seccomp.syscalls)", c.policy.Name, len(pol.Syscalls)), "unconfined", "listed (default errno EPERM)")
		return nil
	case s == nil:
		c.spec.Linux.Seccomp = BuiltinSeccomp(c.facts.Arch, pol.CompatArchitectures)
		c.tightened("no profile in the spec: yoroi's built-in default-deny profile", "unconfined", "built-in (default errno EPERM)")
		return nil
	}
	removed := removeCompatArchitectures(s, c.facts.Arch, pol)
	if !deniesByDefault(s.DefaultAction) {
		// Allowed by seccomp.allow-by-default (which refuses it otherwise).
		if len(removed) > 0 {
			c.tightened("compat architectures removed from the allow-by-default profile", strings.Join(removed, ", "), "native only")
		} else {
			c.kept("allow-by-default profile (seccomp.allow-by-default)")
		}
		return nil
	}
	removed = append(removed, narrowCallersRules(s, pol)...)
	if len(removed) == 0 {
		c.kept("caller's deny-by-default profile, nothing of the deny floor allowed")
		return nil
	}
	slices.Sort(removed)
	c.tightened("caller's profile kept minus yoroi's deny floor", strings.Join(slices.Compact(removed), ","), "denied")
	return nil
}

// removeCompatArchitectures takes the compat ABIs out of s unless the policy admits
// them, and says what it removed.
func removeCompatArchitectures(s *specs.LinuxSeccomp, arch string, pol SeccompPolicy) []string {
	if pol.CompatArchitectures {
		return nil
	}
	var removed []string
	_, compat := nativeArch(arch)
	for _, a := range s.Architectures {
		if slices.Contains(compat, a) {
			removed = append(removed, "architecture "+string(a))
		}
	}
	s.Architectures = slices.DeleteFunc(s.Architectures, func(a specs.Arch) bool { return slices.Contains(compat, a) })
	return removed
}

// narrowCallersRules keeps a deny-by-default caller profile's rules minus the deny floor;
// what yoroi allows only under conditions comes back with them; under seccomp.syscalls
// only the listed syscalls stay; landlock_* are allowed for the launcher. It says what
// it removed or added.
func narrowCallersRules(s *specs.LinuxSeccomp, pol SeccompPolicy) []string {
	floor := slices.DeleteFunc(floorNames(), func(n string) bool { return slices.Contains(pol.AllowFloor, n) })
	// conditional are the caller's rules removed for want of yoroi's conditions.
	var conditional, kept []specs.LinuxSyscall
	var removed []string
	for _, sc := range s.Syscalls {
		if !allowsLike(sc.Action) {
			kept = append(kept, sc)
			continue
		}
		var names []string
		for _, n := range sc.Names {
			if slices.Contains(floor, n) || !conditionSafe(n, sc.Args) {
				removed = append(removed, n)
				if !slices.Contains(floor, n) {
					conditional = append(conditional, specs.LinuxSyscall{Names: []string{n}, Action: sc.Action, Args: sc.Args})
				}
				continue
			}
			names = append(names, n)
		}
		if len(names) > 0 {
			sc.Names = names
			kept = append(kept, sc)
		}
	}
	// What was removed conditionally comes back with yoroi's conditions and the caller's
	// own (both must hold: a caller's socket rule on the protocol keeps it), except where
	// the caller's profile has its own action for the same conditions (Podman's returns
	// EINVAL for NETLINK_AUDIT sockets): libseccomp refuses two actions for one case, and
	// the caller's is the stricter.
	for _, cr := range conditionalRules() {
		for _, r := range conditional {
			if r.Names[0] != cr.Names[0] {
				continue
			}
			if both, ok := bothConditions(cr, r); ok && !sameCaseIn(kept, both) {
				kept = append(kept, both)
			}
		}
	}
	if len(pol.Syscalls) > 0 {
		var unlisted []string
		kept, unlisted = cutToList(kept, pol.Syscalls)
		for _, n := range slices.Compact(slices.Sorted(slices.Values(unlisted))) {
			removed = append(removed, n+" (not in seccomp.syscalls)")
		}
	}
	if !allowsAny(kept, "landlock_restrict_self") {
		kept = append(kept, specs.LinuxSyscall{Names: []string{"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"}, Action: specs.ActAllow})
		removed = append(removed, "(landlock_* added)")
	}
	s.Syscalls = kept
	return removed
}

// conditionSafe: clone and unshare may only be allowed with a condition excluding
// CLONE_NEWUSER; clone3 never (its flags are out of seccomp's reach); socket only for an
// allowed family (and netlink protocol) pinned by equality; socketcall only for calls
// above SYS_SOCKET; personality only for harmless values.
func conditionSafe(name string, args []specs.LinuxSeccompArg) bool {
	switch name {
	case "socket":
		return socketArgsSafe(args)
	case "socketcall":
		for _, a := range args {
			if a.Index == 0 && (a.Op == specs.OpGreaterThan && a.Value >= sysSocket || a.Op == specs.OpEqualTo && a.Value > sysSocket) {
				return true
			}
		}
		return false
	case "clone", "unshare":
		for _, a := range args {
			if a.Op == specs.OpMaskedEqual && a.Value&cloneNewUser != 0 && a.ValueTwo&cloneNewUser == 0 {
				return true
			}
		}
		return false
	case "clone3":
		return false
	case "personality":
		for _, a := range args {
			if a.Index == 0 && a.Op == specs.OpEqualTo && slices.Contains(harmlessPersonalities, a.Value) {
				return true
			}
		}
		return false
	}
	return true
}

func allowsAny(rules []specs.LinuxSyscall, name string) bool {
	return slices.ContainsFunc(rules, func(sc specs.LinuxSyscall) bool {
		return sc.Action == specs.ActAllow && len(sc.Args) == 0 && slices.Contains(sc.Names, name)
	})
}

// socketArgsSafe: the conditions pin socket's family to an allowed one by equality, and an
// AF_NETLINK family's protocol to an allowed one.
func socketArgsSafe(args []specs.LinuxSeccompArg) bool {
	family, protocol := pinned(args, 0), pinned(args, 2)
	if family == nil {
		return false
	}
	if *family == afNetlink {
		return protocol != nil && slices.ContainsFunc(allowedNetlinkProtocols, func(p socketFamily) bool { return p.value == *protocol })
	}
	return slices.ContainsFunc(allowedSocketFamilies, func(f socketFamily) bool { return f.value == *family })
}

// pinned returns the value argument index is compared equal to, if a condition does.
func pinned(args []specs.LinuxSeccompArg, index uint) *uint64 {
	for _, a := range args {
		if a.Index == index && a.Op == specs.OpEqualTo {
			return &a.Value
		}
	}
	return nil
}

// bothConditions is yoroi's rule cr narrowed by the caller's rule r for the same
// syscall: cr's conditions and r's, r's action where cr allows. A condition of r on an
// argument cr pins (by equality) must hold for the pinned value, or nothing is allowed
// (false); one on an argument cr constrains otherwise cannot be expressed beside it in one
// rule, and nothing is allowed either (stricter than both).
func bothConditions(cr, r specs.LinuxSyscall) (specs.LinuxSyscall, bool) {
	if !allowsLike(cr.Action) || len(r.Args) == 0 {
		return cr, true
	}
	out := cr
	out.Action = r.Action
	out.Args = slices.Clone(cr.Args)
	for _, a := range r.Args {
		i := slices.IndexFunc(cr.Args, func(c specs.LinuxSeccompArg) bool { return c.Index == a.Index })
		if i < 0 {
			out.Args = append(out.Args, a)
			continue
		}
		if c := cr.Args[i]; c.Op != specs.OpEqualTo || !holds(c.Value, a) {
			return specs.LinuxSyscall{}, false
		}
	}
	return out, true
}

// holds evaluates condition a for argument value v.
func holds(v uint64, a specs.LinuxSeccompArg) bool {
	switch a.Op {
	case specs.OpEqualTo:
		return v == a.Value
	case specs.OpNotEqual:
		return v != a.Value
	case specs.OpLessThan:
		return v < a.Value
	case specs.OpLessEqual:
		return v <= a.Value
	case specs.OpGreaterThan:
		return v > a.Value
	case specs.OpGreaterEqual:
		return v >= a.Value
	case specs.OpMaskedEqual:
		return v&a.Value == a.ValueTwo
	}
	return false
}

// sameCaseIn reports whether rules has a rule for r's syscall under exactly r's
// conditions, whatever its action.
func sameCaseIn(rules []specs.LinuxSyscall, r specs.LinuxSyscall) bool {
	return slices.ContainsFunc(rules, func(k specs.LinuxSyscall) bool {
		return slices.Contains(k.Names, r.Names[0]) && slices.Equal(k.Args, r.Args)
	})
}

// verifySeccomp: a filter is installed (none only by seccomp.allow_unset); it admits no
// compat ABI unless seccomp.compat_architectures; it allows nothing of the deny floor
// beyond seccomp.allow_floor, nothing conditional without yoroi's conditions, and, under
// seccomp.syscalls, nothing that list does not name.
func verifySeccomp(v *verifier) error {
	s := v.spec.Linux.Seccomp
	pol := v.policy.Seccomp
	if s == nil {
		if pol.AllowUnset {
			return nil
		}
		return fmt.Errorf("no seccomp profile")
	}
	if !deniesByDefault(s.DefaultAction) {
		return nil // seccomp.allow-by-default's
	}
	if !pol.CompatArchitectures {
		_, compat := nativeArch(v.facts.Arch)
		for _, a := range s.Architectures {
			if slices.Contains(compat, a) {
				return fmt.Errorf("the profile admits the compat architecture %s", a)
			}
		}
	}
	floor := floorNames()
	for _, sc := range s.Syscalls {
		if !allowsLike(sc.Action) {
			continue
		}
		for _, n := range sc.Names {
			if slices.Contains(floor, n) && !slices.Contains(pol.AllowFloor, n) {
				return fmt.Errorf("the profile allows %s", n)
			}
			if !conditionSafe(n, sc.Args) {
				return fmt.Errorf("the profile allows %s without yoroi's conditions", n)
			}
			if len(pol.Syscalls) > 0 && !slices.Contains(pol.Syscalls, n) && !slices.Contains(listedAlways, n) {
				return fmt.Errorf("the profile allows %s, which seccomp.syscalls does not list", n)
			}
		}
	}
	return nil
}
