package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// ExecOptions are the flags of `exec`.
type ExecOptions struct {
	ID string
	// ProcessPath is a process.json (what containerd passes); it replaces everything
	// but the container id.
	ProcessPath string
	Args        []string
	Env         []string
	Cwd         string
	// User is "uid[:gid]".
	User           string
	AdditionalGids []int64
	Caps           []string
	// NoNewPrivs overrides process.noNewPrivileges when non-nil.
	NoNewPrivs    *bool
	Tty           bool
	Detach        bool
	ConsoleSocket string
	PidFile       string
	PidfdSocket   string
	PreserveFDs   int
	ProcessLabel  string
	AppArmor      string
	Cgroups       []string
	IgnorePaused  bool
}

// Exec runs a new process in a running container. Unless detached it waits for it and
// returns its exit status. Failures of exec itself carry exit code 255 (runc's).
func (r *Runtime) Exec(o ExecOptions) (int, error) {
	status, err := r.exec(o)
	if err != nil {
		return -1, &codedError{err: fmt.Errorf("exec failed: %w", err), code: 255}
	}
	return status, nil
}

func (r *Runtime) exec(o ExecOptions) (int, error) {
	if o.PidFile != "" {
		abs, err := filepath.Abs(o.PidFile)
		if err != nil {
			return -1, err
		}
		o.PidFile = abs
	}
	c, err := r.execTarget(o)
	if err != nil {
		return -1, err
	}
	p, err := execProcess(o, c)
	if err != nil {
		return -1, err
	}
	if p, err = r.hardenExec(o, c, p); err != nil {
		return -1, err
	}
	cgPaths, err := subCgroupPaths(o.Cgroups)
	if err != nil {
		return -1, err
	}
	filter, err := r.execFilter(c, p.Args)
	if err != nil {
		return -1, err
	}
	monitorConn, err := r.execMonitor(c)
	if err != nil {
		return -1, err
	}
	rn := &runner{
		container:      c,
		consoleSocket:  o.ConsoleSocket,
		pidfdSocket:    o.PidfdSocket,
		detach:         o.Detach,
		pidFile:        o.PidFile,
		action:         actRun,
		preserveFDs:    o.PreserveFDs,
		seccomp:        filter,
		monitor:        monitorConn,
		subCgroupPaths: cgPaths,
		posture: func(pid int, lp *libcontainer.Process, gone <-chan struct{}) error {
			cfg := c.Config()
			return r.verifyPosture(o.ID, &cfg, nil, pid, lp, gone)
		},
	}
	return rn.run(p)
}

// execTarget is the container to exec into: running (or paused, if asked).
func (r *Runtime) execTarget(o ExecOptions) (*libcontainer.Container, error) {
	c, err := r.load(o.ID)
	if err != nil {
		return nil, err
	}
	status, err := c.Status()
	switch {
	case err != nil:
		return nil, err
	case status == libcontainer.Stopped:
		return nil, errors.New("cannot exec in a stopped container")
	case status == libcontainer.Paused && !o.IgnorePaused:
		return nil, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	return c, nil
}

// hardenExec holds an exec'd process to the policy of the container's init, under the
// profile the container was created with: the process rules, their postconditions, the
// audit log, and the workload's executable checked in the container.
func (r *Runtime) hardenExec(o ExecOptions, c *libcontainer.Container, p *specs.Process) (*specs.Process, error) {
	_, annotations := utils.Annotations(c.Config().Labels)
	policy, err := r.policyFor(annotations)
	if err != nil {
		return nil, err
	}
	facts := hardening.HostFacts{MAC: macFacts(), ImageVolumes: r.imageVolumes(o.ID, c.Config().Mounts)}
	p, decisions, err := hardening.ApplyProcess(p, policy, facts)
	if err == nil {
		if verr := hardening.VerifyProcess(p, policy, facts); verr != nil {
			return nil, fmt.Errorf("internal error: hardened process fails verification: %w", verr)
		}
	}
	events := decisionEvents(o.ID, "", policy.Name, decisions)
	ev := audit.Event{Event: "exec", ID: o.ID, Profile: policy.Name, Args: execArgs(p, o), User: o.User}
	if err != nil {
		ev.Event, ev.Error = "refusal", err.Error()
		r.auditBestEffort(append(events, ev)...)
		return nil, err
	}
	if err := r.audit().Write(append(events, ev)...); err != nil {
		return nil, err
	}
	if hardening.IsLandlockWrapped(p.Args) {
		st, err := c.State()
		if err != nil {
			return nil, err
		}
		if err := checkExecutable(filepath.Join("/proc", strconv.Itoa(st.InitProcessPid), "root"), p, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// imageVolumes are the destinations of the container's image volumes: the mounts whose
// source is an overlay volume the runtime rebuilt at create, in its staging directory.
func (r *Runtime) imageVolumes(id string, mounts []*configs.Mount) []string {
	staged := filepath.Join(r.stagingDir(id), "volumes") + "/"
	var out []string
	for _, m := range mounts {
		if strings.HasPrefix(m.Source, staged) {
			out = append(out, m.Destination)
		}
	}
	return out
}

// execProcess builds the process to exec: a process.json, or the container's own
// process with the command line's overrides.
func execProcess(o ExecOptions, c *libcontainer.Container) (*specs.Process, error) {
	if o.ProcessPath != "" {
		data, err := os.ReadFile(o.ProcessPath)
		if err != nil {
			return nil, err
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("process %s: %w", o.ProcessPath, err)
		}
		return &p, validateProcess(&p)
	}
	bundle, ok := utils.SearchLabels(c.Config().Labels, "bundle")
	if !ok {
		return nil, errors.New("bundle not found in labels")
	}
	spec, err := loadSpec(filepath.Join(bundle, SpecConfig))
	if err != nil {
		return nil, err
	}
	p := spec.Process
	if len(o.Args) == 0 {
		return nil, errors.New("exec args cannot be empty")
	}
	if err := overrideProcess(p, o); err != nil {
		return nil, err
	}
	return p, validateProcess(p)
}

// overrideProcess applies exec's command line to the container's process.
func overrideProcess(p *specs.Process, o ExecOptions) error {
	p.Args = o.Args
	if o.Cwd != "" {
		p.Cwd = o.Cwd
	}
	if o.AppArmor != "" {
		p.ApparmorProfile = o.AppArmor
	}
	if o.ProcessLabel != "" {
		p.SelinuxLabel = o.ProcessLabel
	}
	if len(o.Caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, cp := range o.Caps {
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, cp)
			p.Capabilities.Effective = append(p.Capabilities.Effective, cp)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, cp)
			if p.Capabilities.Inheritable != nil {
				p.Capabilities.Ambient = append(p.Capabilities.Ambient, cp)
			}
		}
	}
	p.Env = append(p.Env, o.Env...)
	p.Terminal = o.Tty
	if o.NoNewPrivs != nil {
		p.NoNewPrivileges = *o.NoNewPrivs
	}
	if o.User != "" {
		uids, gids, hasGid := strings.Cut(o.User, ":")
		if hasGid {
			gid, err := strconv.ParseUint(gids, 10, 32)
			if err != nil {
				return fmt.Errorf("bad gid: %w", err)
			}
			p.User.GID = uint32(gid)
		}
		uid, err := strconv.ParseUint(uids, 10, 32)
		if err != nil {
			return fmt.Errorf("bad uid: %w", err)
		}
		p.User.UID = uint32(uid)
	}
	for _, g := range o.AdditionalGids {
		if g < 0 || g > 1<<32-1 {
			return fmt.Errorf("additional gid %d out of range", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	return nil
}

// subCgroupPaths parses --cgroup: "path" (cgroup v2) or "ctrl[,ctrl]:path" (v1).
func subCgroupPaths(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	paths := make(map[string]string, len(args))
	for _, a := range args {
		ctrls, path, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) != 1 {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (missing <controller>: prefix)", a)
			}
			paths[""] = a
			continue
		}
		for ctrl := range strings.SplitSeq(ctrls, ",") {
			if ctrl == "" {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (empty <controller> prefix)", a)
			}
			if _, dup := paths[ctrl]; dup {
				return nil, fmt.Errorf("invalid --cgroup argument(s): controller %s specified multiple times", ctrl)
			}
			paths[ctrl] = path
		}
	}
	return paths, nil
}

// execArgs is the exec'd command for the audit log.
func execArgs(p *specs.Process, o ExecOptions) []string {
	if p != nil {
		return p.Args
	}
	return o.Args
}
