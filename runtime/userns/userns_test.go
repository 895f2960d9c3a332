package userns

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNewMapsAMount: the namespace carries the mapping (through an id-mapped mount, a file
// owned by uid 0 on disk belongs to host uid 100000, the container's root, and one owned
// by 100000 to nobody), the holder is gone, and a thousand namespaces leave no fd or
// process behind.
func TestNewMapsAMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writing a uid_map for host ids and mounting")
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, d := range []string{src, dst} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", src, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
	for name, uid := range map[string]int{"mapped": 100000, "root": 0} {
		f := filepath.Join(src, name)
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(f, uid, uid); err != nil {
			t.Fatal(err)
		}
	}

	ns, err := New([]IDMap{{0, 100000, 65536}}, []IDMap{{0, 100000, 65536}})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(ns.Fd()))); err != nil || !strings.HasPrefix(link, "user:[") {
		t.Fatalf("fd is %q (%v), not a user namespace", link, err)
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}); err != nil {
		t.Fatal(err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(dst, unix.MNT_DETACH)
	for name, want := range map[string]uint32{"root": 100000, "mapped": 65534} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dst, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != want || st.Gid != want {
			t.Errorf("%s: %d:%d through the id-mapped mount, want %d:%d", name, st.Uid, st.Gid, want, want)
		}
	}

	fds, children := count(t)
	for i := 0; i < 1000; i++ {
		newAndClose(t)
	}
	if f2, c2 := count(t); f2 != fds || c2 != children {
		t.Errorf("after 1000 namespaces: %d fds (was %d), %d children (was %d)", f2, fds, c2, children)
	}
}

// newAndClose makes a namespace mapping 65536 ids from 100000 and closes it.
func newAndClose(t *testing.T) {
	t.Helper()
	f, err := New([]IDMap{{0, 100000, 65536}}, []IDMap{{0, 100000, 65536}})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// count returns the test process's open fds and its children (zombies included), once
// every holder killed has been reaped.
func count(t *testing.T) (fds, children int) {
	reaping.Wait()
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		data, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			t.Fatal(err)
		}
		children += len(strings.Fields(string(data)))
	}
	return len(ents), children
}

func TestNewRefusesABadMapping(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writing a uid_map for host ids")
	}
	// Overlapping ranges: the kernel refuses the map, New reports it and reaps the holder.
	_, err := New([]IDMap{{0, 100000, 10}, {5, 200000, 10}}, []IDMap{{0, 100000, 10}})
	if err == nil || !strings.Contains(err.Error(), "uid_map") {
		t.Fatalf("overlapping uid map: %v", err)
	}
	if _, children := count(t); children != 0 {
		t.Errorf("%d children left", children)
	}
}

// Mappings reads back what New wrote, from the namespace alone (its holder is gone), and
// the host's own namespace shows the identity map.
func TestMappings(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writing a uid_map for host ids")
	}
	uid := []IDMap{{0, 1 << 30, 65536}, {65536, 2 << 30, 1}}
	gid := []IDMap{{0, 3 << 30, 65536}}
	ns, err := New(uid, gid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	gotUID, gotGID, err := Mappings("/proc/self/fd/" + strconv.Itoa(int(ns.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(gotUID, uid) || !slicesEqual(gotGID, gid) {
		t.Errorf("mappings %v %v, want %v %v", gotUID, gotGID, uid, gid)
	}
	host, _, err := Mappings("/proc/self/ns/user")
	if err != nil || len(host) != 1 || host[0] != (IDMap{0, 0, 4294967295}) {
		t.Errorf("host mappings %v, %v", host, err)
	}
	if _, _, err := Mappings("/proc/self/ns/net"); err == nil {
		t.Error("a network namespace read as a user namespace")
	}
}

func slicesEqual(a, b []IDMap) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHolderReapedByAnyWait: a wait for any child (the signal relay's) may reap a killed
// holder before its own reaper does; the reaper then finds it gone, through its pidfd,
// and nothing hangs or stays behind.
func TestHolderReapedByAnyWait(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writing a uid_map for host ids")
	}
	fds, _ := count(t)
	for i := 0; i < 200; i++ {
		newAndClose(t)
		for {
			var ws unix.WaitStatus
			if _, err := unix.Wait4(-1, &ws, 0, nil); errors.Is(err, unix.ECHILD) {
				break
			}
		}
	}
	if f2, children := count(t); f2 != fds || children != 0 {
		t.Errorf("%d fds (was %d), %d children", f2, fds, children)
	}
}
