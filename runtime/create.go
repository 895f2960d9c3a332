package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/hardening"
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

func (r *Runtime) startContainer(o CreateOptions, act action) (_ int, retErr error) {
	if o.ID == "" {
		return -1, errEmptyID
	}
	if o.PidFile != "" {
		abs, err := filepath.Abs(o.PidFile)
		if err != nil {
			return -1, err
		}
		o.PidFile = abs
	}
	bundle, err := LoadBundle(o.Bundle)
	if err != nil {
		return -1, err
	}
	if err := validateID(o.ID); err != nil {
		return -1, err
	}
	if r.exists(o.ID) {
		return -1, fmt.Errorf("container %q already exists", o.ID)
	}
	h, err := r.harden(bundle, o.ID, hardening.Request{NoPivot: o.NoPivot, Record: o.record != nil})
	if err != nil {
		if hardening.IsRefusal(err) {
			profile := ""
			if h.policy != nil {
				profile = h.policy.Name
			}
			events := decisionEvents(o.ID, bundle.Path, profile, h.decisions)
			events = append(events, auditEvent{Event: "refusal", ID: o.ID, Bundle: bundle.Path, Profile: profile,
				Args: bundle.Spec.Process.Args, User: userString(bundle.Spec.Process.User), Error: err.Error()})
			if aerr := r.audit().write(events...); aerr != nil {
				logrus.Warn(aerr)
			}
		}
		return -1, err
	}
	spec := h.spec
	// From here on, everything yoroi holds for the container is released on failure.
	cleanup := func() {
		r.clearPending(o.ID)
		if err := r.cleanupContainer(o.ID); err != nil {
			logrus.Warn(err)
		}
	}
	if kind := spec.Annotations[hardening.AnnotationRootfsIdmap]; kind != "" {
		if err := r.makeTraversable(r.stagingDir(o.ID)); err != nil {
			cleanup()
			return -1, err
		}
		uid, gid := h.idMappings()
		original := bundle.rootfsPath(spec)
		staged, err := r.prepareRootfs(o.ID, original, kind, uid, gid, spec.Mounts)
		if err != nil {
			cleanup()
			return -1, &hardening.Refusal{Rule: "rootfs.idmap", What: fmt.Sprintf("cannot id-map the root filesystem (%s, %s): %v", h.facts.Rootfs.FSType, kind, err), Key: "userns.idmap_filesystems"}
		}
		spec.Root.Path = staged
		rebaseSources(spec.Mounts, original, staged)
		if err := r.prepareVolumes(o.ID, spec.Mounts, h.facts.Sources, uid, gid); err != nil {
			cleanup()
			return -1, &hardening.Refusal{Rule: "rootfs.idmap", What: "cannot id-map an overlay volume: " + err.Error(), Key: "userns.idmap_filesystems"}
		}
	}
	if err := ensureAppArmorProfile(h); err != nil {
		cleanup()
		return -1, err
	}
	if err := applyNetSysctls(spec); err != nil {
		cleanup()
		return -1, err
	}
	if hardening.IsLandlockWrapped(spec.Process.Args) {
		var dests []string
		for _, m := range spec.Mounts {
			dests = append(dests, m.Destination)
		}
		if err := checkExecutable(bundle.rootfsPath(spec), spec.Process, dests); err != nil {
			cleanup()
			return -1, err
		}
	}
	if o.record != nil {
		rec, err := r.startRecording(o.ID, bundle.Path, bundle.rootfsPath(bundle.Spec), h, *o.record)
		if err != nil {
			cleanup()
			return -1, err
		}
		defer rec.close()
		defer func() {
			if err := rec.finish(); err != nil && retErr == nil {
				retErr = err
			}
		}()
	}
	// Runtime-owned mounts are added after the policy: their sources are yoroi's own
	// state, which the policy rightly refuses to a workload.
	notify := newNotifySocket(filepath.Join(r.root, o.ID), o.NotifySocket)
	if notify != nil {
		notify.setupSpec(spec)
	}
	// specconv resolves relative paths (root.path, bind sources) against the working
	// directory and records it as the bundle label.
	if err := os.Chdir(bundle.Path); err != nil {
		cleanup()
		return -1, err
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       o.ID,
		UseSystemdCgroup: r.systemdCgroup,
		NoPivotRoot:      o.NoPivot,
		NoNewKeyring:     o.NoNewKeyring,
		Spec:             spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  os.Geteuid() != 0,
	})
	if err != nil {
		cleanup()
		return -1, fmt.Errorf("invalid configuration: %w", err)
	}
	// The container's AppArmor profile, which specconv leaves to the process: kept in the
	// container's config, every process exec'd into it gets it too (as SELinux's label).
	config.AppArmorProfile = spec.Process.ApparmorProfile
	filter, err := r.moveSeccompToLauncher(config, spec.Process.Args)
	if err != nil {
		cleanup()
		return -1, err
	}
	if err := r.writePending(o.ID, config); err != nil {
		cleanup()
		return -1, err
	}
	container, err := libcontainer.Create(r.root, o.ID, config)
	if err != nil {
		r.clearPending(o.ID)
		if errors.Is(err, libcontainer.ErrExist) {
			// The range and mounts belong to the existing container: keep them.
			return -1, fmt.Errorf("container %q already exists", o.ID)
		}
		cleanup()
		return -1, err
	}
	// The audit log is part of the contract: a container whose decisions cannot be
	// recorded is not created.
	events := append(decisionEvents(o.ID, bundle.Path, h.policy.Name, h.decisions),
		auditEvent{Event: "create", ID: o.ID, Bundle: bundle.Path, Profile: h.policy.Name, Args: spec.Process.Args, User: userString(spec.Process.User)})
	if err := r.audit().write(events...); err != nil {
		_ = container.Destroy()
		cleanup()
		return -1, err
	}
	rn := &runner{
		init:            true,
		enableSubreaper: !o.NoSubreaper,
		shouldDestroy:   !o.Keep,
		container:       container,
		listenFDs:       activationFiles(),
		notifySocket:    notify,
		consoleSocket:   o.ConsoleSocket,
		pidfdSocket:     o.PidfdSocket,
		detach:          o.Detach,
		pidFile:         o.PidFile,
		preserveFDs:     o.PreserveFDs,
		seccomp:         filter,
		action:          act,
		cleanup:         cleanup,
		prepared:        func() error { return delegateCgroup(container) },
		started:         func() { r.clearPending(o.ID) },
		posture: func(pid int, p *libcontainer.Process) error {
			cfg := container.Config()
			return r.verifyPosture(o.ID, &cfg, pid, p)
		},
	}
	if notify != nil {
		err := notify.setupSocketDirectory()
		if err == nil && act == actRun {
			err = notify.bindSocket()
		}
		if err != nil {
			// Nothing of a half-created container may stay behind.
			rn.shouldDestroy = true
			rn.destroy()
			return -1, err
		}
	}
	return rn.run(spec.Process)
}
