package hardening

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func allowedNames(s *specs.LinuxSeccomp) []string {
	var out []string
	for _, sc := range s.Syscalls {
		if allowsLike(sc.Action) {
			out = append(out, sc.Names...)
		}
	}
	return out
}

func TestCheckSeccomp(t *testing.T) {
	docker := loadFixture(t, "docker-default").Linux.Seccomp
	allowPtrace := DefaultPolicy()
	allowPtrace.Seccomp.AllowFloor = []string{"ptrace"}
	unconfined := DefaultPolicy()
	unconfined.Seccomp.AllowUnconfined = true
	compat := DefaultPolicy()
	compat.Seccomp.CompatArchitectures = true
	for _, tc := range []struct {
		name    string
		in      *specs.LinuxSeccomp
		policy  *Policy
		want    Outcome
		denied  []string // must not be allowed afterwards
		allowed []string // must still be allowed
	}{
		{"no profile gets the built-in", nil, DefaultPolicy(), Tightened, floorNames(), []string{"read", "execve", "landlock_restrict_self", "clone"}},
		{"docker default minus the floor", docker, DefaultPolicy(), Tightened,
			[]string{"io_uring_setup", "ptrace", "process_vm_readv", "name_to_handle_at", "adjtimex", "clock_adjtime"},
			[]string{"read", "personality", "clone", "landlock_add_rule"}},
		{"allow by default refused", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, DefaultPolicy(), Refused, nil, nil},
		{"log by default refused", &specs.LinuxSeccomp{DefaultAction: specs.ActLog}, DefaultPolicy(), Refused, nil, nil},
		{"no default action refused", &specs.LinuxSeccomp{}, DefaultPolicy(), Refused, nil, nil},
		// seccomp.allow-by-default relaxed it; seccomp keeps what is left.
		{"allow by default allowed by profile", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, unconfined, Kept, nil, nil},
		{"allow by default allowed by profile, native ABI only", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchX86_64}}, unconfined, Tightened, nil, nil},
		{"unconditional clone and unshare get conditions", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"clone", "unshare", "clone3", "read", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"}, Action: specs.ActAllow}}},
			DefaultPolicy(), Tightened, nil, []string{"read"}},
		{"notify of a floor syscall removed", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mount", "read"}, Action: specs.ActNotify}}}, DefaultPolicy(), Tightened, []string{"mount"}, []string{"read"}},
		{"docker default with compat ABIs admitted", docker, compat, Tightened,
			[]string{"io_uring_setup", "ptrace"}, []string{"read", "socket", "socketcall", "clone"}},
		{"socket for any family gets yoroi's families", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket", "read"}, Action: specs.ActAllow}}}, DefaultPolicy(), Tightened, nil, []string{"socket", "read"}},
		{"socket but not AF_VSOCK is not enough", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}}}}},
			DefaultPolicy(), Tightened, nil, []string{"socket"}},
		{"socket for AF_ALG only: no socket at all", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 38, Op: specs.OpEqualTo}}}}},
			DefaultPolicy(), Tightened, []string{"socket"}, nil},
		{"unconditional socketcall gets yoroi's condition", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"socketcall"}, Action: specs.ActAllow}}}, compat, Tightened, nil, []string{"socketcall"}},
		{"profile allows ptrace", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"ptrace", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"}, Action: specs.ActAllow}}}, allowPtrace, Kept, nil, []string{"ptrace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Seccomp = tc.in
			out, d, err := runTable(t, seccompRules, s, tc.policy, HostFacts{Arch: "amd64"})
			wantOutcome(t, d, err, tc.want, "seccomp.allow_unconfined")
			if tc.want == Refused {
				if r := err.(*Refusal); r.Rule != "seccomp.allow-by-default" {
					t.Errorf("rule %s", r.Rule)
				}
				return
			}
			if archs := out.Linux.Seccomp.Architectures; tc.want != Refused && !tc.policy.Seccomp.CompatArchitectures && len(archs) > 1 {
				t.Errorf("compat architectures kept: %v", archs)
			}
			if tc.policy.Seccomp.AllowUnconfined {
				if d[0].Rule != "seccomp.allow-by-default" || d[0].Outcome != Relaxed {
					t.Errorf("allowed by profile: %+v", d)
				}
				return
			}
			if err := verifySeccompOf(out.Linux.Seccomp, tc.policy); err != nil {
				t.Fatal(err)
			}
			if archs := out.Linux.Seccomp.Architectures; !tc.policy.Seccomp.CompatArchitectures && len(archs) > 1 {
				t.Errorf("compat architectures kept: %v", archs)
			}
			got := allowedNames(out.Linux.Seccomp)
			for _, n := range tc.denied {
				if slices.Contains(got, n) {
					t.Errorf("%s still allowed", n)
				}
			}
			for _, n := range tc.allowed {
				if !slices.Contains(got, n) {
					t.Errorf("%s no longer allowed", n)
				}
			}
		})
	}
}

func TestBuiltinSeccomp(t *testing.T) {
	s := BuiltinSeccomp("amd64", false)
	if s.DefaultAction != specs.ActErrno || *s.DefaultErrnoRet != 1 || !slices.Equal(s.Architectures, []specs.Arch{specs.ArchX86_64}) {
		t.Fatalf("profile %+v", s)
	}
	if a := BuiltinSeccomp("amd64", true).Architectures; !slices.Equal(a, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
		t.Errorf("amd64 compat architectures %v", a)
	}
	if a := BuiltinSeccomp("arm64", true).Architectures; !slices.Equal(a, []specs.Arch{specs.ArchAARCH64, specs.ArchARM}) {
		t.Errorf("arm64 architectures %v", a)
	}
	allowed := allowedNames(s)
	for _, n := range floorNames() {
		if slices.Contains(allowed, n) {
			t.Errorf("built-in profile allows floor syscall %s", n)
		}
	}
	// Every group has a reason, and no syscall is both allowed and in the floor.
	for _, g := range append(append([]syscallGroup{}, builtinAllow...), denyFloor...) {
		if strings.TrimSpace(g.reason) == "" || len(g.names) == 0 {
			t.Errorf("group without a reason or names: %+v", g)
		}
	}
	if err := verifySeccompOf(s, DefaultPolicy()); err != nil {
		t.Error(err)
	}
	// Every socket rule pins an allowed family; socketcall is never allowed for SYS_SOCKET.
	for _, sc := range s.Syscalls {
		for _, n := range sc.Names {
			if (n == "socket" || n == "socketcall") && !conditionSafe(n, sc.Args) {
				t.Errorf("%s allowed with %+v", n, sc.Args)
			}
		}
	}
	for _, f := range append(append([]socketFamily{}, allowedSocketFamilies...), allowedNetlinkProtocols...) {
		if strings.TrimSpace(f.reason) == "" {
			t.Errorf("socket family %d without a reason", f.value)
		}
	}
}

func TestConditionSafe(t *testing.T) {
	eq := func(i uint, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Value: v, Op: specs.OpEqualTo}
	}
	for _, tc := range []struct {
		name    string
		syscall string
		args    []specs.LinuxSeccompArg
		want    bool
	}{
		{"socket AF_INET", "socket", []specs.LinuxSeccompArg{eq(0, 2)}, true},
		{"socket without condition", "socket", nil, false},
		{"socket not AF_VSOCK", "socket", []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}}, false},
		{"socket AF_ALG", "socket", []specs.LinuxSeccompArg{eq(0, 38)}, false},
		{"socket AF_VSOCK", "socket", []specs.LinuxSeccompArg{eq(0, 40)}, false},
		{"socket AF_PACKET", "socket", []specs.LinuxSeccompArg{eq(0, 17)}, false},
		{"netlink route", "socket", []specs.LinuxSeccompArg{eq(0, 16), eq(2, 0)}, true},
		{"netlink any protocol", "socket", []specs.LinuxSeccompArg{eq(0, 16)}, false},
		{"netlink netfilter", "socket", []specs.LinuxSeccompArg{eq(0, 16), eq(2, 12)}, false},
		{"socketcall above SYS_SOCKET", "socketcall", []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpGreaterThan}}, true},
		{"socketcall SYS_CONNECT", "socketcall", []specs.LinuxSeccompArg{eq(0, 3)}, true},
		{"socketcall SYS_SOCKET", "socketcall", []specs.LinuxSeccompArg{eq(0, 1)}, false},
		{"socketcall unconditional", "socketcall", nil, false},
		{"socketcall not SYS_SOCKET", "socketcall", []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpNotEqual}}, false},
	} {
		if got := conditionSafe(tc.syscall, tc.args); got != tc.want {
			t.Errorf("%s: conditionSafe = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A caller's conditional rule yoroi must narrow keeps the caller's conditions beside
// yoroi's: runc's -ENOSYS test allows socket only for protocols with no bit in 0xF00, and
// must still get EPERM for the others; a condition that contradicts yoroi's allows nothing.
// seccomp.allow_unset leaves a spec without a profile unfiltered; a profile the spec
// brings is still checked.
func TestCheckSeccompAllowUnset(t *testing.T) {
	p := DefaultPolicy()
	p.Seccomp.AllowUnset = true
	out, d, err := runRule(t, checkSeccomp, minimalSpec(), p, HostFacts{Arch: "amd64"})
	wantOutcome(t, d, err, Relaxed, "")
	if out.Linux.Seccomp != nil {
		t.Errorf("a filter was set: %+v", out.Linux.Seccomp.DefaultAction)
	}
	s := minimalSpec()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	_, d, err = runTable(t, seccompRules, s, p, HostFacts{Arch: "amd64"})
	wantOutcome(t, d, err, Refused, "seccomp.allow_unconfined")
}

func TestCheckSeccompKeepsCallerConditions(t *testing.T) {
	proto := specs.LinuxSeccompArg{Index: 2, Value: 0xF00, ValueTwo: 0, Op: specs.OpMaskedEqual}
	s := minimalSpec()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{proto}},
		{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpNotEqual}}},
		{Names: []string{"read"}, Action: specs.ActAllow},
	}}
	out, d, err := runRule(t, checkSeccomp, s, DefaultPolicy(), HostFacts{Arch: "amd64"})
	wantOutcome(t, d, err, Tightened, "")
	var sockets, personalities int
	for _, r := range out.Linux.Seccomp.Syscalls {
		switch r.Names[0] {
		case "socket":
			sockets++
			// The protocol condition, or a protocol pinned to a value that meets it.
			p := pinned(r.Args, 2)
			if pinned(r.Args, 0) == nil || !slices.Contains(r.Args, proto) && (p == nil || *p&0xF00 != 0) {
				t.Errorf("socket rule without both conditions: %+v", r.Args)
			}
		case "personality":
			personalities++
			if v := pinned(r.Args, 0); v == nil || *v == 0xffffffff {
				t.Errorf("personality rule %+v", r.Args)
			}
		}
	}
	if sockets != len(allowedSocketFamilies)+len(allowedNetlinkProtocols) || personalities == 0 {
		t.Errorf("%d socket rules, %d personality rules", sockets, personalities)
	}
	if err := verifySeccompOf(out.Linux.Seccomp, DefaultPolicy()); err != nil {
		t.Error(err)
	}
}

// seccomp.syscalls: a spec without a profile gets exactly the list (conditional syscalls
// under yoroi's conditions); a caller's profile keeps only the listed of what it allows.
// Both pass Verify, which refuses an unlisted allowed syscall.
func TestCheckSeccompSyscallList(t *testing.T) {
	p := DefaultPolicy()
	p.Seccomp.Syscalls = []string{"read", "openat", "clone", "socket"}
	facts := HostFacts{Arch: "amd64"}
	out, d, err := runRule(t, checkSeccomp, minimalSpec(), p, facts)
	wantOutcome(t, d, err, Tightened, "")
	allowed := func(s *specs.LinuxSeccomp) []string {
		names := allowedNames(s)
		slices.Sort(names)
		return slices.Compact(names)
	}
	if got := allowed(out.Linux.Seccomp); !slices.Equal(got, []string{"clone", "openat", "read", "socket", "write"}) {
		t.Errorf("allowed %v", got)
	}
	if err := verifySeccompOf(out.Linux.Seccomp, p); err != nil {
		t.Error(err)
	}
	for _, sc := range out.Linux.Seccomp.Syscalls {
		for _, n := range sc.Names {
			if allowsLike(sc.Action) && !conditionSafe(n, sc.Args) {
				t.Errorf("%s allowed without yoroi's conditions", n)
			}
		}
	}

	s := minimalSpec()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "mkdir", "openat"}, Action: specs.ActAllow}}}
	out, d, err = runRule(t, checkSeccomp, s, p, facts)
	wantOutcome(t, d, err, Tightened, "")
	if got := allowed(out.Linux.Seccomp); !slices.Equal(got, []string{"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "openat", "read", "write"}) {
		t.Errorf("caller's profile cut to %v", got)
	}
	if err := verifySeccompOf(out.Linux.Seccomp, p); err != nil {
		t.Error(err)
	}
	if err := verifySeccompOf(s.Linux.Seccomp, p); err == nil || !strings.Contains(err.Error(), "mkdir") {
		t.Errorf("verify of an unlisted syscall: %v", err)
	}
}

// verifySeccompOf checks a profile against the postconditions of both seccomp rules.
func verifySeccompOf(s *specs.LinuxSeccomp, p *Policy) error {
	spec := &specs.Spec{Process: &specs.Process{}, Root: &specs.Root{}, Linux: &specs.Linux{Seccomp: s}}
	v := &verifier{spec: spec, plan: &Plan{Spec: spec}, policy: p, facts: HostFacts{Arch: "amd64"}}
	if err := verifyAllowByDefault(v); err != nil {
		return err
	}
	return verifySeccomp(v)
}

// seccompRules are the rules that judge seccomp profiles, in table order.
var seccompRules = []string{"seccomp.allow-by-default", "seccomp"}
