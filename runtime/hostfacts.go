package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/userns"
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

// hostNamespace is the host's namespace of a kind ("net"): pid 1's, or where pid 1
// cannot be inspected (a non-dumpable init, as on some VMs) yoroi's own, which an engine
// runs in the host's namespaces. yoroi's own is this thread's: once libcontainer has
// started a container, the main thread may be parked in its mount namespace (see
// readMountinfo), and /proc/self shows the main thread's.
func hostNamespace(kind string) (hardening.FileID, bool) {
	if id, ok := fileID("/proc/1/ns/" + kind); ok {
		return id, true
	}
	lockThread()
	defer unlockThread()
	return fileID("/proc/thread-self/ns/" + kind)
}

// hostNamespaces are the host's namespaces by kind (hostNamespace), looked up once per
// process: a create needs them for the facts and again for the posture model, and each
// look is a stat of a namespace link of pid 1 (the kernel checks ptrace access and builds
// the nsfs dentry each time).
var hostNamespaces = sync.OnceValue(func() map[string]hardening.FileID {
	out := map[string]hardening.FileID{}
	for _, kind := range nsFiles {
		if id, ok := hostNamespace(kind); ok {
			out[kind] = id
		}
	}
	return out
})

// gatherFacts collects what the policy needs to know about the host for one spec:
// the host's namespaces, the identity of each namespace path the spec joins, and the
// real path of every bind source and hook.
func gatherFacts(spec *specs.Spec, rootfs string) hardening.HostFacts {
	f := hardening.HostFacts{
		HostNamespaces: map[specs.LinuxNamespaceType]hardening.FileID{},
		NamespacePaths: map[string]hardening.FileID{},
		RealPaths:      map[string]string{},
		UserNS:         hardening.UserNSFacts{Owners: map[string]hardening.UserNS{}},
		Arch:           hostArch,
		MAC:            macFacts(),
	}
	host := hostNamespaces()
	for typ, name := range nsFiles {
		if id, ok := host[name]; ok {
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
			if o, ok := userNSOwner(ns, f.HostNamespaces[specs.UserNamespace]); ok {
				f.UserNS.Owners[ns.Path] = o
			}
		}
	}
	if spec.Root != nil {
		f.Rootfs = rootfsFacts(rootfs)
	}
	for _, m := range spec.Mounts {
		if m.Source != "" && filepath.IsAbs(m.Source) {
			resolve(f.RealPaths, m.Source)
		}
	}
	f.Sources = sourceFacts(spec.Mounts, f.RealPaths)
	if spec.Root != nil {
		f.Destinations = destinations(rootfs, spec.Mounts)
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

// destinations resolves each mount destination inside rootfs as libcontainer will when it
// mounts there (the image's symlinks followed, never out of the root).
func destinations(rootfs string, mounts []specs.Mount) map[string]string {
	out := make(map[string]string, len(mounts))
	for _, m := range mounts {
		out[m.Destination] = containerPath(rootfs, m.Destination)
	}
	return out
}

// containerPath resolves dest's symlinks inside root (as libcontainer does when it mounts
// there): where a mount lands in the container, as its mountinfo shows it.
func containerPath(root, dest string) string {
	p, err := securejoin.SecureJoin(root, dest)
	if err != nil {
		return filepath.Clean(dest)
	}
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join("/", rel)
	}
	return filepath.Clean(dest)
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

var procNSPath = regexp.MustCompile(`^/proc/([0-9]+)/ns/[a-z_]+$`)

// userNSOwner finds the user namespace that owns the namespace at ns.Path (for a user
// namespace path, the namespace itself), and, for /proc/PID/ns/* paths, how to join it
// and its mappings.
func userNSOwner(ns specs.LinuxNamespace, host hardening.FileID) (hardening.UserNS, bool) {
	f, err := os.Open(ns.Path)
	if err != nil {
		return hardening.UserNS{}, false
	}
	defer f.Close()
	owner := f
	if ns.Type != specs.UserNamespace {
		fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
		if err != nil {
			return hardening.UserNS{}, false
		}
		owner = os.NewFile(uintptr(fd), "userns")
		defer owner.Close()
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(owner.Fd()), &st); err != nil {
		return hardening.UserNS{}, false
	}
	o := hardening.UserNS{ID: hardening.FileID{Dev: st.Dev, Ino: st.Ino}}
	o.Host = o.ID == host
	if ns.Type == specs.UserNamespace {
		o.Path = ns.Path // a user namespace path addresses itself
	}
	if m := procNSPath.FindStringSubmatch(ns.Path); m != nil {
		candidate := "/proc/" + m[1] + "/ns/user"
		if id, ok := fileID(candidate); ok && id == o.ID {
			o.Path = candidate
			o.UIDMap = readIDMap("/proc/" + m[1] + "/uid_map")
			o.GIDMap = readIDMap("/proc/" + m[1] + "/gid_map")
		}
	}
	if o.Path != "" && len(o.UIDMap) == 0 && !o.Host {
		// A namespace pinned by a file: read its mappings from inside it.
		if uid, gid, err := userns.Mappings(o.Path); err == nil {
			o.UIDMap, o.GIDMap = specMappings(uid), specMappings(gid)
		}
	}
	return o, true
}

func specMappings(m []userns.IDMap) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, 0, len(m))
	for _, x := range m {
		out = append(out, specs.LinuxIDMapping{ContainerID: x.ContainerID, HostID: x.HostID, Size: x.Size})
	}
	return out
}

func readIDMap(path string) []specs.LinuxIDMapping {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []specs.LinuxIDMapping
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c, h, n uint32
		if _, err := fmt.Sscan(line, &c, &h, &n); err == nil {
			out = append(out, specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: n})
		}
	}
	return out
}

// fsNames maps statfs magic numbers to filesystem names.
var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC:      "ext4",
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	unix.F2FS_SUPER_MAGIC:      "f2fs",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.SQUASHFS_MAGIC:        "squashfs",
	unix.RAMFS_MAGIC:           "ramfs",
	unix.FUSE_SUPER_MAGIC:      "fuse",
	unix.PROC_SUPER_MAGIC:      "proc",
	unix.SYSFS_MAGIC:           "sysfs",
	unix.EROFS_SUPER_MAGIC_V1:  "erofs",
}

// fsName names a statfs magic number ("0x…" for one yoroi does not know).
func fsName(magic int64) string {
	if name, ok := fsNames[magic]; ok {
		return name
	}
	return fmt.Sprintf("0x%x", magic)
}

func rootfsFacts(root string) hardening.RootfsFacts {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return hardening.RootfsFacts{FSType: "unknown (" + err.Error() + ")"}
	}
	name := fsName(st.Type)
	rf := hardening.RootfsFacts{FSType: name}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return rf
	}
	rf.RealPath = real
	rf.NoIdmap = !idmappable(name, real)
	if name == "overlay" && isOverlayRoot(real) {
		rf.OverlayMount = true
		rf.Layers, _ = overlayLayers(real) // none: the rebuild says why
	}
	return rf
}

// populatedDirs returns which of paths is, inside the root filesystem (its symlinks
// resolved within it), a directory with at least one entry.
func populatedDirs(rootfs string, paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		real, err := securejoin.SecureJoin(rootfs, p)
		if err != nil {
			continue
		}
		d, err := os.Open(real)
		if err != nil {
			continue
		}
		names, _ := d.Readdirnames(1)
		d.Close()
		out[p] = len(names) > 0
	}
	return out
}
