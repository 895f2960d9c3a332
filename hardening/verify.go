package hardening

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// verifier checks the postconditions of the rules on the spec that will run. Each rule's
// verify lives in the rule's file, written from what the rule promises rather than from
// its apply logic, so that the fuzz target (every spec Apply accepts must verify) can
// catch a bug in either.
type verifier struct {
	spec   *specs.Spec
	plan   *Plan
	policy *Policy
	facts  HostFacts
	// exec: a process exec'd into an existing container.
	exec bool
}

// Verify checks that a plan's spec satisfies policy: it is the postcondition of Apply
// and of the runtime's own changes to the plan (Stage), made before it. The runtime
// calls it on the spec it hands to libcontainer.
func Verify(plan *Plan, p *Policy, facts HostFacts) error {
	if plan == nil || plan.Spec == nil {
		return errors.New("verify: no plan")
	}
	s := plan.Spec
	if s.Process == nil || s.Root == nil || s.Linux == nil {
		return errors.New("verify: incomplete spec")
	}
	return verifyScope(&verifier{spec: s, plan: plan, policy: p, facts: facts}, ContainerScope)
}

// VerifyProcess checks a process ApplyProcess hardened for exec: the postconditions of
// the rules whose scope is the process.
func VerifyProcess(proc *specs.Process, p *Policy, facts HostFacts) error {
	if proc == nil {
		return errors.New("verify: no process")
	}
	s := &specs.Spec{Process: proc, Root: &specs.Root{}, Linux: &specs.Linux{}}
	return verifyScope(&verifier{spec: s, plan: &Plan{Spec: s}, policy: p, facts: facts, exec: true}, ProcessScope)
}

func verifyScope(v *verifier, scope Scope) error {
	for _, r := range rules {
		if r.verify == nil || scope == ProcessScope && r.scope != ProcessScope {
			continue
		}
		if err := r.verify(v); err != nil {
			return fmt.Errorf("verify %s: %w", r.name, err)
		}
	}
	return nil
}

// hostPath is where a bind source is on the host: a source the runtime rebased into the
// staged root filesystem (Plan.Stage) is judged as the path it was given.
func (v *verifier) hostPath(source string) string {
	st := v.plan.Staged
	if st == nil {
		return source
	}
	if orig, ok := st.Volumes[source]; ok {
		return orig
	}
	if st.Root != "" && strings.HasPrefix(source, st.Root+"/") {
		return st.Original + strings.TrimPrefix(source, st.Root)
	}
	return source
}

// stagedVolume: the runtime id-mapped this mount's source itself (Plan.StageVolume).
func (v *verifier) stagedVolume(m specs.Mount) bool {
	_, ok := v.plan.Staged.volumes()[m.Source]
	return ok
}

// own reports whether m is one of the runtime's own mounts (Plan.Stage).
func (v *verifier) own(m specs.Mount) bool {
	return v.plan.Staged != nil && slices.ContainsFunc(v.plan.Staged.Mounts, func(o specs.Mount) bool {
		return o.Destination == m.Destination && o.Source == m.Source
	})
}

// binds are the spec's bind mounts of host paths, yoroi's own excepted.
func (v *verifier) binds() []specs.Mount {
	var out []specs.Mount
	for _, m := range v.spec.Mounts {
		if IsBind(m) && !v.own(m) {
			out = append(out, m)
		}
	}
	return out
}

// exposesHost is the postcondition of the source rules, stated on its own: a host path
// given to the container (as written or resolved) must not be a denied path, contain
// one, or lie under a denied subtree, unless mounts.allow_sources names it.
func (v *verifier) exposesHost(paths ...string) string {
	pol := v.policy.Mounts
	for _, p := range paths {
		if p == "" {
			continue
		}
		p = path.Clean(p)
		if slices.Contains(pol.AllowSources, p) {
			continue
		}
		if p == "/" {
			return p
		}
		for _, d := range pol.DenySources {
			if p == d || strings.HasPrefix(d, p+"/") {
				return p
			}
		}
		for _, d := range pol.DenySubtrees {
			if p == d || strings.HasPrefix(p, d+"/") {
				return p
			}
		}
	}
	return ""
}

func hasOption(m specs.Mount, o string) bool { return slices.Contains(m.Options, o) }

// hasFlag: the mount option is set and its opposite is not.
func hasFlag(m specs.Mount, set, opposite string) bool {
	return hasOption(m, set) && !hasOption(m, opposite)
}
