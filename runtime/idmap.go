package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/userns"
)

// newUserNS returns an fd of a new user namespace with the given mappings, for
// mount_setattr(MOUNT_ATTR_IDMAP).
func newUserNS(uid, gid []specs.LinuxIDMapping) (*os.File, error) {
	f, err := userns.New(nsIDMap(uid), nsIDMap(gid))
	if err != nil {
		return nil, fmt.Errorf("user namespace for id-mapped mounts: %w", err)
	}
	return f, nil
}

func nsIDMap(m []specs.LinuxIDMapping) []userns.IDMap {
	out := make([]userns.IDMap, len(m))
	for i, x := range m {
		out[i] = userns.IDMap{ContainerID: x.ContainerID, HostID: x.HostID, Size: x.Size}
	}
	return out
}

// idmapBind mounts an id-mapped clone of src (not recursive) on dst.
func idmapBind(src, dst string, userns *os.File) error {
	fd, err := idmapClone(src, userns)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s: %w", dst, err)
	}
	return nil
}

// idmapClone returns a detached, id-mapped clone of the mount at src (not recursive).
func idmapClone(src string, userns *os.File) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", src, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("id-map %s: %w", src, err)
	}
	return fd, nil
}

// stagingDir is where a container's id-mapped rootfs (and layers) are mounted: in yoroi's
// host-wide state directory, which the container's unprivileged root can walk to
// (engines keep their state roots private, e.g. /run/containerd/runc is 0700).
func (r *Runtime) stagingDir(id string) string {
	return stagingDirIn(r.hostStateDir(), containerKey(r.root, id))
}

// stagingDirIn is the staging directory of the container named key (containerKey) in
// host state directory dir.
func stagingDirIn(dir, key string) string { return filepath.Join(dir, "mnt", key) }

// stagedRoot is where a container's id-mapped root filesystem is mounted.
func (r *Runtime) stagedRoot(id string) string { return filepath.Join(r.stagingDir(id), "rootfs") }

// stagedVolume is where the i-th mount's overlay volume is rebuilt, id-mapped.
func (r *Runtime) stagedVolume(id string, i int) string {
	return filepath.Join(r.stagingDir(id), "volumes", strconv.Itoa(i), "merged")
}

// stagingRoot holds the staging directories of every state root's containers, each named
// by its containerKey.
func (r *Runtime) stagingRoot() string { return filepath.Join(r.hostStateDir(), "mnt") }

// prepareRootfs id-maps rootfs into the container's staging directory and returns the
// path to use as root.path: an id-mapped bind of a plain directory, or for an overlay
// mount, a read-only overlay rebuilt from id-mapped mounts of its layers (as the host
// facts read them: nil if they could not be).
func (r *Runtime) prepareRootfs(id, rootfs, kind string, layers []string, uid, gid []specs.LinuxIDMapping, mounts []specs.Mount) (_ string, retErr error) {
	stage := r.stagingDir(id)
	defer func() {
		if retErr != nil {
			_ = r.cleanupStaging(id)
		}
	}()
	userns, err := newUserNS(uid, gid)
	if err != nil {
		return "", err
	}
	defer userns.Close()
	target := r.stagedRoot(id)
	if err := mkdirTraversable(target); err != nil {
		return "", err
	}
	switch kind {
	case "bind":
		return target, idmapBind(rootfs, target, userns)
	case "overlay":
		// The rebuilt overlay is read-only, so libcontainer cannot create mount points
		// in it: create them now in the engine's (writable) overlay, whose upper layer
		// becomes the topmost layer of the rebuilt one.
		if err := ensureMountpoints(rootfs, mounts); err != nil {
			return "", err
		}
		if layers == nil {
			var err error
			if layers, err = overlayLayers(rootfs); err != nil {
				return "", err
			}
		}
		return target, idmapOverlay(layers, stage, target, userns)
	default:
		return "", fmt.Errorf("unknown rootfs id-mapping %q", kind)
	}
}

// isOverlayVolume: m is a volume that is an overlay mount, to be id-mapped (which the
// runtime does by rebuilding it).
func isOverlayVolume(m specs.Mount, sources map[string]hardening.SourceFacts) bool {
	src := sources[m.Source]
	return (src.OverlayMount || src.InOverlayMount != "") && (len(m.UIDMappings) > 0 || slices.Contains(m.Options, "idmap"))
}

// overlayVolumeSource is the overlay mount to rebuild for the volume m, and the directory
// of it m binds ("" for its root): a subPath of an image volume lies within one.
func overlayVolumeSource(m specs.Mount, src hardening.SourceFacts) (overlay, sub string, err error) {
	if src.InOverlayMount == "" {
		return m.Source, "", nil
	}
	real, err := filepath.EvalSymlinks(m.Source)
	if err != nil {
		return "", "", err
	}
	sub, err = filepath.Rel(src.InOverlayMount, real)
	if err != nil || sub == ".." || strings.HasPrefix(sub, "../") {
		return "", "", fmt.Errorf("%s is not within the overlay mount %s", m.Source, src.InOverlayMount)
	}
	return src.InOverlayMount, sub, nil
}

// prepareVolumes rebuilds each volume that is an overlay mount (containerd's image
// volumes), which cannot be id-mapped itself, as a read-only overlay of id-mapped mounts
// of its layers in the container's staging directory, and points the mount at it, mapped
// already. The other volumes are id-mapped by libcontainer.
func (r *Runtime) prepareVolumes(id string, plan *hardening.Plan, sources map[string]hardening.SourceFacts, uid, gid []specs.LinuxIDMapping) error {
	mounts := plan.Spec.Mounts
	var userns *os.File
	defer func() {
		if userns != nil {
			userns.Close()
		}
	}()
	for i := range mounts {
		m := &mounts[i]
		if !isOverlayVolume(*m, sources) {
			continue
		}
		if userns == nil {
			var err error
			if userns, err = newUserNS(uid, gid); err != nil {
				return err
			}
		}
		target := r.stagedVolume(id, i)
		dir := filepath.Dir(target)
		if err := mkdirTraversable(target); err != nil {
			return err
		}
		overlay, sub, err := overlayVolumeSource(*m, sources[m.Source])
		if err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		layers, err := overlayLayers(overlay)
		if err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		if err := idmapOverlay(layers, dir, target, userns); err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		why := "the overlay volume at " + m.Destination + ", rebuilt from id-mapped layers"
		if sub != "" {
			why = fmt.Sprintf("%s (its directory %s of the overlay mount %s)", why, sub, overlay)
		}
		plan.StageVolume("rootfs.idmap", i, filepath.Join(target, sub), why)
	}
	return nil
}

// idmapOverlay mounts on target, read-only, an overlay rebuilt from id-mapped mounts of
// layers, an overlay mount's (overlayLayers; one layer needs no overlay: it is mapped
// directly). dir is the staging directory the layers are mounted on while the overlay is
// assembled, on kernels that take no detached layer (assembleOverlay).
func idmapOverlay(layers []string, dir, target string, userns *os.File) error {
	if len(layers) == 1 {
		return idmapBind(layers[0], target, userns)
	}
	fd, err := assembleOverlay(layers, dir, userns)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move overlay to %s: %w", target, err)
	}
	return nil
}

// assembleOverlay returns a detached, read-only overlay of id-mapped clones of layers
// (topmost first): handed to overlayfs as descriptors of detached mounts where the kernel
// takes them (Linux 6.15 or so), else assembled in a mount namespace of its own.
func assembleOverlay(layers []string, dir string, userns *os.File) (int, error) {
	fd, err := assembleDetached(layers, userns)
	if !errors.Is(err, errNoDetachedLayers) {
		return fd, err
	}
	return assembleInNamespace(layers, dir, userns)
}

// errNoDetachedLayers: this kernel's overlayfs does not take detached layers by
// descriptor (what overlayfs or fsconfig said is wrapped with it).
var errNoDetachedLayers = errors.New("overlay: detached layers are not supported")

// assembleDetached gives overlayfs each layer by descriptor ("lowerdir+"): a directory of
// an id-mapped, detached clone of the mount holding it, one clone per mount however many
// layers it holds; overlayfs clones each layer's directory privately, so the overlay sees
// the layers and nothing else of those mounts, and nothing is mounted anywhere until the
// overlay itself is. The clones stay open until the overlay is created: closing one
// dissolves the detached mount, which overlayfs then fails to clone ("failed to clone
// lowerpath"). Dissolving one waits for an RCU grace period: one per mount, not one per
// layer (a clone per layer made 21 waits of a 20-layer start). Older kernels refuse a
// layer by descriptor, each its own way (6.1: EOPNOTSUPP; 6.12: EBADF, fsconfig takes no
// O_PATH descriptor; until about 6.15 overlayfs cannot clone a detached mount: EINVAL):
// any refusal by fsconfig is errNoDetachedLayers.
func assembleDetached(layers []string, userns *os.File) (int, error) {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	var clones layerClones
	defer clones.close()
	for _, l := range layers {
		fd, err := clones.layer(l, userns)
		if err != nil {
			return -1, fmt.Errorf("layer %s: %w", l, err)
		}
		if err := unix.FsconfigSetFd(fsfd, "lowerdir+", fd); err != nil {
			return -1, fmt.Errorf("%w: layer %s: %w", errNoDetachedLayers, l, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("%w: create overlay of %d id-mapped layers: %w", errNoDetachedLayers, len(layers), err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("fsmount overlay: %w", err)
	}
	return mfd, nil
}

// layerClones are the id-mapped clones of the mounts holding an overlay's layers, by the
// path of each mount's root, and the descriptors of the layers' directories in them.
type layerClones struct {
	roots  map[string]int
	layers []int
}

// layer returns a descriptor (O_PATH) of the directory l (a real path: no symlink) in the
// id-mapped clone of the mount holding it, cloning that mount on first use.
func (c *layerClones) layer(l string, userns *os.File) (int, error) {
	root, err := mountRootOf(l)
	if err != nil {
		return -1, err
	}
	tree, ok := c.roots[root]
	if !ok {
		if tree, err = idmapClone(root, userns); err != nil {
			return -1, err
		}
		if c.roots == nil {
			c.roots = map[string]int{}
		}
		c.roots[root] = tree
	}
	rel, err := filepath.Rel(root, l)
	if err != nil {
		return -1, err
	}
	// Within the clone only: no symlink, no other mount, nothing above its root.
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(tree, rel, &how)
	if err != nil {
		return -1, fmt.Errorf("open %s in the id-mapped clone of %s: %w", rel, root, err)
	}
	c.layers = append(c.layers, fd)
	return fd, nil
}

// close closes the layers' descriptors, then the clones (each dissolving its mount).
func (c *layerClones) close() {
	for _, fd := range c.layers {
		unix.Close(fd)
	}
	for _, fd := range c.roots {
		unix.Close(fd)
	}
}

// mountRootOf returns the root of the mount holding the directory dir: dir itself or the
// nearest directory above it that is the root of a mount.
func mountRootOf(dir string) (string, error) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		root, err := isMountRoot(d)
		if err != nil {
			return "", err
		}
		if root || d == "/" {
			return d, nil
		}
	}
}

// assembleInNamespace returns the overlay assembled in a mount namespace of its own, for
// kernels whose overlayfs takes layers only as paths of mounts in the caller's namespace:
// the clones are mounted there, on a tmpfs over dir, and the namespace goes away with the
// thread, leaving them to the overlay that holds them. The host's mount table sees one
// mount per container, not one per layer: mounting and unmounting 20 layers in it took 40
// changes of the host's table (each taking the namespace lock, the unmounts an RCU grace
// period each) and every container's start copied them all.
func assembleInNamespace(layers []string, dir string, userns *os.File) (int, error) {
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread leaves the host's mount namespace and working
		// directory, so it ends with this goroutine.
		lockThread()
		fd, err := assembleOverlayHere(layers, dir, userns)
		done <- result{fd, err}
	}()
	r := <-done
	return r.fd, r.err
}

// assembleOverlayHere runs on a thread of its own (see assembleInNamespace).
func assembleOverlayHere(layers []string, dir string, userns *os.File) (int, error) {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return -1, fmt.Errorf("a mount namespace to assemble the overlay in: %w", err)
	}
	// Nothing mounted here propagates to the host's peers.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return -1, fmt.Errorf("make the overlay's mount namespace private: %w", err)
	}
	if err := mkdirTraversable(dir); err != nil {
		return -1, err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0711"); err != nil {
		return -1, fmt.Errorf("tmpfs for the overlay's layers: %w", err)
	}
	if err := unix.Chdir(dir); err != nil {
		return -1, err
	}
	// Short relative names: the lowerdir option stays far under fsconfig's limit of a
	// page, whatever the layers' own paths.
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = strconv.Itoa(i)
		if err := unix.Mkdir(names[i], 0o711); err != nil {
			return -1, err
		}
		if err := idmapBind(l, names[i], userns); err != nil {
			return -1, fmt.Errorf("layer %s: %w", l, err)
		}
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "lowerdir", strings.Join(names, ":")); err != nil {
		return -1, fmt.Errorf("overlay lowerdir (%d id-mapped layers): %w", len(layers), err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("create overlay of %d id-mapped layers: %w", len(layers), err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("fsmount overlay: %w", err)
	}
	return mfd, nil
}

// mountOverlay mounts an overlay of lowers (topmost first) on target, read-only unless
// given an upper and work directory: with the new mount API, one "lowerdir+" per layer (no
// size limit on the layers), or on kernels before 6.8, which lack "lowerdir+", with
// mount(2), whose option string may take a page (fsconfig's strings stop at 255 bytes:
// three layers of an engine's long container ids are already more).
func mountOverlay(lowers []string, upper, work, target string) error {
	err := mountOverlayEach(lowers, upper, work, target)
	if !errors.Is(err, errNoLowerdirPlus) {
		return err
	}
	data := "lowerdir=" + strings.Join(lowers, ":")
	var flags uintptr = unix.MS_RDONLY
	if upper != "" {
		data += ",upperdir=" + upper + ",workdir=" + work
		flags = 0
	}
	if err := unix.Mount("overlay", target, "overlay", flags, data); err != nil {
		return fmt.Errorf("mount overlay (%d layers) on %s: %w", len(lowers), target, err)
	}
	return nil
}

var errNoLowerdirPlus = errors.New("overlay: lowerdir+ is not supported")

// mountOverlayEach mounts the overlay with the new mount API and a "lowerdir+" per layer.
func mountOverlayEach(lowers []string, upper, work, target string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, l := range lowers {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", l); err != nil {
			// 6.5 to 6.7 parse options as they come, and do not know this one.
			if errors.Is(err, unix.EINVAL) {
				return errNoLowerdirPlus
			}
			return fmt.Errorf("overlay lowerdir+ %s: %w", l, err)
		}
	}
	attr := unix.MOUNT_ATTR_RDONLY
	if upper != "" {
		attr = 0
		if err := unix.FsconfigSetString(fsfd, "upperdir", upper); err != nil {
			return fmt.Errorf("overlay upperdir: %w", err)
		}
		if err := unix.FsconfigSetString(fsfd, "workdir", work); err != nil {
			return fmt.Errorf("overlay workdir: %w", err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		// Before 6.8 (overlay's legacy option parsing) an unknown option fails here.
		if errors.Is(err, unix.EINVAL) {
			return errNoLowerdirPlus
		}
		return fmt.Errorf("create overlay: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move overlay to %s: %w", target, err)
	}
	return nil
}

// overlayLayers reads the layers of the overlay mounted at dir: its upper directory
// (topmost) and lower directories, as absolute paths.
func overlayLayers(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	m, err := findMount(real)
	if err != nil {
		return nil, err
	}
	if m == nil || m.FSType != "overlay" {
		return nil, fmt.Errorf("%s is not an overlay mount", dir)
	}
	var upper string
	var lowers []string
	for _, opt := range splitEscaped(m.VFSOptions, ',') {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "upperdir":
			upper = unescapeOpt(v)
		case "lowerdir":
			for _, l := range splitEscaped(v, ':') {
				lowers = append(lowers, unescapeOpt(l))
			}
		case "lowerdir+":
			lowers = append(lowers, unescapeOpt(v))
		case "datadir+":
			return nil, errors.New("overlay with data-only layers is not supported")
		}
	}
	if len(lowers) == 0 {
		return nil, fmt.Errorf("overlay at %s has no lower directories", dir)
	}
	layers := lowers
	if upper != "" {
		layers = append([]string{upper}, lowers...)
		// Docker's overlay2 passes short relative links (l/ABC) when the mount data would
		// not fit a page; they are relative to its storage root, two levels above upper.
		base := filepath.Dir(filepath.Dir(upper))
		for i, l := range layers {
			if !filepath.IsAbs(l) {
				layers[i] = filepath.Join(base, l)
			}
		}
	}
	for i, l := range layers {
		if !filepath.IsAbs(l) {
			return nil, fmt.Errorf("overlay layer %q is relative", l)
		}
		if real, err := filepath.EvalSymlinks(l); err == nil {
			layers[i] = real
		}
	}
	return layers, nil
}

// findMount returns the topmost mount at exactly path, or nil. moby's mountinfo reads
// /proc/thread-self on a locked thread, not /proc/self: libcontainer's mount-source
// goroutine setns()es its locked OS thread into the container's mount namespace, and when
// that thread is Go's main thread it is parked there rather than destroyed, so the
// thread-group leader's view can be the container's. Every other thread is in the host's.
func findMount(path string) (*mountinfo.Info, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil || len(mounts) == 0 {
		return nil, err
	}
	return mounts[len(mounts)-1], nil
}

// isOverlayRoot tells whether path, on an overlay (statfs says so), is the root of its
// mount: one statx, where the mount table costs a read of every mount of the host (the
// kernel formats each line, paths and options, about 0.2 ms here for 40 mounts). Before
// Linux 5.8, which does not tell mount roots, the mount table answers.
func isOverlayRoot(path string) bool {
	if root, err := isMountRoot(path); err == nil {
		return root
	}
	m, err := findMount(path)
	return err == nil && m != nil && m.FSType == "overlay"
}

// containingMount is the mount that holds path: the deepest mount point above it.
func containingMount(path string) (*mountinfo.Info, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil || len(mounts) == 0 {
		return nil, err
	}
	deepest := mounts[0]
	for _, m := range mounts[1:] {
		if len(m.Mountpoint) >= len(deepest.Mountpoint) {
			deepest = m
		}
	}
	return deepest, nil
}

// splitEscaped splits on sep unless it is preceded by a backslash.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescapeOpt undoes mountinfo's octal escapes (\040) and backslash escapes.
func unescapeOpt(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

// cleanupStaging unmounts everything under a container's staging directory and removes
// it. Directories are removed one by one (never recursively), so nothing below a mount
// that is still there can be deleted.
func (r *Runtime) cleanupStaging(id string) error {
	return r.cleanupStagingDir(r.stagingDir(id))
}

// stagingDirs are where a container's id-mapped rootfs may be staged: in the configured
// host state directory, or in another registered one that was configured when it was
// created.
func (r *Runtime) stagingDirs(id string) []string {
	var out []string
	for _, d := range r.hostStateDirs() {
		out = append(out, stagingDirIn(d, containerKey(r.root, id)))
	}
	return out
}

func (r *Runtime) cleanupStagingDir(stage string) error {
	if _, err := os.Lstat(stage); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var dirs []string
	if err := unmountBelow(stage, &dirs); err != nil {
		return err
	}
	// Then the staging directories, deepest first: rmdir only, so that anything left
	// in them (which should not be) stays and is reported.
	slices.SortStableFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		if err := removeDir(d); err != nil {
			return fmt.Errorf("remove staging %s: %w", d, err)
		}
	}
	return nil
}

// unmountBelow takes down every mount at or below dir, from the top, without reading the
// host's mount table (which grows with every container on the host, and whose reading
// cost most of a delete): a directory that is the root of a mount is unmounted (lazily,
// with whatever is mounted under it) until it is not, and only then walked into, so the
// walk never enters a container's files. It collects the directories it walked.
func unmountBelow(dir string, dirs *[]string) error {
	for i := 0; ; i++ {
		root, err := isMountRoot(dir)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		if !root {
			break
		}
		if i == 64 {
			return fmt.Errorf("unmount %s: still a mount point", dir)
		}
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	*dirs = append(*dirs, dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() { // not a symlink: ReadDir does not follow them
			if err := unmountBelow(filepath.Join(dir, e.Name()), dirs); err != nil {
				return err
			}
		}
	}
	return nil
}

// isMountRoot reports whether path (not followed) is the root of a mount (statx,
// Linux 5.8+; id-mapped mounts need 5.12).
func isMountRoot(path string) (bool, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_STATX_DONT_SYNC, 0, &st); err != nil {
		return false, err
	}
	if st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, fmt.Errorf("statx of %s: the kernel does not tell mount roots (Linux 5.8+)", path)
	}
	return st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// removeDir removes an empty directory. The container's mount namespace pins the rootfs
// directory as a mount point until the kernel has torn it down, which can trail the
// container's exit by a moment: EBUSY is retried for up to two seconds.
func removeDir(d string) error {
	for i := 0; ; i++ {
		err := os.Remove(d)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == 100 {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// makeTraversable creates the staging directory and makes sure the container's root (an
// unprivileged host uid) can walk to it: yoroi's own directories get mode 0711, and an
// ancestor of the host state directory that is not searchable by others is an error that
// says so.
func (r *Runtime) makeTraversable(stage string) error {
	state := r.hostStateDir()
	for _, d := range []string{state, r.stagingRoot(), stage} {
		if err := mkdirTraversable(d); err != nil {
			return err
		}
	}
	for d := filepath.Dir(state); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s (mode %v), above yoroi's state directory %s, is not searchable by the container's unprivileged root: chmod o+x %s or set runtime.state_dir", d, st.Mode().Perm(), state, d)
		}
		if d == "/" {
			return nil
		}
	}
}

// mkdirTraversable creates dir (and parents) with mode 0711: the container's root, an
// unprivileged host uid, must be able to walk to its rootfs.
func mkdirTraversable(dir string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	return os.Chmod(dir, 0o711)
}

// ensureMountpoints creates, inside root and never through a symlink out of it, the
// directory (or, for a bind mount of a file, the empty file) each mount needs.
func ensureMountpoints(root string, mounts []specs.Mount) error {
	rootDir, err := os.Open(root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	for _, m := range mounts {
		dst := filepath.Clean("/" + m.Destination)
		if dst == "/" {
			continue
		}
		file := false
		if hardening.IsBind(m) {
			if st, err := os.Stat(m.Source); err == nil && !st.IsDir() {
				file = true
			}
		}
		if existsInRoot(rootDir, dst, !file) {
			continue
		}
		dir := dst
		if file {
			dir = filepath.Dir(dst)
		}
		h, err := pathrs.MkdirAllHandle(rootDir, dir, 0o755)
		if err != nil {
			return fmt.Errorf("mount point %s: %w", dst, err)
		}
		if file {
			fd, err := unix.Openat(int(h.Fd()), filepath.Base(dst), unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_WRONLY, 0o644)
			if err == nil {
				unix.Close(fd)
			} else if !errors.Is(err, unix.EEXIST) {
				h.Close()
				return fmt.Errorf("mount point %s: %w", dst, err)
			}
		}
		h.Close()
	}
	return nil
}

// existsInRoot reports whether p, resolved inside root (openat2's RESOLVE_IN_ROOT: its
// symlinks and ".." never leave it), exists: as a directory when dir is set. Most mount
// points exist in an image; looking them up is one call, where MkdirAllHandle checks each
// component it walks through /proc (about a dozen calls a mount point).
func existsInRoot(root *os.File, p string, dir bool) bool {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	if dir {
		how.Flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat2(int(root.Fd()), p, &how)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// idmappable tells whether this kernel can id-map the filesystem path is on. Only tmpfs
// is asked (id-mapped from Linux 6.3); the other filesystems yoroi id-maps have been for
// longer than its kernel floor. The question costs a user namespace, asked once per run.
func idmappable(fstype, path string) bool {
	if fstype != "tmpfs" {
		return true
	}
	ok, err := tmpfsIdmappable(path)
	return err != nil || ok // the probe failing says nothing: the mount would tell
}

var tmpfsIdmap struct {
	once sync.Once
	ok   bool
	err  error
}

// tmpfsIdmappable id-maps a detached copy of the mount at path (never attached anywhere).
func tmpfsIdmappable(path string) (bool, error) {
	tmpfsIdmap.once.Do(func() {
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 30, Size: 1}}
		ns, err := newUserNS(m, m)
		if err != nil {
			tmpfsIdmap.err = err
			return
		}
		defer ns.Close()
		fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			tmpfsIdmap.err = err
			return
		}
		defer unix.Close(fd)
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr)
		tmpfsIdmap.ok = err == nil
		if err != nil && !errors.Is(err, unix.EINVAL) {
			tmpfsIdmap.err = err
		}
	})
	return tmpfsIdmap.ok, tmpfsIdmap.err
}
