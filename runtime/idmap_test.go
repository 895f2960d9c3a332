package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func requireMountRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root (CI runs the unit tests as root)")
	}
}

// mountsBelow lists the host's mount points at or below dir.
func mountsBelow(t *testing.T, dir string) []string {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Mountpoint)
	}
	return out
}

func mustMount(t *testing.T, target string) {
	t.Helper()
	if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
}

// TestCleanupStagingUnmountsWithoutEntering: stacked mounts, a mount inside a mounted
// file system and a volume's mount are all taken down, the walk never lists what is
// inside a mount (a container's files), a symlink is not followed, and the staging
// directories are gone after.
func TestCleanupStagingUnmountsWithoutEntering(t *testing.T) {
	requireMountRoot(t)
	base := t.TempDir()
	stage := filepath.Join(base, "stage")
	outside := filepath.Join(base, "outside")
	rootfs := filepath.Join(stage, "rootfs")
	volume := filepath.Join(stage, "volumes", "0", "merged")
	for _, d := range []string{rootfs, volume, outside} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, m := range mountsBelow(t, base) {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	})
	if err := os.WriteFile(filepath.Join(outside, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(stage, "link")); err != nil {
		t.Fatal(err)
	}
	mustMount(t, rootfs)
	mustMount(t, rootfs) // stacked
	inner := filepath.Join(rootfs, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	mustMount(t, inner)
	mustMount(t, volume)
	if n := len(mountsBelow(t, stage)); n != 4 {
		t.Fatalf("%d mounts set up, want 4", n)
	}

	var dirs []string
	if err := unmountBelow(stage, &dirs); err != nil {
		t.Fatal(err)
	}
	if left := mountsBelow(t, stage); len(left) != 0 {
		t.Fatalf("still mounted: %v", left)
	}
	for _, d := range dirs {
		if strings.HasPrefix(d, inner) {
			t.Fatalf("the walk entered a mounted file system: %s", d)
		}
	}
	for _, want := range []string{stage, rootfs, volume} {
		if !slices.Contains(dirs, want) {
			t.Fatalf("%s not walked: %v", want, dirs)
		}
	}
	if err := os.Remove(filepath.Join(stage, "link")); err != nil {
		t.Fatal(err)
	}
	r := &Runtime{}
	if err := r.cleanupStagingDir(stage); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stage); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staging directory left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Fatalf("a symlink's target was touched: %v", err)
	}
}

// TestIdmapOverlayOneHostMount: an overlay of three layers rebuilt from id-mapped clones
// shows the layers' files in order, owned by the mapped ids, read-only, and adds one
// mount (the overlay) to the host's mount table, nothing per layer: assembled from
// detached clones where the kernel takes them, and in a mount namespace of its own.
func TestIdmapOverlayOneHostMount(t *testing.T) {
	requireMountRoot(t)
	for _, tc := range []struct {
		name     string
		assemble func(layers []string, dir string, userns *os.File) (int, error)
	}{
		{"detached", func(layers []string, _ string, userns *os.File) (int, error) {
			fd, err := assembleDetached(layers, userns)
			if errors.Is(err, errNoDetachedLayers) {
				t.Skipf("this kernel's overlayfs takes no detached layers: %v", err)
			}
			return fd, err
		}},
		{"namespace", assembleInNamespace},
		{"either", assembleOverlay},
	} {
		t.Run(tc.name, func(t *testing.T) { testIdmapOverlay(t, tc.assemble) })
	}
}

func testIdmapOverlay(t *testing.T, assemble func([]string, string, *os.File) (int, error)) {
	base := t.TempDir()
	t.Cleanup(func() {
		for _, m := range mountsBelow(t, base) {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	})
	var lowers []string
	for i := 0; i < 3; i++ {
		l := filepath.Join(base, "l"+string(rune('0'+i)))
		if err := os.MkdirAll(l, 0o755); err != nil {
			t.Fatal(err)
		}
		// The last layer on a mount of its own: layers on two mounts.
		if i == 2 {
			if err := unix.Mount("tmpfs", l, "tmpfs", 0, "mode=0755"); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(l, "f"), []byte{byte('0' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l, "only"+string(rune('0'+i))), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		lowers = append(lowers, l)
	}
	src := filepath.Join(base, "merged")
	stage := filepath.Join(base, "stage")
	target := filepath.Join(stage, "rootfs")
	for _, d := range []string{src, target} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("overlay", src, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lowers, ":")); err != nil {
		t.Skipf("overlay: %v", err)
	}
	ns, err := newUserNS([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}},
		[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	layers, err := overlayLayers(src)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := assemble(layers, stage, ns)
	if err != nil {
		t.Fatal(err)
	}
	err = unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
	unix.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	if got := mountsBelow(t, stage); len(got) != 1 || got[0] != target {
		t.Fatalf("host mounts below the staging directory: %v, want only %s", got, target)
	}
	data, err := os.ReadFile(filepath.Join(target, "f"))
	if err != nil || string(data) != "0" {
		t.Fatalf("the topmost layer's f: %q %v", data, err)
	}
	// The layers' directories and nothing else of the mounts holding them.
	entries, err := os.ReadDir(target)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"f", "only0", "only1", "only2"}; !slices.Equal(names, want) {
		t.Fatalf("the rebuilt overlay holds %v, want %v", names, want)
	}
	for _, f := range []string{"only0", "only1", "only2"} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(target, f), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 200000 || st.Gid != 200000 {
			t.Fatalf("%s owned by %d:%d, want the mapped 200000:200000", f, st.Uid, st.Gid)
		}
	}
	if err := os.WriteFile(filepath.Join(target, "new"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("writing in the rebuilt overlay: %v, want EROFS", err)
	}
	r := &Runtime{}
	if err := r.cleanupStagingDir(stage); err != nil {
		t.Fatal(err)
	}
	if left := mountsBelow(t, stage); len(left) != 0 {
		t.Fatalf("still mounted: %v", left)
	}
}
