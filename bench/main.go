// Command bench measures the price of yoroi's hardening side by side with runc and crun,
// in one run on one machine (make bench; make test runs it once with -smoke so that it
// cannot rot). It prints a Markdown report and writes it to -out.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
)

type options struct {
	yoroi, shim, runcNew, runcDebian, crun, runsc, containerd2 string
	runcShimSameLib, apps                                      string
	n, warmup, idle, concurrent                                int
	out, sections                                              string
	smoke                                                      bool
}

func main() {
	var o options
	flag.StringVar(&o.yoroi, "yoroi", "bin/yoroi", "yoroi binary")
	flag.StringVar(&o.shim, "shim", "bin/containerd-shim-yoroi-v2", "yoroi's containerd shim")
	flag.StringVar(&o.runcNew, "runc-new", "", "runc built from the newest runc module")
	flag.StringVar(&o.runcDebian, "runc-debian", "/usr/sbin/runc", "Debian's runc")
	flag.StringVar(&o.crun, "crun", "/usr/bin/crun", "Debian's crun")
	flag.StringVar(&o.runsc, "runsc", "", "gVisor's runsc (empty: left out)")
	flag.StringVar(&o.apps, "apps", "", "the real-application image's directory (make apps-image; empty: no application section)")
	flag.StringVar(&o.sections, "sections", "", "comma-separated section names to run (default all: "+strings.Join(sectionNames(), ",")+")")
	flag.StringVar(&o.containerd2, "containerd2", "", "directory with containerd 2.x, ctr and containerd-shim-runc-v2")
	flag.StringVar(&o.runcShimSameLib, "runc-shim-samelib", "", "containerd-shim-runc-v2 built from the containerd library yoroi's shim uses")
	flag.IntVar(&o.n, "n", 50, "measured runs per runtime")
	flag.IntVar(&o.warmup, "warmup", 3, "unmeasured runs first")
	flag.IntVar(&o.idle, "idle", 50, "idle containers for the shim memory measure")
	flag.IntVar(&o.concurrent, "concurrent", 100, "containers started at once")
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "where to write the report")
	flag.BoolVar(&o.smoke, "smoke", false, "one iteration of everything (for make test)")
	flag.Parse()
	if o.smoke {
		o.n, o.warmup, o.idle, o.concurrent = 1, 0, 2, 4
	}
	report, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if !o.smoke {
		fmt.Print(report)
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "bench: report written to", o.out)
}

func abs(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// bench holds the work directory and what every measure shares.
type bench struct {
	o       options
	work    string
	state   string // the runtimes' state roots: a tmpfs, as /run is on most hosts
	rootfs  string // busybox + testprog
	bundle  string // /bin/true
	config  string // yoroi's config.toml
	report  strings.Builder
	results map[string]stats
	// sleepBundle is the long-running container's bundle (sleeper).
	sleepBundle string
	// failures counts the runs that failed, over every section: a smoke run with any
	// fails, so that a section that no longer runs cannot pass unnoticed.
	failMu   sync.Mutex
	failures int
}

// fail reports a failed run.
func (b *bench) fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	b.failMu.Lock()
	b.failures++
	b.failMu.Unlock()
}

type stats struct {
	median, p90, min time.Duration
	maxRSSKiB        int64
	failures         int
	// rounds is each measured round's run, in round order (0: it failed), for ratios
	// paired by round (pairedRatio).
	rounds []time.Duration
}

func run(o options) (string, error) {
	for _, p := range []*string{&o.yoroi, &o.shim, &o.runcNew, &o.runcDebian, &o.crun, &o.runsc, &o.containerd2, &o.runcShimSameLib, &o.apps, &o.out} {
		*p = abs(*p)
	}
	work, err := os.MkdirTemp("", "yoroi-bench-")
	if err != nil {
		return "", err
	}
	defer removeWork(work)
	if err := os.Chmod(work, 0o711); err != nil {
		return "", err
	}
	b := &bench{o: o, work: work, results: map[string]stats{}}
	if err := b.setup(); err != nil {
		return "", err
	}
	b.machine()
	want := map[string]bool{}
	for _, name := range strings.Split(o.sections, ",") {
		if name != "" {
			want[name] = true
		}
	}
	for _, sec := range sections {
		if len(want) == 0 || want[sec.name] {
			sec.run(b)
		}
	}
	if o.smoke && b.failures > 0 {
		return "", fmt.Errorf("%d runs failed (above)", b.failures)
	}
	return b.report.String(), nil
}

// sections are the report's measures, in the order they run and print.
var sections = []struct {
	name string
	run  func(*bench)
}{
	{"start", (*bench).startLatency},
	{"apps", (*bench).applications},
	{"syscall", (*bench).seccompOverhead},
	{"idmap", (*bench).idmapLatency},
	{"attribution", (*bench).attribution},
	{"concurrent", (*bench).concurrentStarts},
	{"posture", (*bench).postureCost},
	{"telemetry", (*bench).telemetryCost},
	{"containerd", (*bench).containerd},
	{"delete", (*bench).deleteLatency},
}

func sectionNames() []string {
	var names []string
	for _, s := range sections {
		names = append(names, s.name)
	}
	return names
}

func (b *bench) printf(format string, args ...any) {
	if strings.HasPrefix(format, "## ") {
		fmt.Fprintf(os.Stderr, "bench: %s", strings.SplitN(fmt.Sprintf(format, args...), "\n", 2)[0]+"\n")
	}
	fmt.Fprintf(&b.report, format, args...)
}

func sh(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out), nil
}

const config = `
[audit]
path = "%[1]s/audit.jsonl"
# yoroi's host-wide state (the id ranges handed out, the staged id-mapped roots) on the
# bench's tmpfs like the runtimes' state roots: its default, /run/yoroi/.yoroi, is on a tmpfs
# on the distributions yoroi runs on.
[runtime]
state_dir = "%[1]s/run/yoroi-state"

# Every rule that can be relaxed, relaxed: no user namespace (so no id-mapped rootfs), no
# seccomp filter (with an allow-all spec profile), writable and executable mounts. Landlock
# and the rules that only tighten the spec still apply: yoroi has no switch for them.
[profiles.relaxed.userns]
allow_host = true
[profiles.relaxed.seccomp]
allow_unconfined = true
[profiles.relaxed.mounts]
allow_exec = true
[profiles.relaxed.mac]
landlock_exec_writable = true

# Only the user namespace relaxed: the start latency of the id-mapped rootfs.
[profiles.no-userns.userns]
allow_host = true

# Telemetry off: what the container's monitor costs.
[profiles.no-telemetry.telemetry]
seccomp_denials = false
exec = false

# Landlock allow-lists: what their rules cost.
[profiles.lists.files]
exec = ["/bin/busybox", "/bin/testprog"]
read = ["/bin", "/etc"]
write = ["/tmp", "/dev/null"]

# Only seccomp relaxed: the filter's build and install time per create.
[profiles.no-seccomp.seccomp]
allow_unconfined = true
`

func (b *bench) setup() error {
	// Runtimes keep their state under /run (runc's /run/runc, containerd's
	// /run/containerd, yoroi's /run/yoroi), a tmpfs on the distributions they run on;
	// here it is one of the bench's own, whatever /run is on this machine.
	b.state = filepath.Join(b.work, "run")
	if err := os.Mkdir(b.state, 0o711); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", b.state, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0711"); err != nil {
		return fmt.Errorf("a tmpfs for the state roots: %w", err)
	}
	b.rootfs = filepath.Join(b.work, "rootfs")
	bin := filepath.Join(b.rootfs, "bin")
	for _, d := range []string{bin, filepath.Join(b.rootfs, "proc"), filepath.Join(b.rootfs, "dev"), filepath.Join(b.rootfs, "sys"), filepath.Join(b.rootfs, "tmp"), filepath.Join(b.rootfs, "run"), filepath.Join(b.rootfs, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	if _, err := sh("cp", busybox, filepath.Join(bin, "busybox")); err != nil {
		return err
	}
	for _, a := range []string{"sh", "true", "sleep", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(bin, a)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(b.rootfs, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(bin, "testprog"), "./integration/testprog")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build testprog: %v: %s", err, out)
	}
	b.config = filepath.Join(b.work, "config.toml")
	if err := os.WriteFile(b.config, []byte(fmt.Sprintf(config, b.work)), 0o600); err != nil {
		return err
	}
	// crun needs the hugetlb controller mounted on this hybrid cgroup host.
	if _, err := os.Stat("/sys/fs/cgroup/hugetlb"); err != nil {
		_ = os.MkdirAll("/sys/fs/cgroup/hugetlb", 0o755)
		_, _ = sh("mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", "/sys/fs/cgroup/hugetlb")
	}
	var err2 error
	b.bundle, err2 = b.makeBundle("true", b.rootfs, nil, "/bin/true")
	return err2
}

// makeBundle writes a bundle (config.json from yoroi spec) running args on rootfs.
func (b *bench) makeBundle(name, rootfs string, edit func(map[string]any), args ...string) (string, error) {
	dir := filepath.Join(b.work, "bundle-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if _, err := sh(b.o.yoroi, "spec", "--bundle", dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", err
	}
	spec["root"].(map[string]any)["path"] = rootfs
	spec["ociVersion"] = "1.0.2" // what every runtime compared here accepts (crun 1.8 knows no 1.3.0)
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = args
	if edit != nil {
		edit(spec)
	}
	data, _ = json.MarshalIndent(spec, "", "  ")
	return dir, os.WriteFile(path, data, 0o644)
}

// annotate selects a profile of the bench's config; the profiles that allow an unconfined
// seccomp profile also get one (allow by default), in place of yoroi's built-in filter.
func annotate(profile string) func(map[string]any) {
	return func(s map[string]any) {
		s["annotations"] = map[string]any{"org.yoroi.profile": profile}
		if profile == "relaxed" || profile == "no-seccomp" {
			s["linux"].(map[string]any)["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_ALLOW"}
		}
	}
}

// runtimeCmd is one runtime's `run` of a bundle.
type runtimeCmd struct {
	label  string
	binary string
	args   []string // global flags
	env    []string
	bundle string
}

// yoroiCmd is yoroi's `run` of bundle, with the bench's config.
// fullHardening labels yoroi under its default policy.
const fullHardening = "yoroi (full hardening)"

func (b *bench) yoroiCmd(label, bundle string) runtimeCmd {
	return runtimeCmd{label, b.o.yoroi, nil, b.yoroiEnv(), bundle}
}

func (b *bench) yoroiEnv() []string { return []string{"YOROI_CONFIG=" + b.config} }

func version(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "?"
	}
	f := strings.Fields(strings.SplitN(string(out), "\n", 2)[0])
	return f[len(f)-1]
}

var seq int
var seqMu sync.Mutex

func nextID(prefix string) string {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return fmt.Sprintf("bench-%d-%s-%d", os.Getpid(), prefix, seq)
}

// once runs `run` of the bundle and returns its wall time and the resources used by the
// runtime and every process it waited for (the container's init among them).
func (b *bench) once(r runtimeCmd, root string) (time.Duration, *syscall.Rusage, error) {
	return r.timed(root, "run", "--bundle", r.bundle, nextID("run"))
}

// timed runs one verb of the runtime with its state under root and returns its wall time
// and the resources used by it and every process it waited for.
func (r runtimeCmd) timed(root string, verb ...string) (time.Duration, *syscall.Rusage, error) {
	args := append(append(append([]string{}, r.args...), "--root", root), verb...)
	cmd := exec.Command(r.binary, args...)
	cmd.Env = append(os.Environ(), r.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, nil, fmt.Errorf("%s %s: %v: %s", r.label, verb[0], err, out.String())
	}
	return d, cmd.ProcessState.SysUsage().(*syscall.Rusage), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func (b *bench) machine() {
	cpu := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	var u syscall.Utsname
	_ = syscall.Uname(&u)
	rel := utsString(u.Release[:])
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(data), "\n", 2)[0])[1] + " kB"
	}
	b.printf("# yoroi benchmarks\n\n")
	b.printf("Machine: %s, %d CPUs, %s RAM, Linux %s, %s. %d measured runs after %d warm-up runs each. Every runtime keeps its state on a tmpfs (as under /run on most distributions); bundles and the audit log are on the machine's disk.\n\n", cpu, runtime.NumCPU(), mem, rel, time.Now().UTC().Format("2006-01-02"), b.o.n, b.o.warmup)
}

func utsString(a []int8) string {
	var s []byte
	for _, c := range a {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func dockerProfile() (any, error) {
	data, err := os.ReadFile("hardening/testdata/specs/docker-default.json")
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	return spec["linux"].(map[string]any)["seccomp"], nil
}

// removeWork removes the bench's work directory, unmounting first what runtimes left
// mounted in their state roots: runsc pins the network namespace of --network=none by a
// bind mount (ROOT/null-netns) that no runsc command removes.
func removeWork(work string) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(work))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	// Deepest first.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	for _, m := range mounts {
		if err := syscall.Unmount(m.Mountpoint, syscall.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "bench: unmount %s: %v\n", m.Mountpoint, err)
		}
	}
	if err := os.RemoveAll(work); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}
