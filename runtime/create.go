package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// CreateOptions are the flags of `create` and `run`.
type CreateOptions struct {
	ID     string
	Bundle string
	// ConsoleSocket receives the pty master of a terminal container.
	ConsoleSocket string
	PidFile       string
	PidfdSocket   string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	// NotifySocket is the host's $NOTIFY_SOCKET, relayed into the container.
	NotifySocket string

	// run only.
	Detach      bool
	Keep        bool
	NoSubreaper bool

	// record, set by Record, is where what the run taught goes.
	record *RecordOutputs
}

// Create creates a container from a bundle and leaves it in the "created" state.
func (r *Runtime) Create(o CreateOptions) error {
	_, err := r.startContainer(o, actCreate)
	return err
}

// Run creates and starts a container. Unless detached it waits for the container's
// process and returns its exit status, then deletes the container (unless Keep).
func (r *Runtime) Run(o CreateOptions) (int, error) {
	return r.startContainer(o, actRun)
}

// creation is one create (or run) as it goes through its stages.
type creation struct {
	r      *Runtime
	o      CreateOptions
	act    action
	bundle *Bundle
	h      *hardened
	notify *notifySocket
	rec    *recording
	// config is the libcontainer configuration built from the verified spec; filter is
	// the compiled seccomp filter the Landlock launcher installs (nil: libcontainer's).
	config    *configs.Config
	filter    []byte
	container *libcontainer.Container
	// seccomp is the filter's configuration, which the launcher's program was built from;
	// monitor is the init's connection to the container's monitor (nil: none), and
	// monitorRun the monitor.
	seccomp    *configs.Seccomp
	monitor    *os.File
	monitorRun *monitorHandle
}

// createStages are the steps of create, in order. Each adds to the rollback the undo of
// what it did; the spec is final (and verified) before anything is built from it.
var createStages = []struct {
	name string
	run  func(c *creation, rb *rollback) error
}{
	{"harden", (*creation).harden},
	{"prepare host", (*creation).prepareHost},
	{"verify", func(c *creation, _ *rollback) error { return c.h.verify() }},
	{"apply host settings", (*creation).applyHostSettings},
	{"build config", (*creation).buildConfig},
	{"start monitor", (*creation).startMonitor},
	{"create", (*creation).create},
	{"monitor started", (*creation).monitorStarted},
}

func (r *Runtime) startContainer(o CreateOptions, act action) (_ int, retErr error) {
	c, err := r.newCreation(o, act)
	if err != nil {
		return -1, err
	}
	// A monitor this process serves ends once the container is gone (after the rollback,
	// or the runner's destroy).
	defer func() { c.monitorRun.stop() }()
	rb := &rollback{}
	defer func() {
		if retErr != nil {
			rb.run()
		}
	}()
	defer c.finishRecording(&retErr)
	for _, st := range createStages {
		done := timed(o.ID, "create: "+st.name)
		err := st.run(c, rb)
		done()
		if err != nil {
			logrus.Debugf("create %s: stage %s: %v", o.ID, st.name, err)
			return -1, err
		}
	}
	return c.run(rb)
}

// newCreation checks the options and loads the bundle.
func (r *Runtime) newCreation(o CreateOptions, act action) (*creation, error) {
	if o.ID == "" {
		return nil, errEmptyID
	}
	if o.PidFile != "" {
		abs, err := filepath.Abs(o.PidFile)
		if err != nil {
			return nil, err
		}
		o.PidFile = abs
	}
	bundle, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	if err := validateID(o.ID); err != nil {
		return nil, err
	}
	if r.exists(o.ID) {
		return nil, fmt.Errorf("container %q already exists", o.ID)
	}
	return &creation{r: r, o: o, act: act, bundle: bundle}, nil
}

// harden runs the spec through the policy; a refusal is audited with the decisions up to it.
func (c *creation) harden(rb *rollback) error {
	h, err := c.r.harden(c.bundle, c.o.ID, hardening.Request{NoPivot: c.o.NoPivot, Record: c.o.record != nil}, rb)
	c.h = h
	if err != nil && hardening.IsRefusal(err) {
		profile := ""
		if h.policy != nil {
			profile = h.policy.Name
		}
		spec := c.bundle.Spec
		events := append(decisionEvents(c.o.ID, c.bundle.Path, profile, h.plan.Decisions),
			audit.Event{Event: "refusal", ID: c.o.ID, Bundle: c.bundle.Path, Profile: profile,
				Args: spec.Process.Args, User: userString(spec.Process.User), Error: err.Error()})
		if aerr := c.r.audit().Write(events...); aerr != nil {
			logrus.Warn(aerr)
		}
	}
	return err
}

// prepareHost sets up on the host what the plan needs and the spec cannot say, and stages
// it in the plan: the id-mapped root filesystem and volumes, the recording of `profile
// record`, the relayed notify socket.
func (c *creation) prepareHost(rb *rollback) error {
	r, id, plan := c.r, c.o.ID, c.h.plan
	if kind := plan.RootfsIdmap; kind != "" {
		rb.add("id-mapped mounts", func() error { return r.cleanupStaging(id) })
		if err := r.makeTraversable(r.stagingDir(id)); err != nil {
			return err
		}
		uid, gid := c.h.idMappings()
		original := c.bundle.rootfsPath(plan.Spec)
		staged, err := r.prepareRootfs(id, original, string(kind), c.h.facts.Rootfs.Layers, uid, gid, plan.Spec.Mounts)
		if err != nil {
			return &hardening.Refusal{Rule: "rootfs.idmap", What: fmt.Sprintf("cannot id-map the root filesystem (%s, %s): %v", c.h.facts.Rootfs.FSType, kind, err), Key: "userns.idmap_filesystems"}
		}
		plan.StageRoot("rootfs.idmap", original, staged, "the root filesystem, id-mapped ("+string(kind)+")")
		if err := r.prepareVolumes(id, plan, c.h.facts.Sources, uid, gid); err != nil {
			return &hardening.Refusal{Rule: "rootfs.idmap", What: "cannot id-map an overlay volume: " + err.Error(), Key: "userns.idmap_filesystems"}
		}
	}
	if c.o.record != nil {
		// Stopped by finishRecording, whatever happens.
		rec, err := r.startRecording(id, c.bundle.Path, c.bundle.rootfsPath(c.bundle.Spec), c.h, *c.o.record)
		if err != nil {
			return err
		}
		c.rec = rec
	}
	// The notify socket's directory is yoroi's state: only the runtime may mount it.
	if c.notify = newNotifySocket(filepath.Join(r.root, id), c.o.NotifySocket); c.notify != nil {
		m, env := c.notify.mount()
		plan.AddMount("notify-socket", m, env, "the caller's NOTIFY_SOCKET relayed into the container")
	}
	return nil
}

// applyHostSettings makes the host ready for the verified spec: yoroi's AppArmor profile
// loaded, net.* sysctls set in a network namespace the container cannot write, the
// workload's executable checked where the Landlock launcher would hide a missing one.
func (c *creation) applyHostSettings(_ *rollback) error {
	spec := c.h.spec()
	if err := ensureAppArmorProfile(c.h); err != nil {
		return err
	}
	if err := applyNetSysctls(spec, c.h.plan.NetSysctls); err != nil {
		return err
	}
	if hardening.IsLandlockWrapped(spec.Process.Args) {
		var dests []string
		for _, m := range spec.Mounts {
			dests = append(dests, m.Destination)
		}
		return checkExecutable(c.bundle.rootfsPath(spec), spec.Process, dests)
	}
	return nil
}

// buildConfig turns the verified spec into libcontainer's configuration.
func (c *creation) buildConfig(_ *rollback) error {
	spec := c.h.spec()
	// specconv resolves relative paths (root.path, bind sources) against the working
	// directory and records it as the bundle label.
	if err := os.Chdir(c.bundle.Path); err != nil {
		return err
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       c.o.ID,
		UseSystemdCgroup: c.r.systemdCgroup,
		NoPivotRoot:      c.o.NoPivot,
		NoNewKeyring:     c.o.NoNewKeyring,
		Spec:             spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  os.Geteuid() != 0,
	})
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	// The container's AppArmor profile, which specconv leaves to the process: kept in the
	// container's config, every process exec'd into it gets it too (as SELinux's label).
	config.AppArmorProfile = spec.Process.ApparmorProfile
	c.config = config
	c.seccomp = config.Seccomp
	c.filter, err = c.r.moveSeccompToLauncher(config, spec.Process.Args)
	return err
}

// startMonitor starts the container's monitor when the plan wants one: the launcher's
// filter becomes the one that notifies it.
func (c *creation) startMonitor(rb *rollback) error {
	m := c.h.plan.Monitor
	if m == nil {
		return nil
	}
	if c.filter == nil {
		// The policy saw the launcher's filter where the runtime could not give one.
		c.h.plan.Monitor = nil
		c.h.plan.Decisions = append(c.h.plan.Decisions, hardening.Decision{Rule: "telemetry", Outcome: hardening.Kept,
			Detail: "denied syscalls and execs not audited: the filter is installed by libcontainer"})
		return nil
	}
	r, id := c.r, c.o.ID
	rb.add("monitor", func() error { return r.removeMonitorSocket(id) })
	var err error
	// An attached run lives as long as its container: it serves the monitor itself.
	local := c.act == actRun && !c.o.Detach
	c.filter, c.monitor, c.monitorRun, err = r.setupMonitor(id, m, c.config, c.seccomp, c.filter, local)
	return err
}

// monitorStarted waits for the monitor's start, which went on beside the create stage:
// no process of the container runs before its monitor does.
func (c *creation) monitorStarted(*rollback) error {
	if c.monitorRun == nil {
		return nil
	}
	if err := <-c.monitorRun.started; err != nil {
		return fmt.Errorf("starting the container's monitor: %w", err)
	}
	return nil
}

// create has libcontainer create the container and audits it: a container whose
// decisions cannot be recorded is not created.
func (c *creation) create(rb *rollback) error {
	r, id := c.r, c.o.ID
	rb.add("decisions", func() error { return r.removeDecisions(id) })
	if err := r.writeDecisions(id, c.h.policy.Name, c.h.plan.Decisions); err != nil {
		return err
	}
	rb.add("pending state", func() error { r.clearPending(id); return nil })
	if err := r.writePending(id, c.config); err != nil {
		return err
	}
	container, err := libcontainer.Create(r.root, id, c.config)
	if errors.Is(err, libcontainer.ErrExist) {
		// Another create of the same id won the race: what is reserved for the id is its.
		rb.undo = slices.DeleteFunc(rb.undo, func(u undoStep) bool { return u.what != "pending state" })
		return fmt.Errorf("container %q already exists", id)
	}
	if err != nil {
		return err
	}
	rb.add("container", container.Destroy)
	c.container = container
	spec := c.h.spec()
	events := append(decisionEvents(id, c.bundle.Path, c.h.policy.Name, c.h.plan.Decisions),
		audit.Event{Event: "create", ID: id, Bundle: c.bundle.Path, Profile: c.h.policy.Name, Args: spec.Process.Args, User: userString(spec.Process.User)})
	return r.audit().Write(events...)
}

// run starts the container's process (for run, and waits for it). From here on the
// runner owns the container: it destroys it, and undoes the rest, when it must.
func (c *creation) run(rb *rollback) (int, error) {
	r, id := c.r, c.o.ID
	undo := *rb
	rb.undo = nil
	rn := &runner{
		init:            true,
		enableSubreaper: !c.o.NoSubreaper,
		shouldDestroy:   !c.o.Keep,
		container:       c.container,
		listenFDs:       activationFiles(),
		notifySocket:    c.notify,
		consoleSocket:   c.o.ConsoleSocket,
		pidfdSocket:     c.o.PidfdSocket,
		detach:          c.o.Detach,
		pidFile:         c.o.PidFile,
		preserveFDs:     c.o.PreserveFDs,
		seccomp:         c.filter,
		monitor:         c.monitor,
		action:          c.act,
		cleanup:         func() { withoutContainer(undo).run() },
		prepared:        func() error { return delegateCgroup(c.container) },
		started:         func() { r.clearPending(id) },
		posture: func(pid int, p *libcontainer.Process, gone <-chan struct{}) error {
			cfg := c.container.Config()
			return r.verifyPosture(id, &cfg, c.h.policy, pid, p, gone)
		},
	}
	if c.notify != nil {
		err := c.notify.setupSocketDirectory()
		if err == nil && c.act == actRun {
			err = c.notify.bindSocket()
		}
		if err != nil {
			// Nothing of a half-created container may stay behind.
			rn.shouldDestroy = true
			rn.destroy()
			return -1, err
		}
	}
	return rn.run(c.spec().Process)
}

func (c *creation) spec() *specs.Spec { return c.h.spec() }

// withoutContainer is the rollback minus the container's destruction, which the runner
// does itself.
func withoutContainer(rb rollback) *rollback {
	out := &rollback{}
	for _, u := range rb.undo {
		if u.what != "container" {
			out.undo = append(out.undo, u)
		}
	}
	return out
}

// finishRecording writes what `profile record` learnt once the container is gone, and
// stops the recorders.
func (c *creation) finishRecording(retErr *error) {
	if c.rec == nil {
		return
	}
	if *retErr == nil {
		*retErr = c.rec.finish()
	}
	c.rec.close()
}
