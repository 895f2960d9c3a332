package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/runtime/cgroupwarm"
)

// The kernel serialises every move of a process between cgroups (a pid written to a
// cgroup.procs file, in any hierarchy) with one host-wide lock, whose writer first waits
// for an RCU grace period — 5 to 15 ms on this project's machines — unless another
// writer held it within about the last grace period. libcontainer moves the container's
// init into its cgroups in the middle of every create (on cgroup v1 and v2: the init is
// not cloned into them), and on cgroup v1 every exec'd process, so a start waits for one
// grace period there, runc's alike.
//
// warmCgroupAttach starts that wait at the beginning of the operation, in the
// background, unless the binary's constructor already did (runtime/cgroupwarm: before the
// Go runtime, about 2 ms earlier, for yoroi's create, run and exec), by moving this
// process into the cgroup it already is in (a move that
// changes nothing and leaves nothing behind): the grace period then passes while the
// policy is applied and the container set up, and libcontainer's move finds the lock's
// wait done or shorter. Nothing depends on it: an error only leaves the wait where it
// was. A host whose cgroup hierarchy is mounted with favordynmods never waits; the
// move then costs microseconds. Only the first call in a process moves: a second move
// would wait for the first one's grace period (it holds the cgroup mutex meanwhile).
func warmCgroupAttach() {
	warmOnce.Do(func() {
		if cgroupwarm.Started() {
			return // the binary's constructor started it, before the Go runtime
		}
		go func() {
			if err := moveIntoOwnCgroup(); err != nil {
				logrus.Debugf("warm up the cgroup move: %v", err)
			}
		}()
	})
}

var warmOnce sync.Once

// warmExec starts the warm-up for an exec where the exec'd process is moved: on cgroup
// v1 (on v2 it is cloned into its cgroup, and a warm-up would hold that clone up).
func warmExec() {
	if !cgroups.IsCgroup2UnifiedMode() {
		warmCgroupAttach()
	}
}

// moveIntoOwnCgroup writes this process's pid to its own cgroup's cgroup.procs, once.
func moveIntoOwnCgroup() error {
	dir, err := ownCgroupDir()
	if err != nil {
		return err
	}
	f, err := cgroups.OpenFile(dir, "cgroup.procs", os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strconv.Itoa(os.Getpid()))
	return err
}

// ownCgroupDir is the directory of the cgroup this process is in: in the unified
// hierarchy on cgroup v2, in one controller's hierarchy on v1.
func ownCgroupDir() (string, error) {
	if cgroups.IsCgroup2UnifiedMode() {
		own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
		if err != nil {
			return "", err
		}
		path, ok := own[""]
		if !ok {
			return "", errors.New("no unified hierarchy in /proc/self/cgroup")
		}
		return filepath.Join("/sys/fs/cgroup", path), nil
	}
	var err error
	for _, controller := range []string{"pids", "memory", "cpu", "devices"} {
		var dir string
		if dir, err = cgroups.GetOwnCgroupPath(controller); err == nil {
			return dir, nil
		}
	}
	return "", err
}
