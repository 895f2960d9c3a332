package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dockerd is Debian's dockerd 20.10 (with its own containerd) started for a test, with yoroi
// registered twice: by --add-runtime and by daemon.json's runtimes.
type dockerd struct {
	*daemon
	env []string
}

// dockerCLI is Debian's client: a newer docker client may come first in PATH.
const dockerCLI = "/usr/bin/docker"

func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	return startDockerdEnv(t, nil)
}

// startDockerdEnv starts dockerd with env added to its environment (which reaches yoroi
// through its containerd and shims).
func startDockerdEnv(t *testing.T, env []string) *dockerd {
	t.Helper()
	testImages(t)
	dir := privateDir(t)
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte(`{"runtimes": {"yoroi-json": {"path": "`+yoroiBin+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	d := &dockerd{env: []string{"DOCKER_HOST=unix://" + sock}}
	d.daemon = startDaemon(t, "dockerd", dir, env, sock, "dockerd",
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+sock, "--pidfile", filepath.Join(dir, "docker.pid"),
		"--iptables=false", "--bridge=none", "--config-file", cfg,
		"--add-runtime", "yoroi="+yoroiBin)
	if out, err := d.docker("import", images.rootfs, "busybox:yoroi"); err != nil {
		t.Fatalf("docker import: %v: %s", err, out)
	}
	return d
}

func (d *dockerd) docker(args ...string) (string, error) {
	return runClientEnv(d.env, dockerCLI, args...)
}

func TestDocker(t *testing.T) {
	d := startDockerd(t)
	tools := toolsDir(t)
	for _, runtime := range []string{"yoroi", "yoroi-json"} {
		out, err := d.docker("run", "--rm", "--runtime", runtime, "--network", "none", "-v", tools+":/tools:ro", "busybox:yoroi", "sh", "-c", hardeningProbe)
		if err != nil {
			t.Fatalf("docker run --runtime %s: %v\n%s", runtime, err, out)
		}
		assertHardened(t, "docker --runtime "+runtime, out)
	}

	// The container lifecycle as Docker users drive it.
	name := uniqueID("docker")
	script := `echo started; trap 'echo stopping; exit 0' TERM; while true; do sleep 0.1; done`
	if out, err := d.docker("run", "-d", "--name", name, "--runtime", "yoroi", "--network", "none", "busybox:yoroi", "sh", "-c", script); err != nil {
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

	// Refused requests fail docker run with yoroi's one-line reason.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--privileged"}, "refused by rule privileged"},
		{[]string{"--cap-add", "SYS_ADMIN"}, "refused by rule capabilities: capability CAP_SYS_ADMIN"},
		{[]string{"-v", "/:/host"}, "refused by rule mounts.source: bind mount of host path /"},
		{[]string{"--pid", "host"}, "refused by rule namespaces: host pid namespace"},
		{[]string{"--network", "host"}, "refused by rule namespaces: network namespace path"},
	} {
		args := append([]string{"run", "--rm", "--runtime", "yoroi"}, tc.args...)
		if tc.args[0] != "--network" {
			args = append(args, "--network", "none")
		}
		out, err := d.docker(append(args, "busybox:yoroi", "true")...)
		if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "in a profile)") {
			t.Errorf("docker run %v: err %v, output %q, want %q", tc.args, err, out, tc.want)
		}
	}
	// Docker 20.10 takes only runtime names registered with the daemon: --runtime
	// io.containerd.yoroi.v2 (a shim name) needs Docker 23 or newer.
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
// same codes as runc (Debian's, the daemon's default runtime) for the same requests.
func TestDockerExecFailureExitCodes(t *testing.T) {
	d := startDockerd(t)
	for _, args := range [][]string{{"/no/such/program"}, {"no-such-program"}, {"/etc/passwd"}} {
		codes := map[string]int{}
		for _, runtime := range []string{"runc", "yoroi"} {
			cmd := exec.Command(dockerCLI, append([]string{"run", "--rm", "--runtime", runtime, "--network", "none", "busybox:yoroi"}, args...)...)
			cmd.Env = append(os.Environ(), d.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("docker run --runtime %s %v: %v\n%s", runtime, args, err, out)
			}
			codes[runtime] = ee.ExitCode()
		}
		if codes["yoroi"] != codes["runc"] {
			t.Errorf("%v: exit %d under yoroi, %d under runc", args, codes["yoroi"], codes["runc"])
		}
	}
}
