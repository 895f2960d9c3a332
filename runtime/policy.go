package runtime

import (
	"fmt"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// config loads config.toml once per Runtime.
func (r *Runtime) config() (*hardening.Config, error) {
	if r.cfg == nil {
		cfg, err := LoadConfig(r.configPath, r.configExplicit)
		if err != nil {
			return nil, err
		}
		r.cfg = cfg
	}
	return r.cfg, nil
}

// audit returns the audit log, or nil when it is disabled. For commands that clean up
// (start, kill, delete) a broken config must not block the operation: they audit
// best-effort.
func (r *Runtime) audit() *audit.Log {
	cfg, err := r.config()
	if err != nil {
		logrus.Warnf("audit log unavailable: %v", err)
		return nil
	}
	return audit.New(cfg.Audit)
}

// auditBestEffort writes events and only warns on failure.
func (r *Runtime) auditBestEffort(events ...audit.Event) {
	if err := r.audit().Write(events...); err != nil {
		logrus.Warn(err)
	}
}

// policyFor selects the profile a spec's org.yoroi.profile annotation names.
func (r *Runtime) policyFor(annotations map[string]string) (*hardening.Policy, error) {
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	return cfg.Policy(annotations[hardening.ProfileAnnotation])
}

// hardened is a bundle's spec run through the policy: the plan, and what it was judged
// by.
type hardened struct {
	plan   *hardening.Plan
	policy *hardening.Policy
	facts  hardening.HostFacts
}

// spec is the spec that will run (nil after a refusal).
func (h *hardened) spec() *specs.Spec { return h.plan.Spec }

// harden runs the bundle's spec through the policy. With an id, a container that needs a
// private id range (or SELinux categories) gets one reserved, released by rb; without one
// (explain) the pool's first range stands in. A refusal is returned as the
// *hardening.Refusal, with the decisions made up to it in the plan. The plan is verified
// by the caller, once the runtime has staged its own part in it.
func (r *Runtime) harden(b *Bundle, id string, req hardening.Request, rb *rollback) (*hardened, error) {
	h := &hardened{plan: &hardening.Plan{}}
	policy, err := r.policyFor(b.Spec.Annotations)
	if err != nil {
		return h, err
	}
	if req.Record {
		policy = hardening.RecordingPolicy(policy)
	}
	h.policy = policy
	if cfg, err := r.config(); err == nil {
		req.Audit = cfg.Audit.Enabled
	}
	facts := gatherFacts(b.Spec, b.rootfsPath(b.Spec))
	facts.EngineState = r.engineState(b, facts.Rootfs)
	facts.CRIEngine = r.criEngine(id, b.Spec.Annotations)
	if b.Spec.Root != nil {
		facts.Populated = populatedDirs(b.rootfsPath(b.Spec), policy.Rootfs.ScratchCopy)
	}
	if err := r.reserveIDs(id, b.Spec, policy, &facts, rb); err != nil {
		return h, err
	}
	h.facts = facts
	h.plan, err = hardening.Apply(b.Spec, policy, facts, req)
	return h, err
}

// reserveIDs reserves what the container needs of the host's ids: a private id range
// when it needs one, and SELinux categories where SELinux enforces.
func (r *Runtime) reserveIDs(id string, spec *specs.Spec, policy *hardening.Policy, facts *hardening.HostFacts, rb *rollback) error {
	// One entry holds the container's range and categories: released once, and only if
	// this create reserved something (an existing entry is another create's).
	reserved := false
	registerRelease := func() {
		if !reserved {
			reserved = true
			rb.add("id reservations", func() error { return r.hostIDs().release(id) })
		}
	}
	if hardening.NeedsIDRange(spec, policy, *facts) {
		lo, hi := policy.Userns.Pool.First, policy.Userns.Pool.Last
		if id == "" {
			facts.UserNS.Allocated = &hardening.IDRange{Start: lo, Size: policy.Userns.RangeSize}
		} else {
			rng, reclaimed, err := r.hostIDs().allocate(id, lo, hi, policy.Userns.RangeSize)
			if err != nil {
				return err
			}
			for _, stale := range reclaimed {
				if err := r.cleanupStagingDir(stale); err != nil {
					logrus.Warnf("reclaiming %s: %v", stale, err)
				}
			}
			registerRelease()
			facts.UserNS.Allocated = rng
		}
	}
	if facts.MAC.SELinuxEnabled {
		facts.MAC.SELinuxUndefined = undefinedSELinuxTypes(policy.MAC.SELinuxType, spec.Process)
	}
	if facts.MAC.SELinuxEnforcing {
		if id == "" {
			facts.MAC.MCS = "c0,c1"
		} else {
			mcs, err := r.hostIDs().allocateMCS(id)
			if err != nil {
				return err
			}
			registerRelease()
			facts.MAC.MCS = mcs
		}
	}
	return nil
}

// verify checks the plan, with what the runtime staged in it, against the policy.
func (h *hardened) verify() error {
	if err := hardening.Verify(h.plan, h.policy, h.facts); err != nil {
		return fmt.Errorf("internal error: hardened spec fails verification: %w", err)
	}
	return nil
}

// idMappings returns the mappings the container's user namespace will have.
func (h *hardened) idMappings() (uid, gid []specs.LinuxIDMapping) {
	l := h.spec().Linux
	for _, ns := range l.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path != "" {
			// The path of a joined user namespace: the owner of the namespaces the
			// container shares, or the spec's own user namespace path.
			for _, o := range h.facts.UserNS.Owners {
				if o.Path == ns.Path && len(o.UIDMap) > 0 {
					return o.UIDMap, o.GIDMap
				}
			}
		}
	}
	return l.UIDMappings, l.GIDMappings
}

// hostStateDir is yoroi's host-wide state directory ([runtime] state_dir). Cleanup must
// work even with a broken config: it then falls back to the default.
func (r *Runtime) hostStateDir() string {
	if cfg, err := r.config(); err == nil {
		return cfg.Runtime.StateDir
	}
	return hardening.DefaultStateDir
}

// exists reports whether a container's state directory exists.
func (r *Runtime) exists(id string) bool { return containerExists(r.root, id) }

// cleanupContainer releases what yoroi holds for a container besides libcontainer's
// state: its id-mapped mounts and its id range, in whichever host state directory holds
// them.
func (r *Runtime) cleanupContainer(id string) error {
	var err error
	for _, stage := range r.stagingDirs(id) {
		if serr := r.cleanupStagingDir(stage); err == nil {
			err = serr
		}
	}
	if rerr := r.hostIDs().release(id); err == nil {
		err = rerr
	}
	if rerr := r.removeMonitorSocket(id); err == nil {
		err = rerr
	}
	if rerr := r.removeDecisions(id); err == nil {
		err = rerr
	}
	return err
}

// Explanation is what `policy explain` prints: what create would do with a bundle.
type Explanation struct {
	Bundle    string               `json:"bundle"`
	Profile   string               `json:"profile"`
	Decisions []hardening.Decision `json:"decisions"`
	// Refusal is the one-line refusal, empty when the bundle would run.
	Refusal string `json:"refusal,omitempty"`
	// Spec is the hardened spec (nil on refusal).
	Spec *specs.Spec `json:"spec,omitempty"`
}

// ExplainOptions are what policy explain shows a create of.
type ExplainOptions struct {
	Bundle string
	// NoPivot: a create with --no-pivot.
	NoPivot bool
	// ID is the container id create would get: where the runtime stages the root
	// filesystem depends on it ("" : a stand-in).
	ID string
}

// Explain runs the policy over a bundle, as create would, without creating anything.
func (r *Runtime) Explain(o ExplainOptions) (*Explanation, error) {
	b, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	h, err := r.harden(b, "", hardening.Request{NoPivot: o.NoPivot}, &rollback{})
	if err == nil {
		r.stageForExplain(o.ID, b, h)
		err = h.verify()
	}
	e := &Explanation{Bundle: b.Path, Decisions: h.plan.Decisions, Spec: h.spec()}
	if h.policy != nil {
		e.Profile = h.policy.Name
	}
	if err != nil {
		if !hardening.IsRefusal(err) {
			return nil, err
		}
		e.Refusal = err.Error()
		e.Spec = nil
	}
	return e, nil
}

// stageForExplain stages in the plan what create would (without mounting anything): the
// id-mapped root filesystem and overlay volumes, at the paths create would use, so that
// explain verifies and shows the spec that would run.
func (r *Runtime) stageForExplain(id string, b *Bundle, h *hardened) {
	plan := h.plan
	if plan.RootfsIdmap == "" {
		return
	}
	if id == "" {
		id = "ID"
	}
	plan.StageRoot("rootfs.idmap", b.rootfsPath(plan.Spec), r.stagedRoot(id), "the root filesystem, id-mapped ("+string(plan.RootfsIdmap)+"), at create")
	for i, m := range plan.Spec.Mounts {
		if isOverlayVolume(m, h.facts.Sources) {
			_, sub, _ := overlayVolumeSource(m, h.facts.Sources[m.Source])
			plan.StageVolume("rootfs.idmap", i, filepath.Join(r.stagedVolume(id, i), sub), "the overlay volume at "+m.Destination+", rebuilt from id-mapped layers, at create")
		}
	}
}

func userString(u specs.User) string {
	return fmt.Sprintf("%d:%d", u.UID, u.GID)
}

// decisionEvents turns decisions into audit lines.
func decisionEvents(id, bundle, profile string, decisions []hardening.Decision) []audit.Event {
	out := make([]audit.Event, 0, len(decisions))
	for i := range decisions {
		out = append(out, audit.Event{Event: "decision", ID: id, Bundle: bundle, Profile: profile, Decision: &decisions[i]})
	}
	return out
}
