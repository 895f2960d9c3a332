package main

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// containerd: measures 9 (ctr run --rm through each shim) and 10 (memory per idle
// container beside its own processes: the shim, and yoroi's monitor), with containerd 2.x,
// its own runc.v2 shim and yoroi's shim.
func (b *bench) containerd() {
	if b.o.containerd2 == "" {
		return
	}
	// yoroi, its shim and containerd's own runc.v2 shim (same containerd version) in PATH.
	// A containerd of its own runs the runc shim built from yoroi's shim library under
	// runc's runtime name, so that ctr can give it runc's options (a root of its own).
	daemons := []benchDaemon{{"containerd", [][2]string{{b.o.yoroi, "yoroi"}, {b.o.shim, "containerd-shim-yoroi-v2"}, {filepath.Join(b.o.containerd2, "containerd-shim-runc-v2"), "containerd-shim-runc-v2"}}}}
	if b.o.runcShimSameLib != "" && b.o.runcNew != "" {
		daemons = append(daemons, benchDaemon{"containerd-samelib", [][2]string{{b.o.runcShimSameLib, "containerd-shim-runc-v2"}}})
	}
	// containerd's shim library puts every shim's socket in /run/containerd/s, whatever
	// the configuration; the directories it makes there go once the daemons are stopped
	// (deferred before them), where they are empty again.
	var made []string
	for _, d := range []string{"/run/containerd/s", "/run/containerd"} {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			made = append(made, d)
		}
	}
	defer func() {
		for _, d := range made {
			_ = os.Remove(d)
		}
	}()
	socks := map[string]string{}
	for _, d := range daemons {
		dir := filepath.Join(b.work, d.name)
		sock, stop, err := b.startContainerd(dir, d.links)
		if err != nil {
			b.fail(err)
			b.printf("## 9–10. containerd\n\nerror: %v\n\n", err)
			return
		}
		defer stop()
		socks[d.name] = sock
	}
	ctr := func(k shimKind, args ...string) error {
		cmd := exec.Command(filepath.Join(b.o.containerd2, "ctr"), append([]string{"--address", k.sock}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ctr %v: %v: %s", args, err, out)
		}
		return nil
	}
	// ctr's flags for a kind's run: its FIFOs, and runc's root where runc's shim runs,
	// in the daemon's directory (ctr's defaults are in /run/containerd).
	flags := func(daemon string, runtime ...string) []string {
		dir := filepath.Dir(socks[daemon])
		f := append([]string{"--fifo-dir", filepath.Join(dir, "fifo")}, runtime...)
		if slices.Contains(runtime, "io.containerd.runc.v2") {
			f = append(f, "--runc-root", filepath.Join(dir, "runc"))
		}
		return f
	}
	kinds := []shimKind{
		{"io.containerd.yoroi.v2 (containerd " + shimLibVersion(b.o.shim) + ", yoroi)", "bench-yoroi", b.o.shim, socks["containerd"],
			flags("containerd", "--runtime", "io.containerd.yoroi.v2")},
	}
	if b.o.runcNew != "" {
		runcShim := filepath.Join(b.o.containerd2, "containerd-shim-runc-v2")
		kinds = append(kinds, shimKind{"io.containerd.runc.v2 (containerd " + shimLibVersion(runcShim) + ", runc " + version(b.o.runcNew) + ")", "bench-runc", runcShim, socks["containerd"],
			flags("containerd", "--runtime", "io.containerd.runc.v2", "--runc-binary", b.o.runcNew)})
		if b.o.runcShimSameLib != "" {
			kinds = append(kinds, shimKind{"io.containerd.runc.v2 (containerd " + shimLibVersion(b.o.runcShimSameLib) + ", yoroi's shim library; runc " + version(b.o.runcNew) + ")", "bench-runc-samelib", b.o.runcShimSameLib, socks["containerd-samelib"],
				flags("containerd-samelib", "--runtime", "io.containerd.runc.v2", "--runc-binary", b.o.runcNew)})
		}
	}

	// The tasks' cgroups are <namespace>/<id>; the runc shim removes only the last part.
	defer func() {
		for _, k := range kinds {
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + k.ns)
			for _, d := range append(dirs, "/sys/fs/cgroup/"+k.ns) {
				_ = os.Remove(d)
			}
		}
	}()

	b.printf("## 9. `ctr run --rm` of /bin/true (containerd %s)\n\nShims, as built (each binary's build information):\n\n", version(filepath.Join(b.o.containerd2, "containerd")))
	for _, k := range kinds {
		b.printf("- %s: %s\n", k.label, shimBuildSettings(k.bin))
	}
	b.printf("\n| shim | median | p90 | min | failures |\n|---|---|---|---|---|\n")
	var medians []time.Duration
	for _, k := range kinds {
		var ds []time.Duration
		failures := 0
		for i := 0; i < b.o.warmup+b.o.n; i++ {
			start := time.Now()
			args := append(append([]string{"-n", k.ns, "run", "--rm"}, k.runtime...), "--rootfs", b.rootfs, nextID("ctr"), "/bin/true")
			if err := ctr(k, args...); err != nil {
				failures++
				b.fail(err)
				continue
			}
			if i >= b.o.warmup {
				ds = append(ds, time.Since(start))
			}
		}
		if len(ds) == 0 {
			b.printf("| %s | – | – | – | %d |\n", k.label, failures)
			medians = append(medians, 0)
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		medians = append(medians, ds[len(ds)/2])
		b.printf("| %s | %s | %s | %s | %d |\n", k.label, ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), ms(ds[0]), failures)
	}
	b.printf("\n")
	for i := 1; i < len(medians); i++ {
		b.printf("yoroi / %s: %s\n", kinds[i].label, ratio(medians[0], medians[i]))
	}
	b.printf("\n")

	b.idleMemory(kinds, ctr)
}

// shimKind is a containerd runtime the bench runs containers with: through the daemon
// on sock, with ctr run's flags runtime.
type shimKind struct {
	label, ns, bin, sock string
	runtime              []string
}

// benchDaemon is a containerd the bench starts: its directory's name under the bench's,
// and the links (target, name) in the first directory of its PATH.
type benchDaemon struct {
	name  string
	links [][2]string
}

// startContainerd starts a containerd 2.x with everything in dir and links (target,
// name) in the first directory of its PATH; stop stops it and the shims it started.
func (b *bench) startContainerd(dir string, links [][2]string) (sock string, stop func(), err error) {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return "", nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	sock = filepath.Join(dir, "containerd.sock")
	// NRI's socket too: its default is /var/run/nri/nri.sock.
	conf := fmt.Sprintf("version = 3\nroot = %q\nstate = %q\n[grpc]\n  address = %q\n[plugins.\"io.containerd.nri.v1.nri\"]\n  socket_path = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, filepath.Join(dir, "nri.sock"))
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	binDir := filepath.Join(dir, "bin")
	_ = os.MkdirAll(binDir, 0o755)
	for _, l := range links {
		_ = os.Symlink(l[0], filepath.Join(binDir, l[1]))
	}
	daemon := exec.Command(filepath.Join(b.o.containerd2, "containerd"), "--config", cfg)
	daemon.Env = append(append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH")), b.yoroiEnv()...)
	var log bytes.Buffer
	daemon.Stdout, daemon.Stderr = &log, &log
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := daemon.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
		killShims(dir)
	}
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock, stop, nil
		}
		if i > 300 {
			stop()
			return "", nil, fmt.Errorf("containerd did not start: %s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idleMemory measures 10: the memory each idle container costs beside its own processes,
// with each runtime: its shim, and yoroi's monitor (served by yoroi's shim; a process of
// its own under any other engine's, counted here if one runs).
func (b *bench) idleMemory(kinds []shimKind, ctr func(k shimKind, args ...string) error) {
	b.printf("## 10. Memory per idle container, beside the container's own processes (%d idle containers)\n\n", b.o.idle)
	b.printf("| runtime | shim RSS per container | shim PSS per container | shims | monitor RSS per container | monitor PSS per container | monitors | shim and monitor PSS per container |\n|---|---|---|---|---|---|---|---|\n")
	var rssPer, pssPer []int64
	for _, k := range kinds {
		var ids []string
		for i := 0; i < b.o.idle; i++ {
			id := nextID("idle")
			args := append(append([]string{"-n", k.ns, "run", "-d"}, k.runtime...), "--rootfs", b.rootfs, id, "/bin/sleep", "1000")
			if err := ctr(k, args...); err != nil {
				b.fail(err)
				continue
			}
			ids = append(ids, id)
		}
		// A shim is told by its namespace and daemon, not its name: it re-executes itself
		// by its real path, which can be the binary a symlink points to.
		shim := processMemory(func(args []string) bool {
			i := slices.Index(args, "-namespace")
			return i >= 0 && i+1 < len(args) && args[i+1] == k.ns && strings.Contains(strings.Join(args, " "), filepath.Dir(k.sock))
		})
		monitors := processMemory(func(args []string) bool {
			return len(args) == 3 && args[1] == "monitor" && slices.Contains(ids, args[2])
		})
		if n := int64(len(ids)); n > 0 {
			b.printf("| %s | %d KiB | %d KiB | %d | %d KiB | %d KiB | %d | %d KiB |\n", k.label, shim.rss/n, shim.pss/n, shim.n,
				monitors.rss/n, monitors.pss/n, monitors.n, (shim.pss+monitors.pss)/n)
			rssPer, pssPer = append(rssPer, shim.rss/n), append(pssPer, (shim.pss+monitors.pss)/n)
		} else {
			rssPer, pssPer = append(rssPer, 0), append(pssPer, 0)
		}
		for _, id := range ids {
			_ = ctr(k, "-n", k.ns, "task", "kill", "-s", "KILL", id)
			_ = ctr(k, "-n", k.ns, "task", "delete", "-f", id)
			_ = ctr(k, "-n", k.ns, "container", "delete", id)
		}
	}
	b.printf("\n")
	for i := 1; i < len(rssPer); i++ {
		if rssPer[0] > 0 && rssPer[i] > 0 {
			b.printf("yoroi's shim RSS / %s: %.2f×; yoroi's shim and monitor PSS / that shim's PSS: %.2f×\n", kinds[i].label,
				float64(rssPer[0])/float64(rssPer[i]), float64(pssPer[0])/float64(pssPer[i]))
		}
	}
	b.printf("\n")
}

// shimLibVersion is the containerd module a shim binary was built from.
func shimLibVersion(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "?"
	}
	const mod = "github.com/containerd/containerd/v2"
	if info.Main.Path == mod {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == mod {
			return d.Version
		}
	}
	return "?"
}

// shimBuildSettings are the cgo setting and build tags a shim binary was built with
// (containerd builds its shims with CGO_ENABLED=0 and -tags "urfave_cli_no_docs no_grpc").
func shimBuildSettings(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "?"
	}
	cgo, tags := "CGO_ENABLED=?", "-tags none"
	for _, s := range info.Settings {
		switch s.Key {
		case "CGO_ENABLED":
			cgo = "CGO_ENABLED=" + s.Value
		case "-tags":
			tags = "-tags " + s.Value
		}
	}
	return cgo + ", " + tags
}

// memory is the resident and proportional set sizes of some processes, in KiB.
type memory struct {
	rss, pss int64
	n        int
}

// processMemory sums the memory of the processes whose argv match.
func processMemory(match func(args []string) bool) memory {
	var m memory
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 || !match(strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "smaps_rollup"))
		if err != nil {
			continue
		}
		m.n++
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "Rss:":
				m.rss += v
			case "Pss:":
				m.pss += v
			}
		}
	}
	return m
}

// killShims kills the shims this run's containerd left, by the pid each wrote into its
// bundle under dir (shim.pid), while that pid is still a shim naming dir.
func killShims(dir string) {
	pids, _ := filepath.Glob(filepath.Join(dir, "*", "io.containerd.runtime.v2.task", "*", "*", "shim.pid"))
	for _, p := range pids {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), "containerd-shim") && strings.Contains(string(cmdline), dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
