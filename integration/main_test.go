// Package integration runs real containers through the yoroi binary, as root.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	// yoroiBin is the binary under test: $YOROI_BINARY, or built from this tree.
	yoroiBin string
	// rootfsTemplate is a busybox-static root filesystem, copied into every bundle.
	rootfsTemplate string
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests run real containers and need root")
		return 1
	}
	work, err := os.MkdirTemp("", "yoroi-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	// The images tests build on demand (images_test.go) live beside it.
	defer func() {
		if images.dir != "" {
			os.RemoveAll(images.dir)
		}
	}()
	// Containers that bring their own user namespace use the rootfs as it is: its
	// unprivileged root must be able to reach it.
	if err := os.Chmod(work, 0o711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := buildAll(work); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		return 1
	}
	before := hostDirsSnapshot()
	code := m.Run()
	if err := hostDirsLeaks(before, hostDirsSnapshot()); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	removeNewEmptyDirs(before)
	return code
}

func buildAll(work string) error {
	yoroiBin = os.Getenv("YOROI_BINARY")
	if yoroiBin == "" {
		yoroiBin = filepath.Join(work, "yoroi")
		if err := goBuild(yoroiBin, []string{"CGO_ENABLED=1"}, "-tags", "seccomp urfave_cli_no_docs netgo osusergo", "-ldflags", "-extldflags -static", "../cmd/yoroi"); err != nil {
			return err
		}
		// As the Makefile builds them.
		if err := goBuild(filepath.Join(work, "containerd-shim-yoroi-v2"), []string{"CGO_ENABLED=0"}, "-tags", "urfave_cli_no_docs no_grpc no_gogo", "../cmd/containerd-shim-yoroi-v2"); err != nil {
			return err
		}
	}
	rootfsTemplate = filepath.Join(work, "rootfs")
	bin := filepath.Join(rootfsTemplate, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is required: %w", err)
	}
	if out, err := exec.Command("cp", busybox, filepath.Join(bin, "busybox")).CombinedOutput(); err != nil {
		return fmt.Errorf("copy busybox: %v: %s", err, out)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			return err
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "etc", "mnt"} {
		if err := os.MkdirAll(filepath.Join(rootfsTemplate, d), 0o755); err != nil {
			return err
		}
	}
	defer labelImage(rootfsTemplate)
	if err := os.WriteFile(filepath.Join(rootfsTemplate, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	// In a guest (guest_test.go), which has neither Go nor gcc, the host's builds are given.
	if dir := os.Getenv("INTEGRATION_PREBUILT"); dir != "" {
		for _, p := range prebuiltPrograms {
			if out, err := exec.Command("cp", filepath.Join(dir, p), filepath.Join(bin, p)).CombinedOutput(); err != nil {
				return fmt.Errorf("prebuilt %s: %v: %s", p, err, out)
			}
		}
		return nil
	}
	if err := goBuild(filepath.Join(bin, "testprog"), []string{"CGO_ENABLED=0"}, "./testprog"); err != nil {
		return err
	}
	// The compat ABI socket probe, for each compat ABI of x86_64 (gcc-multilib).
	for _, abi := range []string{"32", "x32"} {
		out := filepath.Join(bin, "socketprobe"+abi)
		if b, err := exec.Command("gcc", "-m"+abi, "-static", "-O1", "-o", out, "compat/socketprobe.c").CombinedOutput(); err != nil {
			return fmt.Errorf("gcc -m%s (gcc-multilib): %v: %s", abi, err, b)
		}
	}
	return nil
}

// labelImage labels the test image as engines label image layers on an SELinux host
// (container_ro_file_t: every container may read and execute it), when SELinux enforces.
func labelImage(dir string) {
	if data, err := os.ReadFile("/sys/fs/selinux/enforce"); err != nil || strings.TrimSpace(string(data)) != "1" {
		return
	}
	if out, err := exec.Command("chcon", "-R", "-t", "container_ro_file_t", dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "chcon %s: %v: %s\n", dir, err, out)
	}
}

// prebuiltPrograms are the programs setup builds into the rootfs's /bin.
var prebuiltPrograms = []string{"testprog", "socketprobe32", "socketprobex32"}

func goBuild(out string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v: %s", args, err, b)
	}
	return nil
}
