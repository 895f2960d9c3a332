package hardening

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// conditional names are recorded under yoroi's conditions, never unconditionally.
var conditionalNames = []string{"clone", "unshare", "clone3", "socket", "socketcall", "personality"}

// RecordingSeccomp is the profile `yoroi profile record` runs a workload under: every
// syscall libseccomp knows (all) goes to the recording agent on listener, which lets it
// run; the deny floor stays denied and the conditional rules keep their conditions, so
// recording relaxes nothing. write is allowed outright: libcontainer's init writes to its
// parent after installing the filter, before the agent is attached.
func RecordingSeccomp(arch string, all []string, listener string) *specs.LinuxSeccomp {
	floor := floorNames()
	var notify []string
	for _, n := range all {
		if n == "write" || slices.Contains(floor, n) || slices.Contains(conditionalNames, n) {
			continue
		}
		notify = append(notify, n)
	}
	slices.Sort(notify)
	rules := []specs.LinuxSyscall{
		{Names: slices.Compact(notify), Action: specs.ActNotify},
		{Names: []string{"write"}, Action: specs.ActAllow},
	}
	for _, cr := range conditionalRules() {
		if cr.Action == specs.ActAllow {
			cr.Action = specs.ActNotify
		}
		rules = append(rules, cr)
	}
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(uint(eperm)),
		Architectures:   seccompArchitectures(arch, false),
		ListenerPath:    listener,
		Syscalls:        rules,
	}
}

// RecordedProfile is the deny-by-default profile allowing exactly the recorded syscalls
// (plus write), in the OCI format that `docker run --security-opt seccomp=FILE` and
// Kubernetes Localhost profiles read. Recorded conditional syscalls keep yoroi's
// conditions.
func RecordedProfile(arch string, recorded []string) *specs.LinuxSeccomp {
	return ListedSeccomp(arch, recorded, false, nil)
}

// ListedSeccomp is the deny-by-default profile allowing exactly names (plus write), the
// profile of a seccomp.syscalls list: listed conditional syscalls keep yoroi's conditions,
// and deny-floor names are left out unless allowFloor lists them.
func ListedSeccomp(arch string, names []string, compat bool, allowFloor []string) *specs.LinuxSeccomp {
	allow := []string{"write"}
	// clone3 always answers ENOSYS (it did during the recording, without reaching the
	// agent): libc falls back to clone only on ENOSYS, not on EPERM.
	conds := []specs.LinuxSyscall{{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(enosys))}}
	floor := floorNames()
	for _, n := range names {
		if n == "clone3" {
			continue
		}
		if slices.Contains(conditionalNames, n) {
			for _, cr := range conditionalRules() {
				if cr.Names[0] == n {
					conds = append(conds, cr)
				}
			}
			continue
		}
		if !slices.Contains(floor, n) || slices.Contains(allowFloor, n) {
			allow = append(allow, n)
		}
	}
	slices.Sort(allow)
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(uint(eperm)),
		Architectures:   seccompArchitectures(arch, compat),
		Syscalls:        append([]specs.LinuxSyscall{{Names: slices.Compact(allow), Action: specs.ActAllow}}, conds...),
	}
}

// listedAlways are allowed whatever a seccomp.syscalls list says: write (libcontainer's
// init reports to its parent through it after the filter is installed) and, in a
// caller's profile, Landlock's calls, which yoroi adds.
var listedAlways = []string{"write", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"}

// validSyscallList checks a seccomp.syscalls list: syscall names, none of the deny floor
// unless seccomp.allow_floor lists it too.
func validSyscallList(names, allowFloor []string) error {
	floor := floorNames()
	for _, n := range names {
		if n == "" || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return fmt.Errorf("seccomp.syscalls: %q is not a syscall name", n)
		}
		if slices.Contains(floor, n) && !slices.Contains(allowFloor, n) {
			return fmt.Errorf("seccomp.syscalls: %s is in yoroi's deny floor (seccomp.allow_floor must list it too)", n)
		}
	}
	return nil
}

// cutToList keeps, of the rules that let a syscall run, only the names listed (or always
// allowed): a caller's profile under a seccomp.syscalls list. It returns what it removed.
func cutToList(rules []specs.LinuxSyscall, list []string) ([]specs.LinuxSyscall, []string) {
	var kept []specs.LinuxSyscall
	var removed []string
	for _, sc := range rules {
		if !allowsLike(sc.Action) {
			kept = append(kept, sc)
			continue
		}
		var names []string
		for _, n := range sc.Names {
			if slices.Contains(list, n) || slices.Contains(listedAlways, n) {
				names = append(names, n)
			} else {
				removed = append(removed, n)
			}
		}
		if len(names) > 0 {
			sc.Names = names
			kept = append(kept, sc)
		}
	}
	return kept, removed
}
