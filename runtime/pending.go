package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// A pending record is written before libcontainer creates anything and removed once
// libcontainer's own state exists. If yoroi is killed in between (the container's cgroup
// exists, its init may be running, state.json does not), `delete --force` uses the record
// to finish the job: libcontainer alone cannot see such a container.
type pendingRecord struct {
	Cgroups *cgroups.Cgroup `json:"cgroups"`
}

func (r *Runtime) pendingPath(id string) string {
	return filepath.Join(r.root, yoroiDir, "pending", id+".json")
}

func (r *Runtime) writePending(id string, config *configs.Config) error {
	path := r.pendingPath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(pendingRecord{Cgroups: config.Cgroups})
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func (r *Runtime) clearPending(id string) {
	_ = os.Remove(r.pendingPath(id))
}

// abortPending kills whatever runs in the cgroup of an aborted create and removes the
// cgroup. It reports whether there was a record.
func (r *Runtime) abortPending(id string) (bool, error) {
	data, err := os.ReadFile(r.pendingPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	var rec pendingRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Cgroups == nil {
		return true, fmt.Errorf("pending record of %s: %v", id, err)
	}
	m, err := manager.New(rec.Cgroups)
	if err != nil {
		return true, err
	}
	// Kill until the cgroup is empty (a process may be forking while we look).
	for i := 0; i < 50; i++ {
		pids, err := m.GetAllPids()
		if err != nil || len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Destroy(); err != nil {
		return true, err
	}
	r.clearPending(id)
	return true, nil
}
