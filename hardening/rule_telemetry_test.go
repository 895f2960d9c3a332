package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckTelemetry(t *testing.T) {
	landlock := HostFacts{MAC: MACFacts{LandlockABI: 7}}
	wrapped := func() *specs.Spec {
		s := minimalSpec()
		s.Process.Args = WrapLandlock([]string{"sh"}, LandlockSettings{MinABI: 1})
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
		return s
	}
	off := DefaultPolicy()
	off.Telemetry = TelemetryPolicy{}
	complain := DefaultPolicy()
	complain.Seccomp.Complain = true
	complain.Seccomp.AllowFloor = []string{"ptrace"}
	execOnly := DefaultPolicy()
	execOnly.Telemetry.SeccompDenials = false
	for _, tc := range []struct {
		name    string
		spec    func() *specs.Spec
		policy  *Policy
		req     Request
		want    Outcome
		monitor *MonitorPlan
	}{
		{"default: denials and execs", wrapped, DefaultPolicy(), Request{Audit: true}, Tightened, &MonitorPlan{Denials: true, Exec: true}},
		{"exec only", wrapped, execOnly, Request{Audit: true}, Tightened, &MonitorPlan{Exec: true}},
		{"off", wrapped, off, Request{Audit: true}, Kept, nil},
		{"no audit log", wrapped, DefaultPolicy(), Request{}, Kept, nil},
		{"profile record", wrapped, DefaultPolicy(), Request{Audit: true, Record: true}, Kept, nil},
		{"no filter", func() *specs.Spec { s := wrapped(); s.Linux.Seccomp = nil; return s }, DefaultPolicy(), Request{Audit: true}, Kept, nil},
		{"libcontainer's filter", func() *specs.Spec { s := wrapped(); s.Process.Args = []string{"sh"}; return s }, DefaultPolicy(), Request{Audit: true}, Kept, nil},
		{"startContainer hooks", func() *specs.Spec {
			s := wrapped()
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
			return s
		}, DefaultPolicy(), Request{Audit: true}, Kept, nil},
		{"an SELinux label", func() *specs.Spec {
			s := wrapped()
			s.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
			return s
		}, DefaultPolicy(), Request{Audit: true}, Kept, nil},
		{"the spec's own agent", func() *specs.Spec {
			s := wrapped()
			s.Linux.Seccomp.ListenerPath = "/run/agent.sock"
			return s
		}, DefaultPolicy(), Request{Audit: true}, Kept, nil},
		{"complain is a relaxation", wrapped, complain, Request{Audit: true}, Tightened, &MonitorPlan{Denials: true, Exec: true, Complain: true}},
		{"complain without a monitor enforces", func() *specs.Spec { s := wrapped(); s.Process.Args = []string{"sh"}; return s }, complain, Request{Audit: true}, Kept, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, plan, err := runRulePlan(t, checkTelemetry, tc.spec(), tc.policy, landlock, "", tc.req)
			wantOutcome(t, plan.Decisions, err, tc.want, "")
			got := plan.Monitor
			if (got == nil) != (tc.monitor == nil) {
				t.Fatalf("monitor %+v, want %+v", got, tc.monitor)
			}
			if got == nil {
				return
			}
			if got.Denials != tc.monitor.Denials || got.Exec != tc.monitor.Exec || got.Complain != tc.monitor.Complain {
				t.Errorf("monitor %+v, want %+v", got, tc.monitor)
			}
			if got.Complain {
				if !slices.ContainsFunc(plan.Decisions, func(d Decision) bool { return d.Outcome == Relaxed }) {
					t.Errorf("complain mode not recorded as a relaxation: %+v", plan.Decisions)
				}
				for _, n := range []string{"kexec_load", "bpf", "clone", "unshare", "socket", "personality"} {
					if !slices.Contains(got.ComplainNever, n) {
						t.Errorf("complain mode would allow %s", n)
					}
				}
				if slices.Contains(got.ComplainNever, "ptrace") {
					t.Errorf("ptrace is in seccomp.allow_floor, yet complain mode denies it")
				}
			}
			if err := verifyTelemetry(&verifier{spec: tc.spec(), plan: plan, policy: tc.policy}); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// The postcondition catches a monitor in complain mode the policy does not set, and one
// without the launcher's filter.
func TestVerifyTelemetry(t *testing.T) {
	s := minimalSpec()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
	s.Process.Args = WrapLandlock([]string{"sh"}, LandlockSettings{MinABI: 1})
	if err := verifyTelemetry(&verifier{spec: s, plan: &Plan{Monitor: &MonitorPlan{Complain: true}}, policy: DefaultPolicy()}); err == nil {
		t.Error("complain mode without seccomp.complain passed")
	}
	s.Process.Args = []string{"sh"}
	if err := verifyTelemetry(&verifier{spec: s, plan: &Plan{Monitor: &MonitorPlan{Denials: true}}, policy: DefaultPolicy()}); err == nil {
		t.Error("a monitor without the launcher passed")
	}
}

// A denial answered ENOSYS (clone3, syscalls newer than the profile) reaches the monitor
// only in complain mode; every other errno whenever denials are audited.
func TestNotifiesErrno(t *testing.T) {
	const eperm, enosys = 1, 38
	for _, tc := range []struct {
		plan         *MonitorPlan
		eperm, nosys bool
	}{
		{nil, false, false},
		{&MonitorPlan{Exec: true}, false, false},
		{&MonitorPlan{Denials: true}, true, false},
		{&MonitorPlan{Denials: true, Exec: true}, true, false},
		{&MonitorPlan{Complain: true}, true, true},
		{&MonitorPlan{Denials: true, Complain: true}, true, true},
	} {
		if got := tc.plan.NotifiesErrno(eperm); got != tc.eperm {
			t.Errorf("%+v: EPERM notified %v, want %v", tc.plan, got, tc.eperm)
		}
		if got := tc.plan.NotifiesErrno(enosys); got != tc.nosys {
			t.Errorf("%+v: ENOSYS notified %v, want %v", tc.plan, got, tc.nosys)
		}
	}
}
