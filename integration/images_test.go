package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// images builds, once, the test images from the busybox rootfs (no registry here): an
// OCI image via umoci and skopeo as docker-archive tarballs, for ctr/CRI import, and a
// plain rootfs tarball for docker import and podman import.
var images struct {
	once    sync.Once
	err     error
	dir     string
	busybox string // docker-archive: docker.io/library/busybox:yoroi
	pause   string // docker-archive: the pod sandbox image (sleeps)
	rootfs  string // tar of the rootfs
}

const (
	busyboxRef = "docker.io/library/busybox:yoroi"
	pauseRef   = "registry.k8s.io/pause:yoroi"
)

func testImages(t *testing.T) {
	t.Helper()
	images.once.Do(func() { images.err = buildImages() })
	if images.err != nil {
		t.Fatalf("building test images: %v", images.err)
	}
}

func buildImages() error {
	dir, err := os.MkdirTemp("", "yoroi-images-")
	if err != nil {
		return err
	}
	images.dir = dir
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %v: %v: %s", name, args, err, out)
		}
		return nil
	}
	images.rootfs = filepath.Join(dir, "rootfs.tar")
	if err := run("tar", "-C", rootfsTemplate, "-cf", images.rootfs, "."); err != nil {
		return err
	}
	layout := filepath.Join(dir, "oci")
	unpacked := filepath.Join(dir, "unpacked")
	steps := [][]string{
		{"umoci", "init", "--layout", layout},
		{"umoci", "new", "--image", layout + ":busybox"},
		{"umoci", "unpack", "--image", layout + ":busybox", unpacked},
		{"cp", "-a", rootfsTemplate + "/.", filepath.Join(unpacked, "rootfs")},
		{"umoci", "repack", "--image", layout + ":busybox", unpacked},
		{"umoci", "config", "--image", layout + ":busybox", "--config.cmd", "/bin/sh"},
		{"umoci", "config", "--image", layout + ":busybox", "--tag", "pause", "--config.cmd", "/bin/sleep", "--config.cmd", "infinity"},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	images.busybox = filepath.Join(dir, "busybox.tar")
	images.pause = filepath.Join(dir, "pause.tar")
	if err := run("skopeo", "copy", "oci:"+layout+":busybox", "docker-archive:"+images.busybox+":"+busyboxRef); err != nil {
		return err
	}
	return run("skopeo", "copy", "oci:"+layout+":pause", "docker-archive:"+images.pause+":"+pauseRef)
}
