package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
		// yoroi's staging mounts and an id range.
		_, staged := os.Lstat(r.stagingDir(id))
		held, _ := r.hostIDs().lookup(id)
		_, pendErr := os.Lstat(r.pendingPath(id))
		dir := r.stateDir(id)
		_, statErr := os.Lstat(dir)
		if statErr != nil && staged != nil && held == nil && pendErr != nil {
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

func killAndDestroy(c *libcontainer.Container) error {
	_ = c.Signal(unix.SIGKILL)
	for range 100 {
		if err := c.Signal(unix.Signal(0)); err != nil {
			return c.Destroy()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("container init still running after SIGKILL")
}
