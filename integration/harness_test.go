package integration

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// env is one test's yoroi: a private state root and helpers to run the binary.
type env struct {
	t    *testing.T
	root string
	// config is the config.toml every invocation uses (via YOROI_CONFIG).
	config string
	// audit is the audit log that config names.
	audit string
	// hostState is the config's runtime.state_dir (id ranges, staged rootfs mounts).
	hostState string
	// extraEnv is added to every yoroi invocation.
	extraEnv []string
	// globalArgs come before the verb in every invocation (--systemd-cgroup).
	globalArgs []string
}

// testConfig is the config.toml of the tests: the default policy, with the audit log in
// the test's directory and profiles that tests select by annotation.
const testConfig = `
[audit]
path = "%s"

[runtime]
state_dir = "%s"

# Hooks run on the host: the hook tests use busybox and false.
[profiles.test-hooks.hooks]
allow = ["/bin/busybox", "/usr/bin/busybox", "/bin/false", "/usr/bin/false"]
allow_start_container = true

# Lets tests observe what an admin profile can relax: exec on writable mounts needs
# both the mount option and Landlock to allow it.
[profiles.test-exec-tmp.mounts]
allow_exec = true
[profiles.test-exec-tmp.mac]
landlock_exec_writable = true

# Only the mount option: Landlock still denies execution from writable mounts.
[profiles.test-exec-mount-only.mounts]
allow_exec = true

# A writable root, as runc leaves it (Landlock lets the workload write there too).
[profiles.test-writable-root.rootfs]
readonly = false

# runc's no_new_privs: off when the spec says so.
[profiles.test-new-privileges.process]
allow_new_privileges = true

# A cgroup mount the spec asks writable stays so, delegated to the container's root.
[profiles.test-writable-cgroup.mounts]
allow_writable_cgroup = true

# Landlock lets the workload create device nodes.
[profiles.test-make-devices.mac]
landlock_make_devices = true

# --no-pivot accepted.
[profiles.test-no-pivot.rootfs]
allow_no_pivot = true
`

func newEnv(t *testing.T) *env {
	t.Helper()
	// The container's root is an unprivileged host uid: it must be able to walk to the
	// id-mapped rootfs staged under the host state dir (t.TempDir is 0700).
	dir := privateDir(t)
	root := filepath.Join(dir, "state")
	e := &env{t: t, root: root, config: filepath.Join(dir, "config.toml"), audit: filepath.Join(dir, "audit.jsonl"), hostState: filepath.Join(dir, "yoroi-state")}
	e.writeConfig(e.baseConfig())
	t.Cleanup(func() {
		// Remove whatever a failed test left running, then check that nothing at all is
		// mounted under the state root (a leftover id-mapped rootfs would also make
		// t.TempDir's cleanup descend into the shared rootfs).
		ents, _ := os.ReadDir(root)
		for _, ent := range ents {
			_ = e.cmd("delete", "--force", ent.Name()).Run()
		}
		for _, m := range append(mountsUnder(t, root), mountsUnder(t, e.hostState)...) {
			t.Errorf("mount left behind: %s", m)
			_ = unix.Unmount(strings.Fields(m)[4], unix.MNT_DETACH)
		}
	})
	return e
}

// uniqueID returns a container id that no other test (or earlier run) uses, so that
// cgroup leak checks by name are meaningful.
func uniqueID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "yoroi-it-" + prefix + "-" + hex.EncodeToString(b)
}

// baseConfig is testConfig for this env.
func (e *env) baseConfig() string { return fmt.Sprintf(testConfig, e.audit, e.hostState) }

// stagingDir is where yoroi stages a container's id-mapped rootfs (its containerKey).
func (e *env) stagingDir(id string) string {
	sum := sha256.Sum256([]byte(e.root))
	return filepath.Join(e.hostState, "mnt", hex.EncodeToString(sum[:4])+"-"+id)
}

// rangeHeld reports whether the id-range table still has an entry for id.
func (e *env) rangeHeld(id string) bool {
	data, err := os.ReadFile(filepath.Join(e.hostState, "userns.json"))
	return err == nil && strings.Contains(string(data), `"id":"`+id+`"`)
}

func (e *env) writeConfig(content string) {
	e.t.Helper()
	if err := os.WriteFile(e.config, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(yoroiBin, append(append([]string{"--root", e.root}, e.globalArgs...), args...)...)
	cmd.Env = append(os.Environ(), "YOROI_CONFIG="+e.config)
	cmd.Env = append(cmd.Env, e.extraEnv...)
	return cmd
}

// result is one finished yoroi invocation.
type result struct {
	stdout, stderr string
	code           int
}

func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runCmd(e.cmd(args...))
}

func (e *env) runCmd(cmd *exec.Cmd) result {
	e.t.Helper()
	// Files, not pipes: a detached container inherits yoroi's stdio, and Wait would block
	// until the container closed a pipe.
	stdout := e.tempFile()
	stderr := e.tempFile()
	// A detached container keeps its own copies of these descriptors: ours are closed
	// once read, so that a test counting the test process's descriptors sees no growth.
	defer stdout.Close()
	defer stderr.Close()
	if cmd.Stdout == nil {
		cmd.Stdout = stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = stderr
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		e.t.Fatalf("%v: timed out", cmd.Args)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%v: %v", cmd.Args, err)
	}
	return result{stdout: readAll(e.t, stdout), stderr: readAll(e.t, stderr), code: code}
}

func (e *env) tempFile() *os.File {
	e.t.Helper()
	f, err := os.CreateTemp(e.t.TempDir(), "out-")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// runQuiet is run for goroutines: it never calls Fatal (a timeout is exit code -1).
func (e *env) runQuiet(args ...string) result {
	cmd := e.cmd(args...)
	dir, err := os.MkdirTemp("", "yoroi-out-")
	if err != nil {
		return result{code: -1, stderr: err.Error()}
	}
	defer os.RemoveAll(dir)
	stdout, _ := os.Create(filepath.Join(dir, "stdout"))
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	code := 0
	if err := cmd.Run(); err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	return result{stdout: string(out), stderr: string(errOut), code: code}
}

// ok runs yoroi and fails the test unless it exits 0.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("yoroi %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// isErrorLine reports whether line is yoroi's one error line: "yoroi: …", or for a run or
// create that failed to start, runc's wording "yoroi run failed: …".
func isErrorLine(line string) bool {
	for _, p := range []string{"yoroi: ", "yoroi run failed: ", "yoroi create failed: "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// fails runs yoroi, expects a non-zero exit and exactly one line on stderr that
// contains want, and returns the result.
func (e *env) fails(want string, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code == 0 {
		e.t.Fatalf("yoroi %v succeeded, want failure %q\nstdout: %s", args, want, r.stdout)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !isErrorLine(lines[0]) {
		e.t.Errorf("yoroi %v: want one 'yoroi: ...' line on stderr, got %q", args, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		e.t.Errorf("yoroi %v: stderr %q does not contain %q", args, r.stderr, want)
	}
	return r
}

func (e *env) state(id string) specs.State {
	e.t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(e.ok("state", id)), &st); err != nil {
		e.t.Fatalf("state %s: %v", id, err)
	}
	return st
}

func (e *env) waitStatus(id string, want specs.ContainerState) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A container that a concurrent create or run has not registered yet does not
		// exist: that is a status too ("").
		var st specs.State
		if r := e.runQuiet("state", id); r.code == 0 {
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				e.t.Fatalf("state %s: %v", id, err)
			}
		}
		if st.Status == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %s", id, st.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNoLeftovers checks that nothing of container id remains: no state directory, no
// mount under the state root, no cgroup named after it.
func (e *env) assertNoLeftovers(id string) {
	e.t.Helper()
	if _, err := os.Lstat(filepath.Join(e.root, id)); !errors.Is(err, fs.ErrNotExist) {
		e.t.Errorf("state dir of %s left behind (err=%v)", id, err)
	}
	for _, dir := range []string{filepath.Join(e.root, id), e.stagingDir(id)} {
		for _, m := range mountsUnder(e.t, dir) {
			e.t.Errorf("mount of %s left behind: %s", id, m)
		}
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			e.t.Errorf("%s left behind (err=%v)", dir, err)
		}
	}
	if e.rangeHeld(id) {
		e.t.Errorf("id range of %s left behind", id)
	}
	for _, d := range cgroupDirs(id) {
		e.t.Errorf("cgroup left behind: %s", d)
	}
	if err := e.monitorGone(id); err != nil {
		e.t.Error(err)
	}
	if _, err := os.Lstat(filepath.Join(e.root, ".yoroi", "decisions", id+".json")); !errors.Is(err, fs.ErrNotExist) {
		e.t.Errorf("decisions of %s left behind (err=%v)", id, err)
	}
}

func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// cgroupDirs finds directories named id in every cgroup hierarchy (v1 controllers nest
// under the caller's own cgroup, so search a few levels deep).
func cgroupDirs(id string) []string {
	var out []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == id {
			out = append(out, p)
			return fs.SkipDir
		}
		if strings.Count(p, "/") > 7 {
			return fs.SkipDir
		}
		return nil
	})
	return out
}

// bundle is a test bundle whose config.json is written by yoroi spec and then edited.
type bundle struct {
	dir  string
	spec *specs.Spec
}

// newBundle makes a bundle running args with the shared busybox rootfs.
func (e *env) newBundle(args ...string) *bundle {
	e.t.Helper()
	dir := e.t.TempDir()
	e.ok("spec", "--bundle", dir)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	b := &bundle{dir: dir}
	if err := json.Unmarshal(data, &b.spec); err != nil {
		e.t.Fatal(err)
	}
	b.spec.Root.Path = rootfsTemplate
	b.spec.Process.Terminal = false
	b.spec.Process.Args = args
	b.save(e.t)
	return b
}

// copyRootfs is a private copy of the busybox rootfs, for images a test changes.
func copyRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(privateDir(t), "rootfs")
	copyTree(t, rootfsTemplate, dir)
	return dir
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := runClient("cp", "-a", src, dst); err != nil {
		t.Fatalf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
}

func (b *bundle) save(t *testing.T) {
	t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// edit changes the spec and saves it.
func (b *bundle) edit(t *testing.T, f func(*specs.Spec)) *bundle {
	t.Helper()
	f(b.spec)
	b.save(t)
	return b
}

// consoleReceiver is the receiving end of --console-socket, as containerd implements it:
// it gets the pty master over SCM_RIGHTS and collects what the container writes.
type consoleReceiver struct {
	path   string
	ln     *net.UnixListener
	master chan *os.File
	errc   chan error
}

func newConsoleReceiver(t *testing.T) *consoleReceiver {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	r := &consoleReceiver{path: path, ln: ln, master: make(chan *os.File, 1), errc: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			r.errc <- err
			return
		}
		defer conn.Close()
		buf := make([]byte, 256)
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			r.errc <- err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			r.errc <- errors.New("no control message with the console")
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			r.errc <- errors.New("no fd in the control message")
			return
		}
		r.master <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	return r
}

// output waits for the pty master and reads until the terminal closes (EIO).
func (r *consoleReceiver) output(t *testing.T) string {
	t.Helper()
	var m *os.File
	select {
	case m = <-r.master:
	case err := <-r.errc:
		t.Fatalf("console socket: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no console received")
	}
	defer m.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&out, m)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("terminal output did not end")
	}
	return out.String()
}
