package runtime

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The test binary is what libcontainer re-executes as a container's init (and what the
// Landlock launcher's constructor takes over): these tests run real containers through
// the Runtime API, as the CLI does.
func init() {
	if done, code := MaybeInit(); done {
		os.Exit(code)
	}
}

// testHost is a state root, config.toml, audit log and busybox bundle of its own.
type testHost struct {
	t      *testing.T
	dir    string
	r      *Runtime
	bundle string
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating containers needs root (CI runs the unit tests as root)")
	}
	// The container runs this binary (libcontainer's init, the Landlock launcher) where
	// the host's libc is not: it must be linked statically, as bin/yoroi is.
	if exe, err := elf.Open("/proc/self/exe"); err == nil {
		dynamic := slices.ContainsFunc(exe.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		exe.Close()
		if dynamic {
			t.Fatal("the test binary is linked dynamically: run the runtime package's tests with `make unit` (-tags netgo,osusergo -ldflags '-extldflags -static')")
		}
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox (busybox-static) is not installed")
	}
	// The container's root, an unprivileged host uid, walks to the staged root: the
	// directories above it are searchable (t.TempDir's are not).
	dir, err := os.MkdirTemp("", "yoroi-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // create chdirs into the bundle: given back after the test
	h := &testHost{t: t, dir: dir, bundle: filepath.Join(dir, "bundle")}
	rootfs := filepath.Join(h.bundle, "rootfs")
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "run", "etc", "data"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", busybox, filepath.Join(rootfs, "bin", "busybox")).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, p := range []string{"sh", "cat", "echo", "id", "ls", "sleep", "touch", "grep", "true", "head"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := "[audit]\npath = \"" + filepath.Join(dir, "audit.jsonl") + "\"\n[runtime]\nstate_dir = \"" + filepath.Join(dir, "state") + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if h.r, err = New(Options{Root: filepath.Join(dir, "root"), ConfigPath: filepath.Join(dir, "config.toml"), ConfigExplicit: true}); err != nil {
		t.Fatal(err)
	}
	h.writeSpec(func(*specs.Spec) {})
	return h
}

// writeSpec writes the bundle's config.json: runc's template running sh, changed by edit.
func (h *testHost) writeSpec(edit func(s *specs.Spec)) {
	h.t.Helper()
	s := ExampleSpec()
	s.Process.Terminal = false
	s.Process.Args = []string{"sh", "-c", "true"}
	edit(s)
	data, err := json.Marshal(s)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.bundle, SpecConfig), data, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// stdout runs f with the process' standard output (which a foreground container's is
// copied to) captured.
func stdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		data, _ := io.ReadAll(r)
		done <- string(data)
	}()
	ferr := f()
	os.Stdout = saved
	w.Close()
	return <-done, ferr
}

// run runs args in a new container in the foreground and returns its output and status.
func (h *testHost) run(id string, args ...string) (string, int, error) {
	h.t.Helper()
	h.writeSpec(func(s *specs.Spec) { s.Process.Args = args })
	status := -1
	out, err := stdout(h.t, func() error {
		var err error
		status, err = h.r.Run(CreateOptions{ID: id, Bundle: h.bundle})
		return err
	})
	return out, status, err
}

// auditEvents are the audit log's lines about id.
func (h *testHost) auditEvents(id string) []map[string]any {
	h.t.Helper()
	f, err := os.Open(filepath.Join(h.dir, "audit.jsonl"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			h.t.Fatal(err)
		}
		if ev["id"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// leftovers lists what yoroi still holds for id: state, staging, id reservations.
func (h *testHost) leftovers(id string) []string {
	h.t.Helper()
	var out []string
	if h.r.exists(id) {
		out = append(out, "state")
	}
	if _, err := os.Stat(h.r.stagingDir(id)); err == nil {
		out = append(out, "staging "+h.r.stagingDir(id))
	}
	if al, err := h.r.hostIDs().lookup(id); err != nil || al != nil {
		out = append(out, "id reservation")
	}
	return out
}

var uidMapLine = regexp.MustCompile(`(?m)^\s*0\s+(\d+)\s+\d+$`)

func TestRunIsHardened(t *testing.T) {
	h := newTestHost(t)
	out, status, err := h.run("hardened", "sh", "-c", "grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status; cat /proc/self/uid_map; touch /x 2>/dev/null || echo ro-root; touch /tmp/x && echo tmp-writable")
	if err != nil || status != 0 {
		t.Fatalf("status %d, %v: %s", status, err, out)
	}
	for _, want := range []string{"NoNewPrivs:\t1", "Seccomp:\t2", "ro-root", "tmp-writable"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if m := uidMapLine.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("uid_map does not map container root to a private host id:\n%s", out)
	}
	if left := h.leftovers("hardened"); len(left) > 0 {
		t.Errorf("left behind after run: %v", left)
	}
	var created bool
	for _, ev := range h.auditEvents("hardened") {
		created = created || ev["event"] == "create"
	}
	if !created {
		t.Error("no create event in the audit log")
	}
}

// policy explain shows the spec that would run, the staged root included, verified.
func TestExplainShowsTheStagedRoot(t *testing.T) {
	h := newTestHost(t)
	e, err := h.r.Explain(ExplainOptions{Bundle: h.bundle, ID: "x"})
	if err != nil || e.Refusal != "" {
		t.Fatalf("%+v %v", e, err)
	}
	last := e.Decisions[len(e.Decisions)-1]
	if e.Spec.Root.Path != h.r.stagedRoot("x") || last.Outcome != hardening.Staged || last.Rule != "rootfs.idmap" {
		t.Errorf("root %s, last decision %+v", e.Spec.Root.Path, last)
	}
}

func TestRunExitStatus(t *testing.T) {
	h := newTestHost(t)
	if _, status, err := h.run("status", "sh", "-c", "exit 7"); err != nil || status != 7 {
		t.Fatalf("status %d, %v", status, err)
	}
	_, _, err := h.run("missing", "/bin/no-such-program")
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("a missing program: %v", err)
	}
	if left := h.leftovers("missing"); len(left) > 0 {
		t.Errorf("a failed create left %v", left)
	}
}

// A refused spec leaves nothing behind and says why in one line, audited.
func TestRefusalLeavesNothing(t *testing.T) {
	h := newTestHost(t)
	h.writeSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/host", Source: "/", Type: "bind", Options: []string{"rbind"}})
	})
	err := h.r.Create(CreateOptions{ID: "refused", Bundle: h.bundle})
	if !hardening.IsRefusal(err) || !strings.HasPrefix(err.Error(), "refused by rule mounts.source: ") {
		t.Fatalf("got %v", err)
	}
	if left := h.leftovers("refused"); len(left) > 0 {
		t.Errorf("a refusal left %v", left)
	}
	evs := h.auditEvents("refused")
	if len(evs) == 0 || evs[len(evs)-1]["event"] != "refusal" {
		t.Errorf("audit: %v", evs)
	}
	exp, err := h.r.Explain(ExplainOptions{Bundle: h.bundle})
	if err != nil || !strings.HasPrefix(exp.Refusal, "refused by rule mounts.source: ") || exp.Spec != nil {
		t.Errorf("explain: %+v, %v", exp, err)
	}
}

// create, state, start, exec, ps, pause, resume, update, kill, delete: the lifecycle a
// shim drives, on one container.
func TestLifecycle(t *testing.T) {
	h := newTestHost(t)
	const id = "life"
	h.writeSpec(func(s *specs.Spec) { s.Process.Args = []string{"sleep", "300"} })
	if err := h.r.Create(CreateOptions{ID: id, Bundle: h.bundle}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.r.Delete(id, true) })
	st, err := h.r.State(id)
	if err != nil || st.Status != "created" || st.Annotations[hardening.AnnotationUserNS] != "allocated" {
		t.Fatalf("state %+v, %v", st, err)
	}
	if err := h.r.Start(id, ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.r.State(id); st.Status != "running" {
		t.Fatalf("after start: %s", st.Status)
	}
	var status int
	out, err := stdout(t, func() error {
		var err error
		status, err = h.r.Exec(ExecOptions{ID: id, Args: []string{"sh", "-c", "grep NoNewPrivs /proc/self/status; exit 3"}, Cwd: "/", Env: []string{"PATH=/bin"}})
		return err
	})
	if err != nil || status != 3 || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Fatalf("exec: status %d, %v: %q", status, err, out)
	}
	if _, err := h.r.Exec(ExecOptions{ID: id, Args: []string{"true"}, Caps: []string{"CAP_SYS_ADMIN"}}); !hardening.IsRefusal(err) {
		t.Errorf("exec with CAP_SYS_ADMIN: %v", err)
	}
	if pids, err := h.r.Processes(id); err != nil || len(pids) == 0 {
		t.Errorf("ps: %v %v", pids, err)
	}
	if list, err := h.r.List(func(error) {}); err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("list: %+v %v", list, err)
	}
	if err := h.r.Pause(id); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.r.State(id); st.Status != "paused" {
		t.Errorf("after pause: %s", st.Status)
	}
	if err := h.r.Resume(id); err != nil {
		t.Fatal(err)
	}
	limit := int64(100)
	if err := h.r.Update(id, UpdateOptions{Resources: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}}); err != nil {
		t.Errorf("update within the policy: %v", err)
	}
	limit = 1 << 20
	if err := h.r.Update(id, UpdateOptions{Resources: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}}); !hardening.IsRefusal(err) {
		t.Errorf("update above pids.limit: %v", err)
	}
	var events strings.Builder
	if err := h.r.Events(id, time.Second, true, &events); err != nil || !strings.Contains(events.String(), `"type":"stats"`) {
		t.Errorf("events --stats: %v %q", err, events.String())
	}
	if err := h.r.Kill(id, unix.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if err := h.r.Delete(id, true); err != nil {
		t.Fatal(err)
	}
	if left := h.leftovers(id); len(left) > 0 {
		t.Errorf("delete left %v", left)
	}
	if _, err := h.r.State(id); err == nil {
		t.Error("state of a deleted container")
	}
}

// A create that fails after staging its root filesystem undoes it.
func TestFailedCreateRollsBack(t *testing.T) {
	h := newTestHost(t)
	h.writeSpec(func(s *specs.Spec) {
		s.Process.Args = []string{"sh"}
		s.Process.Env = []string{"PATH=/nowhere"}
	})
	err := h.r.Create(CreateOptions{ID: "rollback", Bundle: h.bundle})
	var ee interface{ Error() string }
	if err == nil || !strings.Contains(err.Error(), "executable file not found in $PATH") || errors.As(err, &ee) && hardening.IsRefusal(err) {
		t.Fatalf("got %v", err)
	}
	if left := h.leftovers("rollback"); len(left) > 0 {
		t.Errorf("left %v", left)
	}
	if err := h.r.Create(CreateOptions{ID: "rollback", Bundle: filepath.Join(h.dir, "nowhere")}); err == nil {
		t.Error("a missing bundle")
	}
}

func TestCheckAndFeatures(t *testing.T) {
	h := newTestHost(t)
	items, err := h.r.Check()
	if err != nil || len(items) == 0 {
		t.Fatalf("check: %v %v", items, err)
	}
	f, err := h.r.Features("test")
	if err != nil {
		t.Fatal(err)
	}
	if f.Annotations[AnnotationVersion] != "test" || len(f.MountOptions) == 0 || f.Annotations[hardening.FeatureMACInForce] == "" {
		t.Errorf("features %+v", f)
	}
}

// profile record learns the syscalls and the writes of a run, on a writable overlay of
// the root filesystem that it throws away.
func TestRecord(t *testing.T) {
	h := newTestHost(t)
	h.writeSpec(func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "mkdir -p /var/cache/app && echo x > /var/cache/app/f && cat /var/cache/app/f"}
	})
	seccomp, profile := filepath.Join(h.dir, "seccomp.json"), filepath.Join(h.dir, "profile.toml")
	out, err := stdout(t, func() error {
		status, err := h.r.Record(CreateOptions{ID: "rec", Bundle: h.bundle}, RecordOutputs{Seccomp: seccomp, Profile: profile, ProfileName: "app"})
		if err == nil && status != 0 {
			err = errors.New("status " + strconv.Itoa(status))
		}
		return err
	})
	if err != nil || out != "x\n" {
		t.Fatalf("%v: %q", err, out)
	}
	data, err := os.ReadFile(profile)
	if err != nil || !strings.Contains(string(data), "[profiles.app.seccomp]") || !strings.Contains(string(data), `scratch_copy = ["/var"]`) {
		t.Errorf("profile: %v\n%s", err, data)
	}
	var s specs.LinuxSeccomp
	if data, err := os.ReadFile(seccomp); err != nil || json.Unmarshal(data, &s) != nil || len(s.Syscalls) == 0 {
		t.Errorf("seccomp profile: %v %s", err, data)
	}
	if _, err := os.Stat(filepath.Join(h.bundle, "rootfs", "var")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the recording wrote into the image: %v", err)
	}
	if left := h.leftovers("rec"); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}

// A root filesystem that is an overlay mount (Docker's, containerd's) is rebuilt from
// id-mapped layers; the caller's NOTIFY_SOCKET is relayed.
func TestOverlayRootAndNotifySocket(t *testing.T) {
	h := newTestHost(t)
	rootfs := filepath.Join(h.bundle, "rootfs")
	lower := filepath.Join(h.dir, "lower")
	if err := os.Rename(rootfs, lower); err != nil {
		t.Fatal(err)
	}
	upper, work := filepath.Join(h.dir, "upper"), filepath.Join(h.dir, "work")
	for _, d := range []string{rootfs, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("overlay", rootfs, "overlay", 0, "lowerdir="+lower+",upperdir="+upper+",workdir="+work); err != nil {
		t.Skipf("overlay: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(rootfs, unix.MNT_DETACH) })
	notify := filepath.Join(h.dir, "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h.writeSpec(func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "echo $NOTIFY_SOCKET; ls /run/notify; head -c 4 /bin/busybox | grep -c ELF"}
	})
	var status int
	out, err := stdout(t, func() error {
		var err error
		status, err = h.r.Run(CreateOptions{ID: "overlay", Bundle: h.bundle, NotifySocket: notify})
		return err
	})
	if err != nil || status != 0 || out != "/run/notify/notify.sock\nnotify.sock\n1\n" {
		t.Fatalf("status %d, %v: %q", status, err, out)
	}
	if left := h.leftovers("overlay"); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}

// A terminal container hands its pty master to the caller's console socket.
func TestConsoleSocket(t *testing.T) {
	h := newTestHost(t)
	sock := filepath.Join(h.dir, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	master := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			master <- nil
			return
		}
		defer c.Close()
		f, err := c.File()
		if err != nil {
			master <- nil
			return
		}
		defer f.Close()
		m, _ := utils.RecvFile(f) //nolint:staticcheck // as the runtime's own tty code.
		master <- m
	}()
	h.writeSpec(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh", "-c", "test -t 0 && echo tty-ok; sleep 1"}
	})
	if err := h.r.Create(CreateOptions{ID: "tty", Bundle: h.bundle, ConsoleSocket: sock}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.r.Delete("tty", true) })
	m := <-master
	if m == nil {
		t.Fatal("no pty master received")
	}
	defer m.Close()
	if err := h.r.Start("tty", ""); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := m.Read(buf)
	if !strings.Contains(string(buf[:n]), "tty-ok") {
		t.Errorf("read %q from the pty", buf[:n])
	}
}

// update sets what it is given and keeps the rest, as runc's.
func TestUpdateResources(t *testing.T) {
	h := newTestHost(t)
	h.writeSpec(func(s *specs.Spec) { s.Process.Args = []string{"sleep", "300"} })
	if err := h.r.Create(CreateOptions{ID: "upd", Bundle: h.bundle}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.r.Delete("upd", true) })
	mem, shares, quota, period := int64(64<<20), uint64(512), int64(50000), uint64(100000)
	err := h.r.Update("upd", UpdateOptions{Resources: specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &mem},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.r.load("upd")
	if err != nil {
		t.Fatal(err)
	}
	res := c.Config().Cgroups.Resources
	if res.Memory != mem || res.CpuQuota != quota || res.CpuPeriod != period || res.PidsLimit == nil || *res.PidsLimit != 4096 {
		t.Errorf("resources after update: memory %d quota %d period %d pids %v", res.Memory, res.CpuQuota, res.CpuPeriod, res.PidsLimit)
	}
}

// A foreground terminal container: its pty is relayed to yoroi's terminal (here a pty
// the test holds the master of).
func TestForegroundTerminal(t *testing.T) {
	h := newTestHost(t)
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	saved := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	os.Stdin, os.Stdout, os.Stderr = slave, slave, slave
	defer func() { os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2] }()
	out := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 256)
		for !strings.Contains(b.String(), "relayed") {
			n, err := master.Read(buf)
			if err != nil {
				break
			}
			b.Write(buf[:n])
		}
		out <- b.String()
	}()
	h.writeSpec(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh", "-c", "test -t 0 && test -t 1 && echo tty-relayed"}
	})
	status, err := h.r.Run(CreateOptions{ID: "fgtty", Bundle: h.bundle})
	os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2]
	if err != nil || status != 0 {
		t.Fatalf("status %d, %v", status, err)
	}
	select {
	case got := <-out:
		if !strings.Contains(got, "tty-relayed") {
			t.Errorf("the terminal showed %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing relayed to the terminal")
	}
}
