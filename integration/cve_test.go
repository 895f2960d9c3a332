package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The runtime-level escapes with CVE numbers: each is driven from outside the container,
// because the runtime itself (or its bundle) is the target.

// CVE-2019-5736: a container process watches for the runtime entering the container
// (yoroi exec, and yoroi's Landlock launcher) and tries to open /proc/PID/exe for
// writing, directly and by re-opening an O_PATH descriptor once the runtime has exec'd
// away. It never gets a writable descriptor, and the host's yoroi binary is unchanged.
// Stopped by: libcontainer's sealed copy of the runtime binary, the user namespace
// (container root is an unprivileged host uid), non-dumpable runtime processes.
func TestCVE2019_5736OverwriteRuntime(t *testing.T) {
	e := newEnv(t)
	before := fileSHA256(t, yoroiBin)
	b := e.newBundle("testprog", "overwrite-exe", "6")
	id := uniqueID("cve-2019-5736")
	cmd := e.cmd("run", "--bundle", b.dir, id)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, specs.StateRunning)
	execs := 0
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); execs++ {
		if r := e.run("exec", id, "true"); r.code != 0 {
			t.Errorf("exec %d: exit %d: %s", execs, r.code, r.stderr)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("attacker: %v: %s", err, out.String())
	}
	m := regexp.MustCompile(`seen=(\d+) opened=(\d+) writable=(\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("attacker output %q", out.String())
	}
	seen, _ := strconv.Atoi(m[1])
	if m[3] != "0" {
		t.Errorf("the container opened a runtime executable for writing: %s", out.String())
	}
	if seen == 0 {
		t.Errorf("the attacker saw none of the %d exec'd processes: the test proves nothing (%s)", execs, out.String())
	}
	if after := fileSHA256(t, yoroiBin); after != before {
		t.Errorf("the host's yoroi binary changed: %s -> %s", before, after)
	}
	e.assertNoLeftovers(id)
	t.Logf("%d execs into the container; attacker: %s", execs, strings.TrimSpace(out.String()))
}

// CVE-2021-30465: a mount destination inside a volume the container controls is swapped
// for a symlink to / while containers are created. Every create either mounts inside the
// container's rootfs or fails cleanly; no container ever sees the host's root, and the
// host's mount table is unchanged. Stopped by: libcontainer resolving mount destinations
// inside the rootfs (openat2 RESOLVE_IN_ROOT) and mounting through the resulting fd.
func TestCVE2021_30465SymlinkSwappedMountDestination(t *testing.T) {
	e := newEnv(t)
	vol := filepath.Join(privateDir(t), "vol")
	if err := os.Mkdir(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	// A file only the host's root directory has: a container that lists it has escaped.
	marker := "/yoroi-cve-2021-30465-" + randomHex(t)
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(marker) })
	hostMounts := countLines(t, "/proc/self/mountinfo")

	// The attacker: what a container sharing the volume would do, at full speed.
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := filepath.Join(vol, "d")
		for !stop.Load() {
			_ = os.RemoveAll(d)
			_ = os.Mkdir(d, 0o755)
			_ = os.RemoveAll(d)
			_ = os.Symlink("/", d)
		}
	}()
	b := e.newBundle("sh", "-c", "ls -a / /vol/d 2>&1; grep ' /vol/d ' /proc/self/mountinfo || echo no-mount").edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}},
			specs.Mount{Destination: "/vol/d", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=1m"}})
	})
	ran, failed := 0, 0
	for i := 0; i < 20; i++ {
		id := uniqueID("cve-2021-30465")
		r := e.run("run", "--bundle", b.dir, id)
		if strings.Contains(r.stdout, filepath.Base(marker)) {
			t.Errorf("run %d saw the host's root: %s", i, r.stdout)
		}
		if r.code == 0 {
			ran++
		} else {
			failed++
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); !isErrorLine(lines[len(lines)-1]) {
				t.Errorf("run %d failed without yoroi's error line: %q", i, r.stderr)
			}
		}
		e.assertNoLeftovers(id)
	}
	stop.Store(true)
	<-done
	if n := countLines(t, "/proc/self/mountinfo"); n != hostMounts {
		t.Errorf("host mount table: %d mounts before, %d after", hostMounts, n)
	}
	t.Logf("20 creates racing a symlink swap: %d ran with the tmpfs inside the rootfs, %d failed cleanly", ran, failed)
}

// CVE-2024-21626: process.cwd naming a descriptor the runtime holds open
// (/proc/self/fd/N) is refused for the container's init and for exec, by
// hardening rule process.cwd; a cwd that is a symlink into /proc inside the image is
// resolved in the container, not to the runtime's descriptors.
func TestCVE2024_21626LeakedFdCwd(t *testing.T) {
	e := newEnv(t)
	for n := 3; n <= 9; n++ {
		cwd := "/proc/self/fd/" + strconv.Itoa(n)
		b := e.newBundle("pwd").edit(t, func(s *specs.Spec) { s.Process.Cwd = cwd })
		id := uniqueID("cve-2024-21626")
		if r := e.fails("refused by rule process.cwd: process.cwd "+cwd+" is under /proc", "run", "--bundle", b.dir, id); r.code != 1 {
			t.Errorf("cwd %s: exit %d", cwd, r.code)
		}
		e.assertNoLeftovers(id)
	}
	b := e.newBundle("sleep", "100")
	id := uniqueID("cve-2024-21626-exec")
	e.ok("run", "--detach", "--bundle", b.dir, id)
	for _, cwd := range []string{"/proc/self/fd/7", "/proc/1/cwd/../../..", "/sys/fs/cgroup"} {
		if r := e.fails("refused by rule process.cwd", "exec", "--cwd", cwd, id, "pwd"); r.code == 0 {
			t.Errorf("exec --cwd %s ran", cwd)
		}
	}
	e.ok("delete", "--force", id)
	e.assertNoLeftovers(id)

	// The same through a symlink in the image: /work -> /proc/self/fd/7.
	rootfs := copyRootfs(t)
	if err := os.Symlink("/proc/self/fd/7", filepath.Join(rootfs, "work")); err != nil {
		t.Fatal(err)
	}
	b = e.newBundle("sh", "-c", "pwd -P; ls ../../..").edit(t, func(s *specs.Spec) {
		s.Root.Path = rootfs
		s.Process.Cwd = "/work"
	})
	id = uniqueID("cve-2024-21626-link")
	r := e.run("run", "--bundle", b.dir, id)
	if r.code == 0 && (strings.Contains(r.stdout, "cgroup") || strings.Contains(r.stdout, "unreachable")) {
		t.Errorf("the process started outside the container: %q", r.stdout)
	}
	if r.code != 0 && !isErrorLine(strings.TrimSpace(r.stderr)) {
		t.Errorf("failed without yoroi's error line: %q", r.stderr)
	}
	e.assertNoLeftovers(id)
	t.Logf("cwd through a symlink to /proc/self/fd/7: exit %d, stdout %q, stderr %q", r.code, strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
}

// CVE-2025-31133: the image's /dev/null is a symlink to /proc/sys/kernel/core_pattern
// and the spec mounts no /dev, so the runtime's masking of /proc paths would bind the
// host's core_pattern (a host-wide code execution hook) into the container as a writable
// masked path. The container writes to its masked paths; the host's core_pattern is
// unchanged and every masked path is a real null device. Stopped by: libcontainer
// masking with its own verified /dev/null, not the container's; the user namespace;
// read-only /proc/sys.
func TestCVE2025_31133DevNullSymlink(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger"} {
		t.Run(target, func(t *testing.T) {
			corePattern := readTrim(t, "/proc/sys/kernel/core_pattern")
			rootfs := copyRootfs(t)
			if err := os.Symlink(target, filepath.Join(rootfs, "dev", "null")); err != nil {
				t.Fatal(err)
			}
			script := `for p in /proc/kcore /proc/timer_list /proc/keys; do echo '|/bin/evil' > $p 2>/dev/null; stat -c "$p %t:%T %F" $p; done`
			b := e.newBundle("sh", "-c", script).edit(t, func(s *specs.Spec) {
				s.Root.Path = rootfs
				s.Mounts = slicesWithout(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev" })
			})
			id := uniqueID("cve-2025-31133")
			r := e.run("run", "--bundle", b.dir, id)
			if got := readTrim(t, "/proc/sys/kernel/core_pattern"); got != corePattern {
				t.Fatalf("host core_pattern changed: %q -> %q", corePattern, got)
			}
			if r.code == 0 {
				for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
					if !strings.HasSuffix(line, " 1:3 character special file") {
						t.Errorf("masked path is not the null device: %q", line)
					}
				}
			} else if !isErrorLine(strings.TrimSpace(r.stderr)) {
				t.Errorf("failed without yoroi's error line: %q", r.stderr)
			}
			e.assertNoLeftovers(id)
			t.Logf("exit %d, stdout %q, stderr %q", r.code, strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
		})
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}
