package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
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
