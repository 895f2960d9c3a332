package integration

import (
	"path/filepath"
	"testing"
)

func TestPodman(t *testing.T) {
	testImages(t)
	dir := privateDir(t)
	base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", yoroiBin}
	podman := func(args ...string) (string, error) { return runClient("podman", append(base, args...)...) }
	if out, err := podman("import", images.rootfs, "busybox:yoroi"); err != nil {
		t.Fatalf("podman import: %v: %s", err, out)
	}
	tools := toolsDir(t)
	// This host's root cannot raise rlimits (no CAP_SYS_RESOURCE): pass podman's limits.
	out, err := podman("run", "--rm", "--network", "none", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
		"-v", tools+":/tools:ro", "localhost/busybox:yoroi", "sh", "-c", hardeningProbe)
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	assertHardened(t, "podman --runtime yoroi", out)
	_, _ = podman("system", "reset", "--force")
}
