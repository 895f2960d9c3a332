package hardening

import (
	"errors"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// MonitorPlan is what the container's monitor watches. The seccomp filter notifies the
// monitor (a seccomp user-notification listener, one per container, outside it) of the
// syscalls it would deny and of every execve; the monitor audits each and answers as the
// filter would have (or, in complain mode, lets the call run). Allowed syscalls never
// reach it: they cost what they cost without it.
type MonitorPlan struct {
	// Denials: each denied syscall is audited.
	Denials bool `json:"denials,omitempty"`
	// Complain: what the filter would deny runs, audited, except ComplainNever.
	Complain bool `json:"complain,omitempty"`
	// Exec: every execve (and execveat) is audited with its arguments and result.
	Exec bool `json:"exec,omitempty"`
	// ComplainNever are the syscalls complain mode still denies: the deny floor (less
	// seccomp.allow_floor) and those yoroi allows only under argument conditions.
	ComplainNever []string `json:"complainNever,omitempty"`
}

// Notifies reports whether the filter sends the monitor the syscalls it would deny.
func (m *MonitorPlan) Notifies() bool { return m != nil && (m.Denials || m.Complain) }

// NotifiesErrno reports whether the filter sends the monitor a syscall it would deny with
// errno. A denial answered ENOSYS stays in the kernel unless the filter complains: ENOSYS
// is the filter's "no such call here" (clone3, whose flags seccomp cannot read; syscalls
// newer than the profile), after which libc falls back to the older call, as glibc does
// at every pthread_create. Sent to the monitor, each of those calls cost a round trip and
// an audit event that reports no denial of anything the workload needed.
func (m *MonitorPlan) NotifiesErrno(errno uint32) bool {
	return m != nil && (m.Complain || m.Denials && errno != enosys)
}

// conditionedSyscalls are allowed by yoroi only under argument conditions (see
// conditionSafe): complain mode never lets them run unconditionally.
var conditionedSyscalls = []string{"clone", "clone3", "unshare", "socket", "socketcall", "personality"}

// complainNever is what complain mode keeps denied under policy p.
func complainNever(p *Policy) []string {
	out := slices.DeleteFunc(floorNames(), func(n string) bool { return slices.Contains(p.Seccomp.AllowFloor, n) })
	out = append(out, conditionedSyscalls...)
	slices.Sort(out)
	return slices.Compact(out)
}

// checkTelemetry decides what the container's monitor reports: the syscalls the seccomp
// filter denies (telemetry.seccomp_denials), every execve (telemetry.exec), and whether
// the filter runs in complain mode (seccomp.complain). The monitor needs a filter that
// yoroi's launcher installs (libcontainer's cannot notify for its default action) and an
// audit log; without them the filter enforces as it is and the decision says what is not
// reported.
func checkTelemetry(c *checker) error {
	pol := c.policy
	want := MonitorPlan{Denials: pol.Telemetry.SeccompDenials, Exec: pol.Telemetry.Exec, Complain: pol.Seccomp.Complain}
	if !want.Denials && !want.Exec && !want.Complain {
		c.kept("no telemetry (telemetry.seccomp_denials and telemetry.exec are off)")
		return nil
	}
	if why := noMonitor(c); why != "" {
		if want.Complain {
			c.kept("seccomp.complain not applied, the filter enforces: " + why)
		} else {
			c.kept("denied syscalls and execs not audited: " + why)
		}
		return nil
	}
	if want.Complain {
		want.ComplainNever = complainNever(pol)
		c.relaxed("complain mode (seccomp.complain): a syscall the filter would deny runs and is audited (seccomp-complain), except the deny floor and clone, clone3, unshare, socket, socketcall, personality")
	}
	if want.Denials {
		c.tightened("each syscall the seccomp filter denies is audited (seccomp-denied events) by the container's monitor; those it answers ENOSYS (clone3, syscalls newer than the profile: libc falls back to the older call) are answered by the kernel, unaudited", "", "")
	}
	if want.Exec {
		c.tightened("every execve in the container is audited with its arguments, user and result (execve events)", "", "")
	}
	c.plan.Monitor = &want
	return nil
}

// noMonitor says why the container can have no monitor ("" if it can).
func noMonitor(c *checker) string {
	switch {
	case c.request.Record:
		return "profile record's agent sees every syscall"
	case !c.request.Audit:
		return "the audit log is off ([audit] enabled = false)"
	case c.spec.Linux.Seccomp == nil:
		return "no seccomp filter (seccomp.allow_unset)"
	case !IsLandlockWrapped(c.spec.Process.Args):
		return "the filter is installed by libcontainer, not by yoroi's Landlock launcher (confinement by " + firstInForce(c) + ")"
	case c.spec.Process.SelinuxLabel != "":
		return "the process runs under an SELinux label, whose policy does not let it use the monitor's socket"
	case c.spec.Hooks != nil && len(c.spec.Hooks.StartContainer) > 0:
		return "startContainer hooks run before the launcher, under libcontainer's filter"
	case notifiesItself(c.spec.Linux.Seccomp):
		return "the spec's profile notifies its own seccomp agent"
	}
	return ""
}

func firstInForce(c *checker) string {
	if in := InForce(c.policy, c.facts.MAC); len(in) > 0 {
		return in[0]
	}
	return "none"
}

func notifiesItself(s *specs.LinuxSeccomp) bool {
	if s.DefaultAction == specs.ActNotify || s.ListenerPath != "" {
		return true
	}
	return slices.ContainsFunc(s.Syscalls, func(sc specs.LinuxSyscall) bool { return sc.Action == specs.ActNotify })
}

// verifyTelemetry: complain mode only where the policy sets it, and only with the
// launcher's filter (whose notifications the monitor answers).
func verifyTelemetry(v *verifier) error {
	m := v.plan.Monitor
	if m == nil {
		return nil
	}
	if m.Complain && !v.policy.Seccomp.Complain {
		return errors.New("complain mode without seccomp.complain")
	}
	if v.spec.Linux.Seccomp == nil || !IsLandlockWrapped(v.spec.Process.Args) {
		return errors.New("a monitor without the launcher's seccomp filter")
	}
	return nil
}
