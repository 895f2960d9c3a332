package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

func (r *Runtime) stateDir(id string) string { return filepath.Join(r.root, id) }

// Delete removes a container and everything yoroi holds for it. A running container is
// only deleted with force (SIGKILL to all its processes first); a created one is killed.
func (r *Runtime) Delete(id string, force bool) error {
	err := r.delete(id, force)
	if err == nil {
		r.auditBestEffort(audit.Event{Event: "delete", ID: id})
	}
	return err
}

func (r *Runtime) delete(id string, force bool) error {
	if err := validateID(id); err != nil {
		return err
	}
	c, err := libcontainer.Load(r.root, id)
	if err != nil {
		if !errors.Is(err, libcontainer.ErrNotExist) {
			return err
		}
		// An aborted create (killed before libcontainer wrote its state) can leave a
		// cgroup with the container's init in it, a state directory without state.json,
		// yoroi's staging mounts and an id range; a delete killed after libcontainer's
		// destroy, any of yoroi's records (cleanupContainer's order).
		staged := slices.ContainsFunc(r.stagingDirs(id), func(d string) bool {
			_, err := os.Lstat(d)
			return err == nil
		})
		held, _ := r.hostIDs().lookup(id)
		_, pendErr := os.Lstat(r.pendingPath(id))
		dir := r.stateDir(id)
		_, statErr := os.Lstat(dir)
		if statErr != nil && !staged && held == nil && pendErr != nil && !r.hasRecords(id) {
			if force {
				return nil
			}
			return fmt.Errorf("container %q: %w", id, err)
		}
		if (held != nil && held.alive() || pendErr == nil) && !force {
			return fmt.Errorf("container %q is being created or its create was aborted (use --force)", id)
		}
		if _, err := r.abortPending(id); err != nil {
			return fmt.Errorf("abort the create of %s: %w", id, err)
		}
		if statErr == nil {
			if rmErr := os.RemoveAll(dir); rmErr != nil {
				return fmt.Errorf("remove %s: %w", dir, rmErr)
			}
		}
		return r.cleanupContainer(id)
	}
	var derr error
	if force {
		derr = killAndDestroy(c)
	} else {
		s, err := c.Status()
		if err != nil {
			return err
		}
		switch s {
		case libcontainer.Stopped:
			derr = c.Destroy()
		case libcontainer.Created:
			derr = killAndDestroy(c)
		default:
			return fmt.Errorf("cannot delete container %q that is %s (use --force)", id, s)
		}
	}
	if derr != nil {
		return derr
	}
	return r.cleanupContainer(id)
}

// hasRecords reports whether yoroi still keeps a record of container id beside
// libcontainer's state: its monitor's socket or its decisions.
func (r *Runtime) hasRecords(id string) bool {
	for _, p := range []string{r.monitorSocket(id), r.decisionsPath(id)} {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}

// killWait is how long a killed container's init may take to die before delete gives up.
const killWait = 10 * time.Second

// killAndDestroy kills the container's processes and destroys it once its init is gone.
// The wait is on a pidfd of the init, so it ends when the init does: a look every 100 ms
// (runc's, and where there is no pidfd still this) made a delete of a created or running
// container take 110 ms here, however quickly its init died.
func killAndDestroy(c *libcontainer.Container) error {
	w := watchInit(c)
	defer w.close()
	_ = c.Signal(unix.SIGKILL)
	deadline := time.Now().Add(killWait)
	exited := false
	for {
		if err := c.Signal(unix.Signal(0)); err != nil {
			return c.Destroy()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("container init still running after SIGKILL")
		}
		if exited {
			// The watch saw the exit while libcontainer still sees the init: an
			// exited watch stays ready, so this is looked at without it.
			time.Sleep(min(left, 10*time.Millisecond))
			continue
		}
		exited = w.pause(min(left, 100*time.Millisecond))
	}
}

// watchInit watches the container's init process, as recorded in its state.
func watchInit(c *libcontainer.Container) *exitWatch {
	st, err := c.State()
	if err != nil || st.InitProcessPid <= 0 {
		return &exitWatch{fd: -1, exited: err == nil}
	}
	return watchExit(st.InitProcessPid, strconv.FormatUint(st.InitProcessStartTime, 10))
}
