package runtime

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// CheckItem is one line of `yoroi check`.
type CheckItem struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Required items make yoroi refuse containers when they fail.
	Required bool `json:"required"`
}

// Check reports whether this host can run yoroi containers under the default policy.
func (r *Runtime) Check() ([]CheckItem, error) {
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	p := &cfg.Default
	f := macFacts()
	var items []CheckItem
	add := func(name string, ok, required bool, format string, args ...any) {
		items = append(items, CheckItem{Name: name, OK: ok, Required: required, Detail: fmt.Sprintf(format, args...)})
	}
	lsms := "unknown (securityfs not mounted at /sys/kernel/security)"
	if len(f.LSMs) > 0 {
		lsms = strings.Join(f.LSMs, ",")
	}
	add("lsm", true, false, "%s", lsms)
	add("apparmor", f.AppArmorEnabled, false, "%s", map[bool]string{true: fmt.Sprintf("enabled, %d profiles loaded", len(f.AppArmorProfiles)), false: "not enabled"}[f.AppArmorEnabled])
	se := "disabled"
	if f.SELinuxEnabled {
		se = map[bool]string{true: "enforcing", false: "permissive (does not count)"}[f.SELinuxEnforcing]
	}
	add("selinux", f.SELinuxEnforcing, false, "%s", se)
	add("landlock", f.LandlockABI >= p.MAC.LandlockMinABI, false, "ABI %d (at least %d required)", f.LandlockABI, p.MAC.LandlockMinABI)
	active := hardening.InForce(p, f)
	add("mac", len(active) > 0, true, "accepted %v, in force %v", p.MAC.Accept, active)

	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 30, Size: 65536}}
	if ns, err := newUserNS(m, m); err != nil {
		add("userns", false, true, "cannot create a user namespace: %v", err)
	} else {
		defer ns.Close()
		add("userns", true, true, "user namespaces with a %d-id range", p.Userns.RangeSize)
		// Images live on disk (ext4, xfs, btrfs, overlay); the state root is usually a
		// tmpfs, which only Linux 6.3 and later can id-map: a root filesystem or volume on
		// it is refused, which is worth knowing but does not stop the host.
		stateErr := probeIdmap(r.root, ns)
		diskErr := probeIdmap(idmapProbeDisk, ns)
		stateFS, diskFS := rootfsFacts(r.root).FSType, rootfsFacts(idmapProbeDisk).FSType
		switch {
		case diskErr != nil:
			add("idmap", false, true, "id-mapped mounts fail on %s's filesystem (%s): %v", idmapProbeDisk, diskFS, diskErr)
		case stateErr != nil:
			add("idmap", true, true, "id-mapped mounts work on %s's filesystem (%s), not on the state root's (%s: %v): a root filesystem or volume there is refused", idmapProbeDisk, diskFS, stateFS, stateErr)
		default:
			add("idmap", true, true, "id-mapped mounts work on the state root's filesystem (%s) and on %s's (%s)", stateFS, idmapProbeDisk, diskFS)
		}
	}
	if seccomp.Enabled {
		major, minor, patch := seccomp.Version()
		add("seccomp", true, true, "libseccomp %d.%d.%d, actions %s", major, minor, patch, strings.Join(seccomp.KnownActions(), ","))
	} else {
		add("seccomp", false, true, "yoroi was built without -tags seccomp")
	}
	add("cgroup", true, false, "%s", cgroupMode())
	sealed, how := exeSealing(r.root)
	add("exe-seal", sealed, false, "%s", how)
	add("statedir", true, false, "%s", r.stateDirsReport())
	return items, nil
}

// stateDirsReport names the configured host state directory and the other registered
// ones that still hold containers' reservations (state_dir changed while they ran).
func (r *Runtime) stateDirsReport() string {
	held, err := r.hostIDs().heldElsewhere()
	if err != nil {
		return fmt.Sprintf("%s; the other directories cannot be read: %v", r.hostStateDir(), err)
	}
	if len(held) == 0 {
		return r.hostStateDir() + "; no container's ids are reserved in another"
	}
	dirs := slices.Sorted(maps.Keys(held))
	parts := make([]string, len(dirs))
	for i, d := range dirs {
		parts[i] = fmt.Sprintf("%s (%d)", d, held[d])
	}
	return fmt.Sprintf("%s; containers created under an earlier runtime.state_dir still hold ids in %s: new ranges stay clear of them", r.hostStateDir(), strings.Join(parts, ", "))
}

// idmapProbeDisk is a directory on the host's disk, where images are kept.
const idmapProbeDisk = "/var/tmp"

// probeIdmap id-maps a directory created in parent onto another with the user namespace
// ns.
func probeIdmap(parent string, ns *os.File) error {
	dir, err := probeDir(parent)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, d := range []string{src, dst} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := idmapBind(src, dst, ns); err != nil {
		return err
	}
	return unix.Unmount(dst, unix.MNT_DETACH)
}

// probeDir makes a directory of check's own in parent (created if need be), which the
// caller removes.
func probeDir(parent string) (string, error) {
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, ".yoroi-check-")
}

func cgroupMode() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return "unknown: " + err.Error()
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2 (unified)"
	}
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v1 hybrid (cgroup2 at /sys/fs/cgroup/unified)"
	}
	return "v1"
}
