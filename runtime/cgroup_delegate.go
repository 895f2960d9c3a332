package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// delegatedFiles are the files of a cgroup its delegate owns beside the directory, as
// systemd's Delegate= hands them over: those that move processes into it and its
// sub-cgroups (v1 tasks and cgroup.procs, v2 cgroup.procs and cgroup.threads) and that
// enable controllers for them (v2 cgroup.subtree_control). The cgroup's own limits stay
// the host's: the container cannot raise them.
var delegatedFiles = []string{"cgroup.procs", "tasks", "cgroup.threads", "cgroup.subtree_control"}

// writableCgroup reports whether config mounts a cgroup file system writable (which the
// policy allowed: mounts.allow_writable_cgroup).
func writableCgroup(config *configs.Config) bool {
	return slices.ContainsFunc(config.Mounts, func(m *configs.Mount) bool {
		return (m.Device == "cgroup" || m.Device == "cgroup2") && m.Flags&unix.MS_RDONLY == 0
	})
}

// delegateCgroup hands container c's cgroup to the container's root user when c mounts
// its cgroup writable in a user namespace: without it, the container's root is nobody
// to the cgroup file system and its writable mount is of no use. It runs once the
// container's init is in its cgroup, before the workload starts.
func delegateCgroup(c *libcontainer.Container) error {
	config := c.Config()
	if !writableCgroup(&config) || !config.Namespaces.Contains(configs.NEWUSER) {
		return nil
	}
	uid, err := config.HostRootUID()
	if err != nil {
		return err
	}
	gid, err := config.HostRootGID()
	if err != nil {
		return err
	}
	state, err := c.State()
	if err != nil {
		return err
	}
	var dirs []string
	for _, dir := range state.CgroupPaths {
		if dir != "" && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	slices.Sort(dirs)
	for _, dir := range dirs {
		for _, name := range append([]string{""}, delegatedFiles...) {
			p := filepath.Join(dir, name)
			if err := os.Lchown(p, uid, gid); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delegate cgroup %s to the container's root: %w", p, err)
			}
		}
	}
	return nil
}
