package hardening

import (
	"slices"

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
	names := []string{"write"}
	// clone3 always answers ENOSYS (it did during the recording, without reaching the
	// agent): libc falls back to clone only on ENOSYS, not on EPERM.
	conds := []specs.LinuxSyscall{{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(enosys))}}
	floor := floorNames()
	for _, n := range recorded {
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
		if !slices.Contains(floor, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(uint(eperm)),
		Architectures:   seccompArchitectures(arch, false),
		Syscalls:        append([]specs.LinuxSyscall{{Names: slices.Compact(names), Action: specs.ActAllow}}, conds...),
	}
}
