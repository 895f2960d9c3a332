package runtime

import (
	"path/filepath"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// nsFiles maps OCI namespace types to their /proc/PID/ns names.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// gatherFacts collects what the policy needs to know about the host for one spec:
// the host's namespaces, the identity of each namespace path the spec joins, and the
// real path of every bind source and hook.
func gatherFacts(spec *specs.Spec) hardening.HostFacts {
	f := hardening.HostFacts{
		HostNamespaces: map[specs.LinuxNamespaceType]hardening.FileID{},
		NamespacePaths: map[string]hardening.FileID{},
		RealPaths:      map[string]string{},
	}
	for typ, name := range nsFiles {
		if id, ok := fileID(filepath.Join("/proc/1/ns", name)); ok {
			f.HostNamespaces[typ] = id
		}
	}
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Path == "" {
				continue
			}
			if id, ok := fileID(ns.Path); ok {
				f.NamespacePaths[ns.Path] = id
			}
		}
	}
	for _, m := range spec.Mounts {
		if m.Source != "" && filepath.IsAbs(m.Source) {
			resolve(f.RealPaths, m.Source)
		}
	}
	if h := spec.Hooks; h != nil {
		for _, list := range [][]specs.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer, h.StartContainer, h.Poststart, h.Poststop} { //nolint:staticcheck // prestart still runs.
			for _, hk := range list {
				resolve(f.RealPaths, hk.Path)
			}
		}
	}
	return f
}

func resolve(into map[string]string, p string) {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		into[p] = real
	}
}

func fileID(p string) (hardening.FileID, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return hardening.FileID{}, false
	}
	return hardening.FileID{Dev: st.Dev, Ino: st.Ino}, true
}
