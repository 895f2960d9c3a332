// Package hardening is yoroi's security policy as pure functions:
//
//	Apply(spec, policy, host facts) → (plan: hardened spec and decisions, refusal)
//	Verify(plan, policy, host facts) → every rule's postcondition holds, or which does not
//
// It never touches the host: the runtime gathers HostFacts once and passes them in, so
// every rule is testable with tables and `yoroi policy explain` shows exactly what
// `create` would do. The rules are one table (rules.go); each lives in its own file
// (rule_*.go: apply and postcondition) with its own test.
package hardening

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Outcome is what a rule did to the spec.
type Outcome string

const (
	// Kept: the spec already satisfied the rule.
	Kept Outcome = "kept"
	// Tightened: the rule changed the spec to satisfy the policy.
	Tightened Outcome = "tightened"
	// Refused: the spec asks for something the policy does not allow.
	Refused Outcome = "refused"
	// Relaxed: the selected profile allowed something the default policy refuses.
	Relaxed Outcome = "relaxed"
)

// Decision records one rule's effect, for `policy explain` and the audit log.
type Decision struct {
	Rule    string  `json:"rule"`
	Outcome Outcome `json:"outcome"`
	// What the decision is about, in a few words.
	Detail string `json:"detail,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Refusal is the error returned when the spec must not run. Its message is the one line
// users see: the rule, what was asked, and the config key that could allow it.
type Refusal struct {
	Rule string
	What string
	// Key is the config.toml key an administrator could set in a profile.
	Key string
}

func (r *Refusal) Error() string {
	if r.Key == "" {
		return fmt.Sprintf("refused by rule %s: %s (no profile can allow it)", r.Rule, r.What)
	}
	return fmt.Sprintf("refused by rule %s: %s (allow it with %s in a profile)", r.Rule, r.What, r.Key)
}

// IsRefusal reports whether err is (or wraps) a policy refusal.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// FileID identifies a file (a namespace) across paths: device and inode.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// HostFacts is everything about the host the policy needs, gathered by the runtime.
type HostFacts struct {
	// HostNamespaces are the namespaces of the host's pid 1, by OCI namespace type.
	HostNamespaces map[specs.LinuxNamespaceType]FileID
	// NamespacePaths are the identities of the namespace paths the spec joins.
	NamespacePaths map[string]FileID
	// RealPaths maps each bind-mount source and hook path of the spec to its fully
	// resolved host path (symlinks and /proc/PID/exe followed).
	RealPaths map[string]string
	// UserNS is what the runtime found about user namespaces for this spec.
	UserNS UserNSFacts
	// Rootfs describes the filesystem of root.path.
	Rootfs RootfsFacts
	// Arch is the host architecture (GOARCH), for the seccomp profile.
	Arch string
	// MAC is what the host's Linux security modules offer.
	MAC MACFacts
	// Sources describes each bind-mount source of the spec (keyed as written) by what it
	// is on the host, so that it is judged by that and not only by its path.
	Sources map[string]SourceFacts
	// Destinations maps each mount destination of the spec to the path it resolves to
	// inside the root filesystem (symlinks of the image followed, as libcontainer follows
	// them when it mounts): /var/run/secrets is /run/secrets in most images.
	Destinations map[string]string
	// EngineState are host paths that belong to the engines running this container,
	// derived from the container itself: no bind source may be one of them or contain one.
	EngineState []EnginePath
	// Populated are the rootfs.scratch_copy paths at which the root filesystem has a
	// directory with entries: their scratch tmpfs starts with a copy of them.
	Populated map[string]bool
	// ImageVolumes are, for an exec, the container's image volumes (the destinations of
	// the overlay volumes the runtime rebuilt at create).
	ImageVolumes []string
	// CRIEngine: the spec's CRI annotations are the engine's, as the runtime checked them
	// (a sandbox whose annotated sandbox id is its own id, or a container whose annotated
	// sandbox is such a sandbox in the same state root): a caller that passes its users'
	// annotations through (Docker's and Podman's --annotation) cannot make one up.
	CRIEngine bool
}

// SourceFacts describe one bind-mount source on the host.
type SourceFacts struct {
	// Type is the file type: "directory", "file", "socket", "fifo", "char", "block"
	// ("" if it could not be inspected).
	Type string `json:"type,omitempty"`
	// ReadOnly: the mount the source lies on is read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Flags are the other flags of that mount a bind keeps unless its options change
	// them (mount(8)'s --bind): "noexec", "nosymfollow", the atime mode ("noatime",
	// "relatime" or "strictatime") and "nodiratime".
	Flags []string `json:"flags,omitempty"`
	// FSType is the filesystem the source lies on ("ext4", "overlay", …).
	FSType string `json:"fsType,omitempty"`
	// OverlayMount: the source is the root of an overlay mount (containerd's image
	// volumes), which cannot be id-mapped itself but can be rebuilt from its layers.
	OverlayMount bool `json:"overlayMount,omitempty"`
	// InOverlayMount is the overlay mount the source is a directory of, when it is not
	// that mount's root (an image volume's subPath): rebuilt as OverlayMount is.
	InOverlayMount string `json:"inOverlayMount,omitempty"`
	// NoIdmap: this kernel cannot id-map the filesystem the source is on (tmpfs before
	// Linux 6.3).
	NoIdmap bool `json:"noIdmap,omitempty"`
	// Sockets are the listening UNIX sockets of the host bound at or beneath the source
	// (the host's socket table), a few at most.
	Sockets []string `json:"sockets,omitempty"`
}

// EnginePath is a host path owned by an engine, and what it is.
type EnginePath struct {
	Path string `json:"path"`
	What string `json:"what"`
}

// MACFacts describe the host's mandatory access control.
type MACFacts struct {
	// LSMs is /sys/kernel/security/lsm ("" entries when securityfs is not mounted).
	LSMs []string
	// AppArmor: enabled, and the names of the loaded profiles.
	AppArmorEnabled  bool
	AppArmorProfiles []string
	// SELinux: enabled at all, and enforcing (permissive does not count).
	SELinuxEnabled   bool
	SELinuxEnforcing bool
	// SELinuxUndefined are the process types yoroi would use (mac.selinux_type, the
	// spec's label) that the loaded policy does not define (Debian's lacks container_t).
	SELinuxUndefined []string
	// LandlockABI is the kernel's Landlock ABI version (0: unavailable).
	LandlockABI int
	// MCS is the unique category pair reserved for this container ("c12,c345").
	MCS string
}

// IDRange is a contiguous range of host ids.
type IDRange struct {
	Start uint32 `json:"start"`
	Size  uint32 `json:"size"`
}

// UserNS describes a user namespace the spec joins or that owns a namespace it joins.
type UserNS struct {
	// Host: it is the host's initial user namespace.
	Host bool
	// Path addresses it for joining ("/proc/PID/ns/user"); "" if it cannot be addressed.
	Path string
	// ID identifies it (device and inode of its nsfs file).
	ID             FileID
	UIDMap, GIDMap []specs.LinuxIDMapping
}

// UserNSFacts are the user-namespace facts of one create.
type UserNSFacts struct {
	// Allocated is the private id range reserved for this container, when the runtime
	// reserved one (see NeedsIDRange).
	Allocated *IDRange
	// Owners maps each namespace path the spec joins to the user namespace owning it;
	// for a user namespace path, to that user namespace itself.
	Owners map[string]UserNS
}

// RootfsFacts describe root.path.
type RootfsFacts struct {
	// RealPath is root.path with every symlink resolved ("" if it could not be).
	RealPath string
	// FSType is the filesystem type name ("ext4", "overlay", …).
	FSType string
	// OverlayMount: root.path is itself an overlay mount (Docker's and containerd's
	// snapshotters), to be rebuilt from id-mapped layers.
	OverlayMount bool
	// Layers are an OverlayMount's layers, topmost first, every symlink resolved: read
	// once, for the engine state bind sources must not expose and for the rebuild.
	Layers []string
	// NoIdmap: this kernel cannot id-map the filesystem (tmpfs before Linux 6.3).
	NoIdmap bool
}

// Request is what the caller asked for beyond the spec: options of the create command
// (runc's flags, which containerd's runtime options and Docker turn into).
type Request struct {
	// NoPivot enters the root filesystem with chroot instead of pivot_root (runc's
	// --no-pivot, containerd's NoPivotRoot, Docker's DOCKER_RAMDISK).
	NoPivot bool
	// Record: the container runs under `yoroi profile record`, on a writable overlay
	// whose writes are recorded, then discarded (see RecordingPolicy).
	Record bool
	// Audit: the audit log is enabled (the monitor's reports have somewhere to go).
	Audit bool
}

// Plan is what Apply decided: the hardened spec, and what the runtime must do for it
// that a spec cannot say. The runtime acts on these typed fields, never on annotations.
type Plan struct {
	// Spec is the hardened spec (nil after a refusal).
	Spec *specs.Spec
	// Decisions are every rule's, in table order; after a refusal they end with it.
	Decisions []Decision
	// UserNS is how the container gets its user namespace.
	UserNS UserNSMode
	// IDRange is the private range the container's user namespace maps (UserNSAllocated).
	IDRange *IDRange
	// RootfsIdmap is how the runtime id-maps the root filesystem ("" : not at all).
	RootfsIdmap IdmapKind
	// NetSysctls are net.* sysctls the runtime sets from the host in the network
	// namespace the container joins, when that namespace belongs to another user
	// namespace than the container's (its root could not write them).
	NetSysctls map[string]string
	// Staged is what the runtime changed in Spec for what it set up on the host.
	Staged *Staging
	// Monitor is what the container's monitor watches (nil: the container has none).
	Monitor *MonitorPlan
}

// checker carries one Apply: the spec being hardened, the policy and the decisions.
type checker struct {
	spec    *specs.Spec
	policy  *Policy
	facts   HostFacts
	request Request
	plan    *Plan
	// rule is the rule running: every decision it records bears its name.
	rule string
	// exec: the spec carries a process exec'd into an existing container, which
	// inherits what it does not set (its MAC label) from the container.
	exec bool
}

func (c *checker) record(o Outcome, detail, before, after string) {
	c.plan.Decisions = append(c.plan.Decisions, Decision{Rule: c.rule, Outcome: o, Detail: detail, Before: before, After: after})
}

func (c *checker) kept(detail string) { c.record(Kept, detail, "", "") }

func (c *checker) tightened(detail, before, after string) { c.record(Tightened, detail, before, after) }

func (c *checker) relaxed(detail string) { c.record(Relaxed, detail, "", "") }

func (c *checker) refuse(what, key string) error {
	c.record(Refused, what, "", "")
	return &Refusal{Rule: c.rule, What: what, Key: key}
}

// run applies the rules of the table in scope, in order; the first refusal stops.
func (c *checker) run(scope Scope) error {
	for _, r := range rules {
		if scope == ProcessScope && r.scope != ProcessScope {
			continue
		}
		c.rule = r.name
		if err := r.apply(c); err != nil {
			return err
		}
	}
	return nil
}

// Apply hardens a copy of spec under policy for a create asking req. It returns the plan;
// on refusal the error is a *Refusal and the plan's decisions end with it.
func Apply(spec *specs.Spec, policy *Policy, facts HostFacts, req Request) (*Plan, error) {
	if spec == nil || spec.Process == nil || spec.Root == nil {
		return &Plan{}, errors.New("hardening: spec without process or root")
	}
	if policy == nil {
		return &Plan{}, errors.New("hardening: no policy")
	}
	// A copy that keeps every empty list empty (a JSON round trip would not): an empty
	// seccomp flags list asks for no flags, an absent one gets libcontainer's default.
	out := deepCopy(spec)
	if out.Linux == nil {
		out.Linux = &specs.Linux{}
	}
	// yoroi's own annotations are its to write.
	delete(out.Annotations, AnnotationUserNS)
	delete(out.Annotations, AnnotationIDRange)
	plan := &Plan{}
	c := &checker{spec: out, policy: policy, facts: facts, request: req, plan: plan}
	if err := c.run(ContainerScope); err != nil {
		return plan, err
	}
	if plan.UserNS != "" {
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[AnnotationUserNS] = string(plan.UserNS)
		if r := plan.IDRange; r != nil {
			out.Annotations[AnnotationIDRange] = fmt.Sprintf("%d:%d", r.Start, r.Size)
		}
	}
	plan.Spec = out
	return plan, nil
}

// ApplyProcess hardens a process exec'd into an existing container: every rule of the
// table whose scope is the process applies to it as to init, so that exec can never
// accept what create refuses.
func ApplyProcess(p *specs.Process, policy *Policy, facts HostFacts) (*specs.Process, []Decision, error) {
	if p == nil {
		return nil, nil, errors.New("hardening: no process")
	}
	spec := &specs.Spec{Process: p, Root: &specs.Root{}, Linux: &specs.Linux{}}
	out := deepCopy(spec)
	plan := &Plan{}
	c := &checker{spec: out, policy: policy, facts: facts, plan: plan, exec: true}
	if err := c.run(ProcessScope); err != nil {
		return nil, plan.Decisions, err
	}
	return out.Process, plan.Decisions, nil
}
