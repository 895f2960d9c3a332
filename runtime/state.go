package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
)

// ContainerState is the JSON of `state` and `list --format json`, field for field runc's.
type ContainerState struct {
	Version        string            `json:"ociVersion"`
	ID             string            `json:"id"`
	InitProcessPid int               `json:"pid"`
	Status         string            `json:"status"`
	Bundle         string            `json:"bundle"`
	Rootfs         string            `json:"rootfs"`
	Created        time.Time         `json:"created"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Owner          string            `json:"owner"`
}

// State returns the state of one container.
func (r *Runtime) State(id string) (*ContainerState, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	st, err := containerState(c)
	if err != nil {
		return nil, err
	}
	st.Annotations = r.withDecisions(id, st.Annotations)
	return st, nil
}

func containerState(c *libcontainer.Container) (*ContainerState, error) {
	status, err := c.Status()
	if err != nil {
		return nil, err
	}
	st, err := c.State()
	if err != nil {
		return nil, err
	}
	pid := st.BaseState.InitProcessPid
	if status == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(st.Config.Labels)
	return &ContainerState{
		Version:        st.BaseState.Config.Version,
		ID:             st.BaseState.ID,
		InitProcessPid: pid,
		Status:         status.String(),
		Bundle:         bundle,
		Rootfs:         st.BaseState.Config.Rootfs,
		Created:        st.BaseState.Created,
		Annotations:    annotations,
	}, nil
}

// List returns the state of every container under the root. Containers whose state
// cannot be read are reported through warn and skipped, as runc does.
func (r *Runtime) List(warn func(error)) ([]ContainerState, error) {
	// A --root that does not exist is an error, as with runc (a mistyped one must not
	// look like an empty one); the default root is created with the first container.
	entries, err := os.ReadDir(r.root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !r.rootExplicit {
			return nil, nil
		}
		return nil, err
	}
	var out []ContainerState
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		c, err := libcontainer.Load(r.root, e.Name())
		if err != nil {
			if !errors.Is(err, libcontainer.ErrNotExist) {
				warn(fmt.Errorf("load container %s: %w", e.Name(), err))
			}
			continue
		}
		cs, err := containerState(c)
		if err != nil {
			warn(fmt.Errorf("state of %s: %w", e.Name(), err))
			continue
		}
		cs.Owner = ownerName(info.Sys().(*syscall.Stat_t).Uid)
		out = append(out, *cs)
	}
	return out, nil
}

func ownerName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "#" + id
}

// Processes returns the host pids of every process in the container's cgroup.
func (r *Runtime) Processes(id string) ([]int, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	return c.Processes()
}
