package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerd is a Docker engine started for a test: Debian's dockerd 20.10 (with its own
// containerd), or Docker 29 over containerd 2.4. yoroi is registered by --add-runtime
// (a path) and by daemon.json's runtimes: a path again, and on Docker 29 a shim name.
type dockerd struct {
	*daemon
	cli string
	env []string
	// runtimes names yoroi in every way this engine takes, each run by the tests.
	runtimes []string
	// runc is a runc this engine runs its containers with, for comparisons.
	runc string
}

// dockerCLI is Debian's client: a newer docker client may come first in PATH.
const dockerCLI = "/usr/bin/docker"

// startDockerd starts Debian's Docker 20.10.
func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	return startDockerdEnv(t, nil)
}

// startDockerdEnv starts Debian's Docker 20.10 with env added to its environment (which
// reaches yoroi through its containerd and shims).
func startDockerdEnv(t *testing.T, env []string) *dockerd {
	t.Helper()
	testImages(t)
	dir := privateDir(t)
	cfg := writeDaemonJSON(t, dir, `{"runtimes": {"yoroi-json": {"path": "`+yoroiBin+`"}}}`)
	sock := filepath.Join(dir, "docker.sock")
	d := &dockerd{cli: dockerCLI, env: []string{"DOCKER_HOST=unix://" + sock},
		runtimes: []string{"yoroi", "yoroi-json"}, runc: "runc"}
	d.daemon = startDaemon(t, "dockerd", dir, env, sock, "dockerd",
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+sock, "--pidfile", filepath.Join(dir, "docker.pid"),
		"--iptables=false", "--bridge=none", "--config-file", cfg,
		"--add-runtime", "yoroi="+yoroiBin)
	d.importBusybox(t)
	return d
}

// startDocker29 starts Docker 29 (moby v2's dockerd and the docker 29 CLI, which the
// Makefile builds into $DOCKER29_DIR) over a containerd 2.4 of its own. Docker 23 and
// newer also take a containerd shim's name (io.containerd.yoroi.v2) for --runtime, and a
// runtimeType in daemon.json. A path runtime runs through containerd's runc shim, 2.4's.
func startDocker29(t *testing.T) *dockerd {
	t.Helper()
	bin, runcNew := makeEnv(t, "DOCKER29_DIR"), makeEnv(t, "RUNC_NEWEST")
	ctrd := startContainerdEnv(t, true, yoroiBin, []string{"PATH=" + binDir(t) + ":" + makeEnv(t, "CONTAINERD2_DIR") + ":/usr/sbin:/usr/bin:/sbin:/bin"})
	dir := privateDir(t)
	cfg := writeDaemonJSON(t, dir, `{"runtimes": {"yoroi-json": {"path": "`+yoroiBin+`"},
		"yoroi-shim": {"runtimeType": "io.containerd.yoroi.v2"}, "runc-new": {"path": "`+runcNew+`"}}}`)
	sock := filepath.Join(dir, "docker.sock")
	// Docker 29 creates containers with a time namespace, which Debian's runc 1.1 does not
	// know: runc 1.5 is its runc here.
	d := &dockerd{cli: filepath.Join(bin, "docker"), env: []string{"DOCKER_HOST=unix://" + sock},
		runtimes: []string{"yoroi", "yoroi-json", "yoroi-shim", "io.containerd.yoroi.v2"}, runc: "runc-new"}
	d.daemon = startDaemon(t, "dockerd 29", dir, nil, sock, filepath.Join(bin, "dockerd"),
		"--containerd", ctrd.sock, "--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+sock, "--pidfile", filepath.Join(dir, "docker.pid"),
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--config-file", cfg,
		"--add-runtime", "yoroi="+yoroiBin)
	d.importBusybox(t)
	return d
}

func writeDaemonJSON(t *testing.T, dir, content string) string {
	t.Helper()
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (d *dockerd) importBusybox(t *testing.T) {
	t.Helper()
	if out, err := d.docker("import", images.rootfs, "busybox:yoroi"); err != nil {
		t.Fatalf("docker import: %v: %s", err, out)
	}
}

func (d *dockerd) docker(args ...string) (string, error) {
	return runClientEnv(d.env, d.cli, args...)
}

func TestDocker(t *testing.T) {
	exerciseDocker(t, startDockerd(t))
}

func TestDocker29(t *testing.T) {
	exerciseDocker(t, startDocker29(t))
}

// exerciseDocker runs what Docker users do, under every name the engine takes for yoroi:
// the hardening seen from inside, the lifecycle, volumes, a terminal, and refusals.
func exerciseDocker(t *testing.T, d *dockerd) {
	tools := toolsDir(t)
	for _, runtime := range d.runtimes {
		t.Run(runtime, func(t *testing.T) {
			out, err := d.docker("run", "--rm", "--runtime", runtime, "--network", "none", "-v", tools+":/tools:ro", "busybox:yoroi", "sh", "-c", hardeningProbe)
			if err != nil {
				t.Fatalf("docker run --runtime %s: %v\n%s", runtime, err, out)
			}
			assertHardened(t, "docker --runtime "+runtime, out)
			dockerLifecycle(t, d, runtime)
			dockerVolumes(t, d, runtime)
			dockerTerminal(t, d, runtime)
			dockerRefusals(t, d, runtime)
		})
	}
}

// dockerLifecycle drives a container as Docker users do: run -d, exec, logs, stop (the
// signal reaches the workload), restart, rm.
func dockerLifecycle(t *testing.T, d *dockerd, runtime string) {
	t.Helper()
	name := uniqueID("docker")
	script := `echo started; trap 'echo stopping; exit 0' TERM; while true; do sleep 0.1; done`
	if out, err := d.docker("run", "-d", "--name", name, "--runtime", runtime, "--network", "none", "busybox:yoroi", "sh", "-c", script); err != nil {
		t.Fatalf("docker run -d: %v\n%s", err, out)
	}
	defer d.docker("rm", "-f", name)
	if out, err := d.docker("exec", name, "sh", "-c", "grep -E 'NoNewPrivs|CapEff' /proc/self/status"); err != nil || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("docker exec: %v %q", err, out)
	}
	waitFor(t, func() bool { out, _ := d.docker("logs", name); return strings.Contains(out, "started") }, "docker logs")
	if out, err := d.docker("stop", "-t", "10", name); err != nil {
		t.Errorf("docker stop: %v %s", err, out)
	}
	if out, _ := d.docker("logs", name); !strings.Contains(out, "stopping") {
		t.Errorf("SIGTERM did not reach the container: %q", out)
	}
	if out, err := d.docker("restart", name); err != nil {
		t.Errorf("docker restart: %v %s", err, out)
	}
	waitFor(t, func() bool {
		out, _ := d.docker("inspect", "-f", "{{.State.Running}}", name)
		return strings.TrimSpace(out) == "true"
	}, "restarted container running")
	if out, err := d.docker("rm", "-f", name); err != nil {
		t.Errorf("docker rm: %v %s", err, out)
	}
}

// dockerVolumes writes through a named volume and a bind-mounted host directory and reads
// both back from a second container: what one container wrote, the next one finds.
func dockerVolumes(t *testing.T, d *dockerd, runtime string) {
	t.Helper()
	vol := uniqueID("vol")
	if out, err := d.docker("volume", "create", vol); err != nil {
		t.Fatalf("docker volume create: %v %s", err, out)
	}
	defer d.docker("volume", "rm", "-f", vol)
	host := privateDir(t)
	if err := os.Chmod(host, 0o755); err != nil {
		t.Fatal(err)
	}
	mounts := []string{"-v", vol + ":/data", "-v", host + ":/host"}
	run := func(script string) string {
		args := append([]string{"run", "--rm", "--runtime", runtime, "--network", "none"}, mounts...)
		out, err := d.docker(append(args, "busybox:yoroi", "sh", "-c", script)...)
		if err != nil {
			t.Fatalf("docker run %v: %v\n%s", mounts, err, out)
		}
		return out
	}
	run("echo " + runtime + " > /data/note && echo " + runtime + " > /host/note")
	if out := run("cat /data/note /host/note"); strings.Count(out, runtime) != 2 {
		t.Errorf("volumes under --runtime %s: a second container read %q", runtime, out)
	}
	if data, err := os.ReadFile(filepath.Join(host, "note")); err != nil || strings.TrimSpace(string(data)) != runtime {
		t.Errorf("bind mount: the host reads %q, %v", data, err)
	}
}

// dockerTerminal runs a container with -t: its standard streams are a terminal.
func dockerTerminal(t *testing.T, d *dockerd, runtime string) {
	t.Helper()
	out, err := d.docker("run", "--rm", "-t", "--runtime", runtime, "--network", "none", "busybox:yoroi", "sh", "-c", "tty; readlink /proc/self/fd/1")
	if err != nil || strings.Count(out, "/dev/pts/") != 2 {
		t.Errorf("docker run -t --runtime %s: %v %q", runtime, err, out)
	}
}

// dockerRefusals: refused requests fail docker run with yoroi's one-line reason.
func dockerRefusals(t *testing.T, d *dockerd, runtime string) {
	t.Helper()
	for _, tc := range []struct {
		args []string
		want string // a regular expression
	}{
		{[]string{"--privileged"}, "refused by rule privileged"},
		{[]string{"--cap-add", "SYS_ADMIN"}, "refused by rule capabilities: capability CAP_SYS_ADMIN"},
		{[]string{"-v", "/:/host"}, "refused by rule mounts.source: bind mount of host path /"},
		{[]string{"--pid", "host"}, "refused by rule namespaces: host pid namespace"},
		// Docker 20.10 names the host's network namespace by path; Docker 29 leaves the
		// namespace out of the spec.
		{[]string{"--network", "host"}, "refused by rule namespaces: (network namespace path|host network namespace)"},
	} {
		args := append([]string{"run", "--rm", "--runtime", runtime}, tc.args...)
		if tc.args[0] != "--network" {
			args = append(args, "--network", "none")
		}
		out, err := d.docker(append(args, "busybox:yoroi", "true")...)
		if err == nil || !regexp.MustCompile(tc.want).MatchString(out) || !strings.Contains(out, "in a profile)") {
			t.Errorf("docker run --runtime %s %v: err %v, output %q, want %q", runtime, tc.args, err, out, tc.want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Docker derives a container's exit code from runc's words when its process cannot be
// executed: 127 for a missing program, 126 for one that cannot run. yoroi gives Docker the
// same codes as runc (the engine's runc) for the same requests, under each name.
func TestDockerExecFailureExitCodes(t *testing.T) {
	for name, start := range map[string]func(*testing.T) *dockerd{"20.10": startDockerd, "29": startDocker29} {
		t.Run(name, func(t *testing.T) {
			d := start(t)
			for _, args := range [][]string{{"/no/such/program"}, {"no-such-program"}, {"/etc/passwd"}} {
				codes := map[string]int{}
				for _, runtime := range append([]string{d.runc}, d.runtimes...) {
					codes[runtime] = d.exitCode(t, append([]string{"run", "--rm", "--runtime", runtime, "--network", "none", "busybox:yoroi"}, args...))
				}
				for _, runtime := range d.runtimes {
					if codes[runtime] != codes[d.runc] {
						t.Errorf("%v: exit %d under %s, %d under runc", args, codes[runtime], runtime, codes[d.runc])
					}
				}
			}
		})
	}
}

// exitCode runs the docker CLI and returns its exit code.
func (d *dockerd) exitCode(t *testing.T, args []string) int {
	t.Helper()
	cmd := exec.Command(d.cli, args...)
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("docker %v: %v\n%s", args, err, out)
	}
	return ee.ExitCode()
}
