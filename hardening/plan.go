package hardening

import (
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Staged outcome: a change the runtime made to the plan's spec for what it set up on the
// host (the id-mapped root, its own mounts), before the final Verify.
const Staged Outcome = "staged"

// Staging is what the runtime changed in a plan's spec after Apply, so that Verify judges
// the spec that runs, and `policy explain` and the audit log show it.
type Staging struct {
	// Original is root.path as Apply left it; Root is the path the runtime put in its
	// place (the id-mapped or recording root), "" if it kept it.
	Original, Root string
	// Volumes maps each volume source the runtime staged to the source it is a view of.
	Volumes map[string]string
	// Mounts are the runtime's own mounts (their sources are yoroi's state, which no
	// workload may ask for).
	Mounts []specs.Mount
}

func (p *Plan) staging() *Staging {
	if p.Staged == nil {
		p.Staged = &Staging{}
	}
	return p.Staged
}

func (p *Plan) staged(rule, detail, before, after string) {
	p.Decisions = append(p.Decisions, Decision{Rule: rule, Outcome: Staged, Detail: detail, Before: before, After: after})
}

// StageRoot makes root the container's root filesystem in place of from, the one Apply
// judged (root.path made absolute), of which it is a view (id-mapped, or the recording
// overlay), and rebases the bind sources beneath from: such a source names what the
// container's earlier mounts put there (runc's mount-order test binds parts of its own
// mount tree), which exists beneath the root libcontainer mounts into.
func (p *Plan) StageRoot(rule, from, root, why string) {
	s := p.Spec
	st := p.staging()
	from = path.Clean(from)
	if st.Original == "" {
		st.Original = from
	}
	for i := range s.Mounts {
		if m := &s.Mounts[i]; IsBind(*m) && strings.HasPrefix(m.Source, from+"/") {
			m.Source = root + strings.TrimPrefix(m.Source, from)
		}
	}
	s.Root.Path = root
	st.Root = root
	p.staged(rule, why, from, root)
}

// StageVolume points the i-th mount at source, a view of its own source that the runtime
// id-mapped already (an overlay volume rebuilt from id-mapped layers).
func (p *Plan) StageVolume(rule string, i int, source, why string) {
	m := &p.Spec.Mounts[i]
	st := p.staging()
	if st.Volumes == nil {
		st.Volumes = map[string]string{}
	}
	st.Volumes[source] = m.Source
	p.staged(rule, why, m.Source, source)
	m.Source = source
	m.UIDMappings, m.GIDMappings = nil, nil
	m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "idmap" || o == "ridmap" })
}

// AddMount adds one of the runtime's own mounts, with the environment that tells the
// workload of it.
func (p *Plan) AddMount(rule string, m specs.Mount, env []string, why string) {
	p.Spec.Mounts = append(p.Spec.Mounts, m)
	p.Spec.Process.Env = append(p.Spec.Process.Env, env...)
	p.staging().Mounts = append(p.staging().Mounts, m)
	p.staged(rule, why, "", m.Source+" at "+m.Destination)
}

// UseSeccomp replaces the seccomp profile (profile record's, which notifies instead of
// allowing); Verify holds it to the same postconditions.
func (p *Plan) UseSeccomp(rule string, s *specs.LinuxSeccomp, why string) {
	p.Spec.Linux.Seccomp = s
	p.staged(rule, why, "", "")
}

func (s *Staging) volumes() map[string]string {
	if s == nil {
		return nil
	}
	return s.Volumes
}
