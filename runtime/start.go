package runtime

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// Start runs the user process of a created container.
func (r *Runtime) Start(id, notifySocketHost string) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	status, err := c.Status()
	if err != nil {
		return err
	}
	switch status {
	case libcontainer.Created:
	case libcontainer.Stopped:
		return errors.New("cannot start a container that has stopped")
	case libcontainer.Running:
		return errors.New("cannot start an already running container")
	default:
		return fmt.Errorf("cannot start a container in the %s state", status)
	}
	notify := newNotifySocket(r.stateDir(id), notifySocketHost)
	if notify != nil {
		if err := notify.bindSocket(); err != nil {
			return err
		}
	}
	if err := c.Exec(); err != nil {
		return err
	}
	r.auditBestEffort(audit.Event{Event: "start", ID: id})
	st, err := c.State()
	if err != nil {
		return err
	}
	cfg := c.Config()
	if err := r.verifyPosture(id, &cfg, nil, st.InitProcessPid, nil, nil); err != nil {
		// Fail closed: the container does not run on as something the policy did not
		// promise.
		r.removeFailed(c, id)
		return err
	}
	if notify != nil {
		return notify.run(st.InitProcessPid)
	}
	return nil
}

// removeFailed stops and removes a container that must not run, and releases what yoroi
// holds for it.
func (r *Runtime) removeFailed(c *libcontainer.Container, id string) {
	_ = c.Signal(unix.SIGKILL)
	if err := c.Destroy(); err != nil {
		logrus.Warn(err)
	}
	if err := r.cleanupContainer(id); err != nil {
		logrus.Warn(err)
	}
}
