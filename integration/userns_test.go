package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/userns"
)

// uidMap reads a running container's uid_map from the host.
func uidMap(t *testing.T, pid int) (inside, host, size int) {
	t.Helper()
	f := strings.Fields(readTrim(t, filepath.Join("/proc", strconv.Itoa(pid), "uid_map")))
	if len(f) != 3 {
		t.Fatalf("uid_map of %d: %v", pid, f)
	}
	inside, _ = strconv.Atoi(f[0])
	host, _ = strconv.Atoi(f[1])
	size, _ = strconv.Atoi(f[2])
	return
}

func TestUserNamespaceInside(t *testing.T) {
	e := newEnv(t)
	// A root-owned host file, bind-mounted read-only.
	secretDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(secretDir, "hosts-file"), []byte("host-content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := e.newBundle("sh", "-c", `cat /proc/self/uid_map; cat /proc/self/gid_map; ls -lnd / /bin/busybox /etc/passwd /vol/hosts-file; cat /vol/hosts-file; id -u`).edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Source: secretDir, Type: "bind", Options: []string{"rbind", "ro"}})
	})
	id := uniqueID("userns")
	out := e.ok("run", "--bundle", b.dir, id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, m := range lines[:2] {
		f := strings.Fields(m)
		if len(f) != 3 || f[0] != "0" || f[1] == "0" || f[2] != "65536" {
			t.Errorf("id map inside %q: want 0 <non-zero host id> 65536", m)
		}
		if host, _ := strconv.Atoi(f[1]); host < 65536 {
			t.Errorf("host id %d below the pool", host)
		}
	}
	for _, l := range lines[2:6] {
		f := strings.Fields(l)
		if len(f) < 4 || f[2] != "0" || f[3] != "0" {
			t.Errorf("not root-owned inside: %q", l)
		}
	}
	if !strings.Contains(out, "host-content") || lines[len(lines)-1] != "0" {
		t.Errorf("output:\n%s", out)
	}
	e.assertNoLeftovers(id)
}

func TestUserNamespaceHostView(t *testing.T) {
	e := newEnv(t)
	a, b := e.running("range-a"), e.running("range-b")
	pa, pb := e.state(a).Pid, e.state(b).Pid
	_, hostA, sizeA := uidMap(t, pa)
	_, hostB, sizeB := uidMap(t, pb)
	if hostA+sizeA > hostB && hostB+sizeB > hostA {
		t.Fatalf("ranges overlap: %d+%d and %d+%d", hostA, sizeA, hostB, sizeB)
	}
	// On the host the container's root is the allocated uid.
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(pa)), &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != hostA {
		t.Errorf("container init runs as host uid %d, want %d", st.Uid, hostA)
	}
	status := readTrim(t, filepath.Join("/proc", strconv.Itoa(pa), "status"))
	if !strings.Contains(status, fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", hostA, hostA, hostA, hostA)) {
		t.Errorf("host status of init:\n%s", status)
	}
	// The state shows how the user namespace was chosen.
	var st2 specs.State
	if err := json.Unmarshal([]byte(e.ok("state", a)), &st2); err != nil {
		t.Fatal(err)
	}
	if st2.Annotations["org.yoroi.userns"] != "allocated" || st2.Annotations["org.yoroi.userns.range"] != fmt.Sprintf("%d:65536", hostA) {
		t.Errorf("state annotations %v", st2.Annotations)
	}
	// A range is reused only after its container is deleted: c does not get a's range
	// while a exists, and gets it back once a is gone.
	c := e.running("range-c")
	_, hostC, _ := uidMap(t, e.state(c).Pid)
	if hostC == hostA || hostC == hostB {
		t.Fatalf("range %d reused while its container exists", hostC)
	}
	e.ok("delete", "--force", a)
	d := e.running("range-d")
	if _, hostD, _ := uidMap(t, e.state(d).Pid); hostD != hostA {
		t.Errorf("freed range %d not reused (got %d)", hostA, hostD)
	}
}

// The rootfs as Docker's overlay2 and containerd's overlayfs snapshotter hand it over:
// an overlay mount of lower layers, an upper and a work directory.
func TestUserNamespaceOverlayRootfs(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	layer1, upper, work, merged := filepath.Join(dir, "l1"), filepath.Join(dir, "diff"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{filepath.Join(layer1, "etc"), filepath.Join(upper, "etc"), work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(layer1, "etc", "from-layer1"), "layer1\n")
	write(filepath.Join(layer1, "etc", "deleted-in-upper"), "should be hidden\n")
	write(filepath.Join(upper, "etc", "from-upper"), "upper\n")
	// A whiteout in the upper hides a lower file, as after `rm` in a previous container.
	if err := unix.Mknod(filepath.Join(upper, "etc", "deleted-in-upper"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("lowerdir=%s:%s,upperdir=%s,workdir=%s", layer1, rootfsTemplate, upper, work)
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	b := e.newBundle("sh", "-c", "cat /proc/self/uid_map; ls -ln /etc/from-layer1 /etc/from-upper /bin/busybox; cat /etc/from-layer1 /etc/from-upper; ls /etc/deleted-in-upper 2>&1; touch /x 2>&1; exit 0").edit(t, func(s *specs.Spec) {
		s.Root.Path = merged
	})
	id := uniqueID("overlay")
	out := e.ok("run", "--bundle", b.dir, id)
	for _, want := range []string{"layer1\nupper\n", "No such file or directory", "Read-only file system"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "-") && !strings.Contains(l, " 0        0 ") {
			t.Errorf("not root-owned inside: %q", l)
		}
	}
	if f := strings.Fields(strings.SplitN(out, "\n", 2)[0]); len(f) != 3 || f[1] == "0" {
		t.Errorf("uid_map %v", f)
	}
	e.assertNoLeftovers(id)
	// The engine's own overlay is untouched.
	if data, err := os.ReadFile(filepath.Join(merged, "etc", "from-upper")); err != nil || string(data) != "upper\n" {
		t.Errorf("original overlay after delete: %q %v", data, err)
	}
}

func TestUserNamespaceRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		host uint32
		want string
	}{
		{"maps host root", 0, "refused by rule userns: the spec's user namespace maps host uid 0-65535"},
		{"maps a host user", 1000, "below userns.min_host_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: tc.host, Size: 65536}}
			b := e.newBundle("true").edit(t, func(s *specs.Spec) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
			})
			id := uniqueID("userns-refused")
			e.fails(tc.want, "run", "--bundle", b.dir, id)
			e.assertNoLeftovers(id)
		})
	}
	// A mapping the caller brings that stays above min_host_id (Kubernetes hostUsers:
	// false, podman --userns) is kept as it is.
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 3 * 65536, Size: 65536}}
	b := e.newBundle("cat", "/proc/self/uid_map").edit(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
		// The caller prepares its rootfs for its mapping (here: nothing to read but the
		// world-readable busybox).
	})
	id := uniqueID("userns-caller")
	if out := e.ok("run", "--bundle", b.dir, id); strings.Fields(out)[1] != "196608" {
		t.Errorf("caller's mapping not kept: %q", out)
	}
	e.assertNoLeftovers(id)
}

// Joining namespaces by path as runc's suite and engines do. A user namespace pinned by a
// bind-mounted file is joined with the mappings yoroi reads from inside it (it was refused
// with a hint about userns.min_host_id that could not help). An ipc or pid namespace that
// the host's user namespace owns (another runtime's container) cannot be set up from a user
// namespace of the container's own: refused with one line (it failed with a bare EPERM
// from the mqueue mount).
func TestJoinNamespacesByPath(t *testing.T) {
	e := newEnv(t)
	m := []userns.IDMap{{ContainerID: 0, HostID: 7 << 24, Size: 65536}}
	ns, err := userns.New(m, m)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	pinned := filepath.Join(privateDir(t), "userns")
	if err := os.WriteFile(pinned, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", ns.Fd()), pinned, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(pinned, unix.MNT_DETACH) })
	b := e.newBundle("cat", "/proc/self/uid_map").edit(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(removeNamespace(s.Linux.Namespaces, specs.UserNamespace), specs.LinuxNamespace{Type: specs.UserNamespace, Path: pinned})
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
	})
	id := uniqueID("pinned-userns")
	if out := strings.Fields(e.ok("run", "--bundle", b.dir, id)); strings.Join(out, " ") != fmt.Sprintf("0 %d 65536", 7<<24) {
		t.Errorf("uid_map in a container joining a pinned user namespace: %v", out)
	}
	e.assertNoLeftovers(id)

	// An ipc namespace of the host's user namespace, held by a process this test starts.
	holder := exec.Command("unshare", "--ipc", "sleep", "100")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	ipc := fmt.Sprintf("/proc/%d/ns/ipc", holder.Process.Pid)
	waitNamespaceDiffers(t, ipc)
	b = e.newBundle("true").edit(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(removeNamespace(s.Linux.Namespaces, specs.IPCNamespace), specs.LinuxNamespace{Type: specs.IPCNamespace, Path: ipc})
	})
	id = uniqueID("hostowned-ipc")
	r := e.fails("refused by rule userns: the ipc namespace "+ipc+" belongs to the host's user namespace", "run", "--bundle", b.dir, id)
	if r.code != 1 || !strings.Contains(r.stderr, "userns.allow_host") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	e.assertNoLeftovers(id)
}

// waitNamespaceDiffers waits until path (a process's namespace) is no longer the test's
// own: the process has unshared.
func waitNamespaceDiffers(t *testing.T, path string) {
	t.Helper()
	own, _ := os.Readlink("/proc/self/ns/" + filepath.Base(path))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err := os.Readlink(path); err == nil && l != own {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become a namespace of its own", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
