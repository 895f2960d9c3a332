package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/audit"
	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
)

// After the workload starts, yoroi reads what the kernel shows of it from the host and
// compares it with the model the policy promised (hardening.Posture). A difference stops
// and removes the container: whatever went wrong between the policy and the kernel (a
// libcontainer change, a hook, a bug of yoroi's), the container does not run on.

// postureWait bounds the wait for the launcher to install the seccomp filter and execute
// the workload: a launcher that has not by then is refused. It is long enough for a burst
// of starts on a busy host (with a 2 s bound, 100 concurrent starts on this project's
// 2-CPU machines had up to a fifth of them refused), and costs nothing when the workload
// starts sooner.
const postureWait = 30 * time.Second

// postureFaultEnv makes the model expect an empty bounding set, so that every check
// fails: the fail-closed path's test drives it through engines, whose environment
// reaches yoroi. It can only make a container fail, never pass.
const postureFaultEnv = "_YOROI_TEST_POSTURE_FAULT"

// errExited: the process ended before its posture could be read; nothing is left to check.
var errExited = errors.New("the process exited before its posture was read")

// nsKinds maps libcontainer's namespace types to /proc/PID/ns names.
var nsKinds = map[configs.NamespaceType]string{
	configs.NEWNET: "net", configs.NEWPID: "pid", configs.NEWNS: "mnt", configs.NEWIPC: "ipc",
	configs.NEWUTS: "uts", configs.NEWUSER: "user", configs.NEWCGROUP: "cgroup", configs.NEWTIME: "time",
}

// limitNames are /proc/PID/limits' names of the rlimits, by resource number.
var limitNames = []string{
	"Max cpu time", "Max file size", "Max data size", "Max stack size", "Max core file size",
	"Max resident set", "Max processes", "Max open files", "Max locked memory",
	"Max address space", "Max file locks", "Max pending signals", "Max msgqueue size",
	"Max nice priority", "Max realtime priority", "Max realtime timeout",
}

// postureModel is what the policy promised for the process of a container created with
// config, whose root filesystem the host reaches at root (/proc/PID/root).
func (r *Runtime) postureModel(config *configs.Config, root string, hostRootAllowed bool) hardening.Posture {
	_, launcherFilter := utils.SearchLabels(config.Labels, seccompFilterLabel)
	m := hardening.Posture{
		NoNewPrivileges:    config.NoNewPrivileges,
		Seccomp:            config.Seccomp != nil || launcherFilter,
		HostRootAllowed:    hostRootAllowed,
		Namespaces:         map[string]hardening.NamespaceExpectation{},
		RootReadonly:       config.Readonlyfs,
		ForbiddenFDTargets: []string{r.root, r.hostStateDir()},
	}
	if c := config.Capabilities; c != nil {
		m.Bounding, m.Ambient = hardening.CapMask(c.Bounding), hardening.CapMask(c.Ambient)
	}
	for _, ns := range config.Namespaces {
		kind, ok := nsKinds[ns.Type]
		if !ok {
			continue
		}
		want := hardening.NamespaceExpectation{}
		if id, ok := hostNamespaces()[kind]; ok {
			want.Host = id
		}
		if ns.Path != "" {
			id, ok := fileID(ns.Path)
			if !ok {
				continue // gone since create (a pod's sandbox); nothing to compare with
			}
			want.Joined = &id
		}
		m.Namespaces[kind] = want
		if ns.Type == configs.NEWUSER && ns.Path == "" {
			m.UIDMap, m.GIDMap = mapLines(config.UIDMappings), mapLines(config.GIDMappings)
		}
	}
	visible := map[string]hardening.MountExpectation{}
	var order []string
	for _, mnt := range config.Mounts {
		if mnt.Device == "bind" && mnt.Source == "/dev/null" {
			continue // a masked path, not a mount the spec asked for
		}
		dest := containerPath(root, mnt.Destination)
		// A later mount hides what the configuration mounted at or beneath its point.
		order = slices.DeleteFunc(order, func(d string) bool {
			if d == dest || dest == "/" || strings.HasPrefix(d, dest+"/") {
				delete(visible, d)
				return true
			}
			return false
		})
		order = append(order, dest)
		visible[dest] = hardening.MountExpectation{Path: dest, Options: flagOptions(mnt.Flags)}
	}
	for _, d := range order {
		m.Mounts = append(m.Mounts, visible[d])
	}
	m.Rlimits = limitsModel(config.Rlimits)
	return m
}

// limitsModel names rlimits as /proc/PID/limits does.
func limitsModel(rls []configs.Rlimit) map[string]hardening.Rlimit {
	out := make(map[string]hardening.Rlimit, len(rls))
	for _, rl := range rls {
		if rl.Type >= 0 && rl.Type < len(limitNames) {
			out[limitNames[rl.Type]] = hardening.Rlimit{Soft: rl.Soft, Hard: rl.Hard}
		}
	}
	return out
}

func mapLines(ms []configs.IDMap) []hardening.IDMapLine {
	out := make([]hardening.IDMapLine, 0, len(ms))
	for _, m := range ms {
		out = append(out, hardening.IDMapLine{Inside: uint64(m.ContainerID), Outside: uint64(m.HostID), Size: uint64(m.Size)})
	}
	return out
}

func flagOptions(flags int) []string {
	var out []string
	for _, f := range []struct {
		flag int
		name string
	}{{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"}} {
		if flags&f.flag != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// checkPosture waits until pid runs the workload, reads its posture once and compares.
// It returns errExited when the process ended first, and the differences, if any, as
// one error. gone, when it is closed, says the process has exited (a check run beside
// the wait for it): the check stops waiting for its execve then.
func checkPosture(pid int, model hardening.Posture, gone <-chan struct{}) error {
	start, err := processStart(pid)
	if err != nil {
		return errExited
	}
	exit := watchExit(pid, start)
	defer exit.close()
	waited := timed("", "posture: wait for the workload's execve")
	err = awaitWorkload(pid, model, gone, exit)
	waited()
	if err != nil {
		return err
	}
	defer timed("", "posture: read and compare")()
	obs, err := observe(pid)
	// The process must still be the one observed, alive: otherwise what was read may be
	// a zombie's remains or another process's. A process that is exiting fails some
	// reads (mountinfo: EINVAL) before it is a zombie: give it a moment to become one.
	if exit.exitedWithin(pid, start, readRetry(err)) {
		return errExited
	}
	if err != nil {
		return fmt.Errorf("posture check: reading process %d: %w", pid, err)
	}
	if diff := model.Compare(obs); len(diff) > 0 {
		return fmt.Errorf("posture check failed: %s", strings.Join(diff, "; "))
	}
	return nil
}

// awaitWorkload waits, for at most postureWait, until pid is past libcontainer's init
// and yoroi's launcher: its seccomp filter installed (when the model has one), no
// descriptor left on the runtime's state (the exec fifo) and no longer running init or
// the launcher (a launcher keeping privileges holds capabilities the workload does not
// get until right before its execve). Nothing else the model checks changes
// from there on or can widen across that execve (no_new_privs keeps capabilities from
// growing; mounts and namespaces stay). It polls cheaply, backing off, so that many
// concurrent starts do not spend their CPU on it (see postureLooks). It stops, with
// errExited, as soon as the process exits (exit) or gone is closed.
func awaitWorkload(pid int, model hardening.Posture, gone <-chan struct{}, exit *exitWatch) error {
	start := time.Now()
	deadline := start.Add(postureWait)
	wait := postureLooks.First
	for {
		st, args, err := settledLook(pid)
		if err != nil || st.state == "Z" || st.state == "X" {
			return errExited
		}
		if (!model.Seccomp || st.obs.SeccompMode == 2) && !inLauncher(args, st.name) {
			fds, err := readFDs(pid)
			if err != nil {
				return errExited
			}
			if !holdsAny(fds, model.ForbiddenFDTargets) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return nil // the comparison says what is still not in place
		}
		select {
		case <-gone:
			return errExited
		default:
		}
		if exit.pause(wait) {
			return errExited
		}
		wait = postureLooks.Next(wait, time.Since(start))
	}
}

// postureLooks space the looks at a workload that is not yet past the launcher: doubling
// from 50 µs to 2 ms while a start is quick (under 20 ms, as nearly all are on an idle
// host), then to 50 ms. A burst of starts on a busy host is slow for every one of them,
// and a hundred checks looking every 2 ms (reading /proc: status, cmdline, descriptors)
// took the CPU their launchers needed: 100 concurrent starts here took 2.3 s to 29 s.
var postureLooks = pace.Backoff{First: 50 * time.Microsecond, Fast: 2 * time.Millisecond, Quick: 20 * time.Millisecond, Slow: 50 * time.Millisecond}

// initComm is the name libcontainer's nsexec gives the container's init process.
const initComm = "runc:[2:INIT]"

// inLauncher reports whether a process with argv args and command name comm still runs
// yoroi's code: libcontainer's init (argv "yoroi init", named initComm) or the Landlock
// launcher (argv "/proc/self/exe __yoroi_landlock …", named after /proc/self/exe), by the
// argv and the name each has until it executes the next. A workload is told apart by
// either (a workload whose argv is "X init" is not libcontainer's init). No argv: in an
// execve, or exiting (the caller sees that next).
func inLauncher(args []string, comm string) bool {
	if len(args) == 0 {
		return true
	}
	launcher := len(args) > 1 && args[1] == hardening.LandlockArg && comm == filepath.Base(hardening.LandlockExe)
	return launcher || len(args) == 2 && args[1] == "init" && comm == initComm
}

// settledLook reads pid's status and argv as one execve left them: the argv, the status,
// the argv again. The status holds the command name and the credentials; read apart, a
// look could pair the name of a program with the argv of the next one (an execve between
// the reads): libcontainer's init's name with the launcher's argv passed for the workload
// while the launcher still held the capabilities it confines itself with (runc's bats saw
// it once). An execve shows no argv from the moment it installs the new program until it
// lays out the argv, after its name and credentials are in place (so a look can see the
// new name with no argv yet), and each of init, launcher and workload has an argv
// of its own: the same argv twice means the status between belongs to it. A process that
// keeps executing gets a few tries, then no argv (not yet the workload).
func settledLook(pid int) (procStatus, []string, error) {
	for range 5 {
		before, err := readArgs(pid)
		if err != nil {
			return procStatus{}, nil, err
		}
		st, err := readStatus(pid)
		if err != nil {
			return st, nil, err
		}
		after, err := readArgs(pid)
		if err != nil {
			return st, nil, err
		}
		if slices.Equal(before, after) {
			return st, after, nil
		}
	}
	st, err := readStatus(pid)
	return st, nil, err
}

// readArgs reads pid's argv (none while it is in an execve or exiting).
func readArgs(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

// holdsAny reports whether a descriptor points at or below one of targets.
func holdsAny(fds map[int]string, targets []string) bool {
	for _, link := range fds {
		if hardening.UnderAny(link, targets) {
			return true
		}
	}
	return false
}

// readRetry is how long to watch a process whose posture could not be read for its exit.
func readRetry(err error) time.Duration {
	if err != nil {
		return 200 * time.Millisecond
	}
	return 0
}

type procStatus struct {
	name, state string
	obs         hardening.Observed
}

func readStatus(pid int) (procStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, err
	}
	defer f.Close()
	var st procStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		hex := func() uint64 { n, _ := strconv.ParseUint(v, 16, 64); return n }
		switch k {
		case "Name":
			st.name = v
		case "State":
			st.state, _, _ = strings.Cut(v, " ")
		case "CapInh":
			st.obs.CapInh = hex()
		case "CapPrm":
			st.obs.CapPrm = hex()
		case "CapEff":
			st.obs.CapEff = hex()
		case "CapBnd":
			st.obs.CapBnd = hex()
		case "CapAmb":
			st.obs.CapAmb = hex()
		case "NoNewPrivs":
			st.obs.NoNewPrivs = v == "1"
		case "Seccomp":
			st.obs.SeccompMode, _ = strconv.Atoi(v)
		}
	}
	return st, sc.Err()
}

// observe reads the posture of pid.
func observe(pid int) (hardening.Observed, error) {
	st, err := readStatus(pid)
	if err != nil {
		return hardening.Observed{}, err
	}
	o := st.obs
	proc := fmt.Sprintf("/proc/%d", pid)
	if o.UIDMap, err = readMapLines(proc + "/uid_map"); err != nil {
		return o, err
	}
	if o.GIDMap, err = readMapLines(proc + "/gid_map"); err != nil {
		return o, err
	}
	o.Namespaces = map[string]hardening.FileID{}
	for _, kind := range nsKinds {
		if id, ok := fileID(proc + "/ns/" + kind); ok {
			o.Namespaces[kind] = id
		}
	}
	if o.Mounts, err = readMountOptions(proc + "/mountinfo"); err != nil {
		return o, err
	}
	if o.Rlimits, err = readLimits(proc + "/limits"); err != nil {
		return o, err
	}
	o.FDs, err = readFDs(pid)
	return o, err
}

// readFDs maps each open descriptor of pid to what its link names.
func readFDs(pid int) (map[int]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd/", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(ents))
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(dir + e.Name()); err == nil {
			out[fd] = target
		}
	}
	return out, nil
}

func readMapLines(path string) ([]hardening.IDMapLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []hardening.IDMapLine
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l hardening.IDMapLine
		if _, err := fmt.Sscan(line, &l.Inside, &l.Outside, &l.Size); err == nil {
			out = append(out, l)
		}
	}
	return out, nil
}

// readMountOptions maps each mount point of a mountinfo file to the per-mount options of
// the mount visible there, and leaves out the points whose mounts cannot be reached: a
// mount is visible when no other mount at its point sits on it, and when its parent is
// the visible mount the path reaches before it (a mount at /tmp/vol made before a tmpfs
// on /tmp keeps its line but is hidden by it).
func readMountOptions(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	infos, err := mountinfo.GetMountsFromReader(f, nil)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, errors.New("empty mount table")
	}
	return visibleMountOptions(infos), nil
}

// visibleMountOptions maps each mount point to the options of the mount visible there.
func visibleMountOptions(infos []*mountinfo.Info) map[string][]string {
	byID := make(map[int]*mountinfo.Info, len(infos))
	for _, m := range infos {
		byID[m.ID] = m
	}
	// The top of each point's stack: the mount no other mount at that point sits on.
	top := map[string]int{}
	for _, m := range infos {
		covered := slices.ContainsFunc(infos, func(o *mountinfo.Info) bool { return o.Mountpoint == m.Mountpoint && o.Parent == m.ID })
		if !covered {
			top[m.Mountpoint] = m.ID
		}
	}
	v := &visibility{byID: byID, top: top, reachable: map[int]bool{}}
	out := make(map[string][]string, len(top))
	for point, id := range top {
		if v.visible(id, 0) {
			out[point] = strings.Split(byID[id].Options, ",")
		}
	}
	return out
}

// visibility tells which mounts of a table a path can reach.
type visibility struct {
	byID      map[int]*mountinfo.Info
	top       map[string]int
	reachable map[int]bool
}

// visible: the mount is the top of its point's stack and reachable.
func (v *visibility) visible(id, depth int) bool {
	m, ok := v.byID[id]
	return ok && v.top[m.Mountpoint] == id && v.isReachable(id, depth)
}

// isReachable: the path to the mount's point passes through its parent: a mount stacked
// on another at the same point is reachable as that one is; otherwise the visible mount
// nearest above its point must be its parent.
func (v *visibility) isReachable(id, depth int) bool {
	if r, ok := v.reachable[id]; ok {
		return r
	}
	m, ok := v.byID[id]
	if !ok || depth > len(v.byID) {
		return false
	}
	parent, parentKnown := v.byID[m.Parent]
	r := true
	switch {
	case !parentKnown || m.Mountpoint == "/":
		// The root of this mount namespace.
	case parent.Mountpoint == m.Mountpoint:
		r = v.isReachable(m.Parent, depth+1)
	default:
		above := -1
		for q := filepath.Dir(m.Mountpoint); ; q = filepath.Dir(q) {
			if t, ok := v.top[q]; ok && v.visible(t, depth+1) {
				above = t
				break
			}
			if q == "/" {
				break
			}
		}
		r = above == m.Parent
	}
	v.reachable[id] = r
	return r
}

// readLimits parses /proc/PID/limits: a name in the first 26 columns, then the soft and
// hard limits ("unlimited" or a number).
func readLimits(path string) (map[string]hardening.Rlimit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]hardening.Rlimit{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if len(line) < 27 {
			continue
		}
		f := strings.Fields(line[26:])
		if len(f) < 2 {
			continue
		}
		out[strings.TrimSpace(line[:26])] = hardening.Rlimit{Soft: limitValue(f[0]), Hard: limitValue(f[1])}
	}
	return out, nil
}

func limitValue(s string) uint64 {
	if s == "unlimited" {
		return unix.RLIM_INFINITY
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// verifyPosture checks the started process pid of the container with config against
// the model, and records the outcome (and its cost) in the audit log. p is the process
// yoroi started (nil for start, which releases a created init): an exec'd process may
// carry capabilities, rlimits and no_new_privs of its own. policy is the container's
// (nil: read again for the profile its annotations name). gone is closed once the
// process has exited (nil: the caller does not wait for it).
func (r *Runtime) verifyPosture(id string, config *configs.Config, policy *hardening.Policy, pid int, p *libcontainer.Process, gone <-chan struct{}) error {
	done := timed(id, "posture: policy and model")
	if policy == nil {
		_, annotations := utils.Annotations(config.Labels)
		policy, _ = r.policyFor(annotations)
	}
	hostRoot := policy != nil && policy.Userns.AllowHost
	began := time.Now()
	model := r.postureModel(config, fmt.Sprintf("/proc/%d/root", pid), hostRoot)
	if p != nil {
		processPosture(&model, p)
	}
	if os.Getenv(postureFaultEnv) != "" {
		model.Bounding = 0
	}
	done()
	err := checkPosture(pid, model, gone)
	defer timed(id, "posture: audit")()
	ev := audit.Event{Event: "posture", ID: id, Detail: fmt.Sprintf("checked in %d µs", time.Since(began).Microseconds())}
	if p != nil && !p.Init {
		ev.Args = p.Args
	}
	switch {
	case errors.Is(err, errExited):
		ev.Detail = "not checked: " + err.Error()
		err = nil
	case err != nil:
		ev.Error = err.Error()
	}
	r.auditBestEffort(ev)
	return err
}

// processPosture puts what a process sets for itself into the model, as libcontainer
// applies it: its capabilities, its rlimits when it has any, its no_new_privs.
func processPosture(m *hardening.Posture, p *libcontainer.Process) {
	if c := p.Capabilities; c != nil {
		m.Bounding, m.Ambient = hardening.CapMask(c.Bounding), hardening.CapMask(c.Ambient)
	}
	// A launcher that keeps privileges holds more than the workload may: the workload
	// must have exactly the sets it was to give it.
	if c, ok := hardening.LauncherFinalCaps(p.Args); ok {
		m.Bounding, m.Ambient = c.Bounding, c.Ambient
	}
	if len(p.Rlimits) > 0 {
		m.Rlimits = limitsModel(p.Rlimits)
	}
	if p.NoNewPrivileges != nil {
		m.NoNewPrivileges = *p.NoNewPrivileges
	}
}
