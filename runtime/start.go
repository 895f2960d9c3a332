package runtime

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
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
	r.auditBestEffort(auditEvent{Event: "start", ID: id})
	if notify != nil {
		st, err := c.State()
		if err != nil {
			return err
		}
		return notify.run(st.InitProcessPid)
	}
	return nil
}
