package integration

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hardeningProbe runs inside a container started by an engine and prints what yoroi
// enforces there. /tools is a read-only volume holding an executable: only Landlock
// (read-only mounts get read, not execute) stops it from running.
const hardeningProbe = `
echo "uid_map=$(tr -s ' ' < /proc/self/uid_map)"
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t'
touch /yoroi-probe 2>/dev/null && echo rootfs=writable || echo rootfs=read-only
if /tools/busybox true 2>/dev/null; then echo landlock=off; else echo landlock=enforced; fi
`

// assertHardened checks the probe's output.
func assertHardened(t *testing.T, engine, out string) {
	t.Helper()
	for _, want := range []string{"CapEff:00000000000004fb", "NoNewPrivs:1", "Seccomp:2", "rootfs=read-only", "landlock=enforced"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: %q missing from the container's view:\n%s", engine, want, out)
		}
	}
	var inside, host, size int
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "uid_map=") {
			line = strings.TrimPrefix(l, "uid_map=")
		}
	}
	if _, err := fmt.Sscan(line, &inside, &host, &size); err != nil || inside != 0 || host < 65536 || size != 65536 {
		t.Errorf("%s: uid_map %q: want 0 <non-root host id> 65536", engine, line)
	}
}

// toolsDir is a host directory with an executable, mounted read-only at /tools.
func toolsDir(t *testing.T) string {
	t.Helper()
	dir := privateDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", filepath.Join(rootfsTemplate, "bin", "busybox"), dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return dir
}

// daemon is an engine daemon started by a test, stopped (with everything it started)
// when the test ends.
type daemon struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	dir  string
	log  *bytes.Buffer
}

// binDir holds yoroi and containerd-shim-yoroi-v2, put first in the daemons' PATH.
func binDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Dir(yoroiBin)
	if _, err := os.Stat(filepath.Join(dir, "containerd-shim-yoroi-v2")); err != nil {
		t.Fatalf("containerd-shim-yoroi-v2 must sit next to %s (make build does it): %v", yoroiBin, err)
	}
	return dir
}

func startDaemon(t *testing.T, name, dir string, env []string, sock string, args ...string) *daemon {
	t.Helper()
	d := launchDaemon(t, name, dir, env, args...)
	d.waitFor("unix", sock)
	return d
}

// launchDaemon starts a daemon without waiting for it to serve.
func launchDaemon(t *testing.T, name, dir string, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, name: name, dir: dir, log: &bytes.Buffer{}}
	d.cmd = exec.Command(args[0], args[1:]...)
	d.cmd.Env = append(os.Environ(), "PATH="+binDir(t)+":/usr/sbin:/usr/bin:/sbin:/bin")
	d.cmd.Env = append(d.cmd.Env, env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(d.stop)
	return d
}

// waitFor waits until the daemon accepts connections at addr.
func (d *daemon) waitFor(network, addr string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial(network, addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s did not come up:\n%s", d.name, d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart stops the daemon alone, as an upgrade does (its shims and containers keep
// running), and starts it again with the same command line.
func (d *daemon) restart(sock string) {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		d.t.Logf("%s exited: %v", d.name, err)
	}
	cmd := exec.Command(d.cmd.Path, d.cmd.Args[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = d.cmd.Env, d.log, d.log, d.cmd.SysProcAttr
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("restart %s: %v", d.name, err)
	}
	d.cmd = cmd
	d.waitFor("unix", sock)
}

// stop terminates the daemon and every process it left (shims, containers).
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// Shims outlive their daemon by design: kill this daemon's, by the pids they wrote
	// into their bundles under its directory (never by a pattern over all processes).
	killShims(d.t, d.dir)
	// What the daemon left mounted under its directory (dockerd's netns/default bind,
	// overlay snapshots) goes too, deepest first, before t.TempDir removes the tree.
	mounts := mountsUnder(d.t, d.dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(strings.Fields(mounts[i])[4], syscall.MNT_DETACH)
	}
	if d.t.Failed() {
		d.t.Logf("%s log:\n%s", d.name, tail(d.log.String(), 4000))
	}
}

// killShims kills the containerd shims whose bundles lie under dir: each writes shim.pid
// into its bundle. A pid is killed only while its command line is still a shim's naming
// dir: a pid reused since by another process is left alone.
func killShims(t *testing.T, dir string) {
	t.Helper()
	skip := map[string]bool{"rootfs": true, "snapshots": true, "overlay2": true, "io.containerd.content.v1.content": true, "blobs": true}
	_ = filepath.WalkDir(dir, func(p string, ent os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if ent.IsDir() {
			if skip[ent.Name()] || strings.Count(strings.TrimPrefix(p, dir), "/") > 8 {
				return filepath.SkipDir
			}
			return nil
		}
		if ent.Name() == "shim.pid" {
			if pid := readPid(p); pid > 0 && strings.Contains(cmdline(pid), "containerd-shim") && strings.Contains(cmdline(pid), dir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		return nil
	})
}

func readPid(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runClient runs a client command and returns its combined output.
func runClient(name string, args ...string) (string, error) {
	return runClientEnv(nil, name, args...)
}

func runClientEnv(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		return out.String(), errors.New("timed out")
	}
}

// privateDir is a temporary directory the containers' unprivileged roots can traverse.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
