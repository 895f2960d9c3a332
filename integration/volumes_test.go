package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// volumeDir is a host directory holding one file, readable by the container's root.
func volumeDir(t *testing.T, name string) string {
	t.Helper()
	dir := privateDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Volumes beneath the scratch tmpfs on /tmp and /run keep their content: the scratch is
// mounted before them, also where they arrive through the image's /var/run -> /run (where
// Kubernetes puts service account tokens). Before, the scratch tmpfs came last and hid
// them: the mount points were there, empty.
func TestVolumesBeneathScratch(t *testing.T) {
	e := newEnv(t)
	rootfs := copyRootfs(t)
	if err := os.MkdirAll(filepath.Join(rootfs, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run", filepath.Join(rootfs, "var", "run")); err != nil {
		t.Fatal(err)
	}
	vol, token, secret := volumeDir(t, "in-volume"), volumeDir(t, "token"), volumeDir(t, "secret")
	b := e.newBundle("sh", "-c", "cat /tmp/vol/in-volume /var/run/secrets/kubernetes.io/serviceaccount/token /run/secrets/app/secret; touch /tmp/scratch-works && echo scratch=ok").edit(t, func(s *specs.Spec) {
		s.Root.Path = rootfs
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/tmp/vol", Source: vol, Type: "bind", Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/var/run/secrets/kubernetes.io/serviceaccount", Source: token, Type: "bind", Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/run/secrets/app", Source: secret, Type: "bind", Options: []string{"rbind", "ro"}})
	})
	id := uniqueID("volumes")
	out := e.ok("run", "--bundle", b.dir, id)
	for _, want := range []string{"in-volume", "token", "secret", "scratch=ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from the container's output:\n%s", want, out)
		}
	}
	e.assertNoLeftovers(id)
}

// The same through Docker: docker run -v DIR:/tmp/vol lists the directory as under runc.
func TestDockerVolumeUnderTmp(t *testing.T) {
	d := startDockerd(t)
	vol := volumeDir(t, "in-volume")
	for _, runtime := range []string{"runc", "yoroi"} {
		out, err := d.docker("run", "--rm", "--runtime", runtime, "--network", "none", "-v", vol+":/tmp/vol", "busybox:yoroi", "ls", "/tmp/vol")
		if err != nil || strings.TrimSpace(out) != "in-volume" {
			t.Errorf("docker run --runtime %s -v %s:/tmp/vol ls: %v %q", runtime, vol, err, out)
		}
	}
}

// overlayVolume mounts an overlay of two layers (a file owned by root in each) on a
// directory and returns it: what containerd hands over for an image volume.
func overlayVolume(t *testing.T) string {
	t.Helper()
	dir := privateDir(t)
	for _, d := range []string{"lower1", "lower2", "upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"lower1/from-lower1", "lower2/from-lower2", "upper/from-upper"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(filepath.Base(f)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(dir, "merged")
	opts := "lowerdir=" + filepath.Join(dir, "lower1") + ":" + filepath.Join(dir, "lower2") + ",upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(merged, unix.MNT_DETACH) })
	return merged
}

// A volume that is an overlay mount cannot be id-mapped itself (mount_setattr EINVAL, the
// bare error before): it is rebuilt from id-mapped mounts of its layers, read-only, and
// its files are root's inside the container.
func TestOverlayVolume(t *testing.T) {
	e := newEnv(t)
	vol := overlayVolume(t)
	// An overlay volume is image content: its programs run under Landlock, as the root's do
	// (read-only, as containerd hands over image volumes; a writable bind gets noexec).
	if out, err := exec.Command("cp", filepath.Join(rootfsTemplate, "bin", "busybox"), filepath.Join(vol, "busybox")).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	const probe = "stat -c owner=%u /img/busybox; touch /img/x 2>/dev/null && echo writable || echo read-only; /img/busybox true && echo image-exec=ok"
	b := e.newBundle("sh", "-c", "cat /img/from-upper /img/from-lower1 /img/from-lower2; "+probe).edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/img", Source: vol, Type: "bind", Options: []string{"rbind", "ro"}})
	})
	id := uniqueID("overlay-volume")
	out := e.ok("run", "--bundle", b.dir, id)
	for _, want := range []string{"from-upper", "from-lower1", "from-lower2", "owner=0", "read-only", "image-exec=ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from the container's output:\n%s", want, out)
		}
	}
	e.assertNoLeftovers(id)
	// A directory inside an overlay (an image volume's subPath): the overlay is rebuilt and
	// the directory of it bound.
	sub := filepath.Join(vol, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", filepath.Join(rootfsTemplate, "bin", "busybox"), filepath.Join(sub, "busybox")).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b = e.newBundle("sh", "-c", "ls /img; "+probe).edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/img", Source: sub, Type: "bind", Options: []string{"rbind", "ro"}})
	})
	id = uniqueID("overlay-subdir")
	out = e.ok("run", "--bundle", b.dir, id)
	for _, want := range []string{"owner=0", "read-only", "image-exec=ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("subdirectory: %q missing from the container's output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "from-upper") {
		t.Errorf("the subdirectory's bind shows the overlay's root:\n%s", out)
	}
	e.assertNoLeftovers(id)
}

// Kubernetes image volumes (an OCI image mounted read-only in a container): containerd 2.x
// mounts the image as an overlay and hands it over as a bind source; yoroi failed it with
// "failed to set MOUNT_ATTR_IDMAP … invalid argument".
func TestCRIImageVolume(t *testing.T) {
	c := startContainerd(t, true, yoroiBin)
	client := newCRIClient(t, c.sock)
	sbCfg := sandboxConfig(t, "imgvol")
	sbID, remove := client.runSandbox("yoroi", sbCfg)
	defer remove()
	cc, err := client.rt.CreateContainer(ctx(t), &cri.CreateContainerRequest{PodSandboxId: sbID, SandboxConfig: sbCfg,
		Config: sleeperConfig(&cri.Mount{ContainerPath: "/img", Image: &cri.ImageSpec{Image: busyboxRef}, Readonly: true})})
	if err != nil {
		t.Fatalf("CreateContainer with an image volume: %v", err)
	}
	defer func() {
		_, _ = client.rt.StopContainer(ctx(t), &cri.StopContainerRequest{ContainerId: cc.ContainerId, Timeout: 5})
		_, _ = client.rt.RemoveContainer(ctx(t), &cri.RemoveContainerRequest{ContainerId: cc.ContainerId})
	}()
	if _, err := client.rt.StartContainer(ctx(t), &cri.StartContainerRequest{ContainerId: cc.ContainerId}); err != nil {
		t.Fatalf("StartContainer with an image volume: %v", err)
	}
	ex, err := client.rt.ExecSync(ctx(t), &cri.ExecSyncRequest{ContainerId: cc.ContainerId, Cmd: []string{"sh", "-c", "stat -c %u /img/bin/busybox && /img/bin/busybox true"}, Timeout: 30})
	if err != nil || ex.ExitCode != 0 || strings.TrimSpace(string(ex.Stdout)) != "0" {
		t.Errorf("the image volume in the container: %v (exit %d) %q %q", err, ex.GetExitCode(), ex.GetStdout(), ex.GetStderr())
	}
}
