package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// After the workload starts, yoroi reads its posture from the host and compares it with
// what the policy promised; a difference stops and removes the container.

// remountRootRW is a poststart hook (on the host, as root) that undoes a promise of the
// policy after yoroi applied it: it makes the container's root writable.
var remountRootRW = specs.Hook{Path: "/bin/busybox", Args: []string{"busybox", "sh", "-c",
	`pid=$(busybox sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); busybox nsenter -t "$pid" -m -p busybox mount -o remount,bind,rw /`}}

// A deliberately broken setup: the hook leaves the root writable. run and create/start
// fail with one line naming the difference, exit 1, and nothing of the container is left.
// (Before the check, the container ran with a writable root.)
func TestPostureFailsClosed(t *testing.T) {
	e := newEnv(t)
	bundle := func() *bundle {
		return e.newBundle("sleep", "100").edit(t, func(s *specs.Spec) {
			s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-hooks"}
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{remountRootRW}}
		})
	}
	const want = "posture check failed: / is mounted writable"
	id := uniqueID("posture-run")
	if r := e.fails(want, "run", "--detach", "--bundle", bundle().dir, id); r.code != 1 {
		t.Errorf("run: exit %d, want 1", r.code)
	}
	e.assertNoLeftovers(id)
	// In the foreground the check runs beside the wait for the workload: a failure kills
	// it at once (not after its 100 s).
	id = uniqueID("posture-fg")
	began := time.Now()
	if r := e.fails(want, "run", "--bundle", bundle().dir, id); r.code != 1 {
		t.Errorf("run in the foreground: exit %d, want 1", r.code)
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Errorf("run in the foreground failed after %v: the workload was not stopped", d)
	}
	e.assertNoLeftovers(id)
	id = uniqueID("posture-start")
	e.ok("create", "--bundle", bundle().dir, id)
	if r := e.fails(want, "start", id); r.code != 1 {
		t.Errorf("start: exit %d, want 1", r.code)
	}
	e.assertNoLeftovers(id)
	if ev := e.auditEvents(id, "posture"); len(ev) != 1 || !strings.Contains(ev[0]["error"].(string), want) {
		t.Errorf("audit posture events %v", ev)
	}
	// Without the hook, the same container passes, and the check is on record.
	id = uniqueID("posture-ok")
	e.ok("run", "--detach", "--bundle", e.newBundle("sleep", "100").dir, id)
	defer e.run("delete", "--force", id)
	if ev := e.auditEvents(id, "posture"); len(ev) != 1 || !strings.HasPrefix(ev[0]["detail"].(string), "checked in") {
		t.Errorf("audit posture events %v", ev)
	}
	// A foreground workload that outlives the check is checked too.
	id = uniqueID("posture-fg-ok")
	e.ok("run", "--bundle", e.newBundle("sleep", "0.5").dir, id)
	if ev := e.auditEvents(id, "posture"); len(ev) != 1 || !strings.HasPrefix(ev[0]["detail"].(string), "checked in") {
		t.Errorf("audit posture events of the foreground run %v", ev)
	}
}

// assertPostureChecked: the started container's posture was checked and matched.
func assertPostureChecked(t *testing.T, entry, id string) {
	t.Helper()
	// The engines run yoroi with its default configuration and audit log.
	ev := readAuditEvents(t, hardening.DefaultAuditPath, id, "posture")
	if len(ev) == 0 {
		t.Errorf("%s: no posture check recorded for %s", entry, id)
		return
	}
	if d, _ := ev[len(ev)-1]["detail"].(string); !strings.HasPrefix(d, "checked in") {
		t.Errorf("%s: posture of %s: %v", entry, id, ev[len(ev)-1])
	}
}

// Through Docker, containerd and its CRI: every start is checked, and a check that fails
// (the fault injected through the daemon's environment) fails the engine's start and
// leaves no container running.
func TestPostureEngines(t *testing.T) {
	t.Run("docker", func(t *testing.T) {
		d := startDockerd(t)
		cid := filepath.Join(t.TempDir(), "cid")
		if out, err := d.docker("run", "--rm", "--cidfile", cid, "--runtime", "yoroi", "--network", "none", "busybox:yoroi", "sleep", "1"); err != nil {
			t.Fatalf("docker run: %v\n%s", err, out)
		}
		assertPostureChecked(t, "docker", readTrim(t, cid))
		faulty := startDockerdEnv(t, []string{postureFault})
		name := uniqueID("posture-docker")
		out, err := faulty.docker("run", "-d", "--name", name, "--runtime", "yoroi", "--network", "none", "busybox:yoroi", "sleep", "100")
		if err == nil || !strings.Contains(out, "posture check failed") {
			t.Errorf("docker run under a failing posture check: err %v, output %s", err, out)
		}
		if ps, _ := faulty.docker("ps", "-q", "--filter", "name="+name); strings.TrimSpace(ps) != "" {
			t.Errorf("a container still runs: %s", ps)
		}
		_, _ = faulty.docker("rm", "-f", name)
	})
	t.Run("containerd", func(t *testing.T) {
		c := startContainerd(t, true, yoroiBin)
		id := uniqueID("posture-ctr")
		if out, err := c.run("run", "--rm", "--runtime", "io.containerd.yoroi.v2", busyboxRef, id, "sleep", "1"); err != nil {
			t.Fatalf("ctr run: %v\n%s", err, out)
		}
		assertPostureChecked(t, "containerd", id)
		faulty := startContainerdEnv(t, true, yoroiBin, []string{postureFault})
		id = uniqueID("posture-ctr-fault")
		out, err := faulty.run("run", "--rm", "--runtime", "io.containerd.yoroi.v2", busyboxRef, id, "sleep", "100")
		if err == nil || !strings.Contains(out, "posture check failed") {
			t.Errorf("ctr run under a failing posture check: err %v, output %s", err, out)
		}
		if tasks, _ := faulty.run("task", "ls"); strings.Contains(tasks, id) && strings.Contains(tasks, "RUNNING") {
			t.Errorf("the task still runs:\n%s", tasks)
		}
		_, _ = faulty.run("task", "delete", "--force", id)
		_, _ = faulty.run("container", "rm", id)

		// The kubelet's way in: RunPodSandbox through the RuntimeClass handler fails
		// with the check's line, and no sandbox is left ready.
		client := newCRIClient(t, faulty.sock)
		_, err = client.rt.RunPodSandbox(ctx(t), &cri.RunPodSandboxRequest{Config: sandboxConfig(t, "posture"), RuntimeHandler: "yoroi"})
		if err == nil || !strings.Contains(err.Error(), "posture check failed") {
			t.Errorf("RunPodSandbox under a failing posture check: %v", err)
		}
		pods, err := client.rt.ListPodSandbox(ctx(t), &cri.ListPodSandboxRequest{Filter: &cri.PodSandboxFilter{State: &cri.PodSandboxStateValue{State: cri.PodSandboxState_SANDBOX_READY}}})
		if err != nil || len(pods.GetItems()) != 0 {
			t.Errorf("ready sandboxes after the failed start: %v %v", pods.GetItems(), err)
		}
	})
}

// postureFault is the environment that makes yoroi's posture model expect an empty
// bounding set, so that every check fails (runtime.postureFaultEnv).
const postureFault = "_YOROI_TEST_POSTURE_FAULT=1"

// An exec'd process is checked too, against its own capabilities and rlimits: a failing
// check stops that process with one line (exit 255, a failed exec) and leaves the
// container running.
func TestPostureExec(t *testing.T) {
	e := newEnv(t)
	id := e.running("posture-exec")
	e.ok("exec", id, "sleep", "0.5")
	var execChecks int
	for _, ev := range e.auditEvents(id, "posture") {
		if d, _ := ev["detail"].(string); ev["args"] != nil && strings.HasPrefix(d, "checked in") {
			execChecks++
		}
	}
	if execChecks != 1 {
		t.Errorf("posture checks of the exec'd process: %d, want 1 (%v)", execChecks, e.auditEvents(id, "posture"))
	}
	cmd := e.cmd("exec", id, "sleep", "100")
	cmd.Env = append(cmd.Env, postureFault)
	r := e.runCmd(cmd)
	if r.code != 255 || !strings.Contains(r.stderr, "posture check failed") {
		t.Errorf("exec under a failing check: exit %d, stderr %q", r.code, r.stderr)
	}
	e.waitStatus(id, specs.StateRunning)
	if out := e.ok("exec", id, "sh", "-c", "ps -o comm | grep -c sleep"); strings.TrimSpace(out) != "1" {
		t.Errorf("sleep processes in the container after the failed exec: %q, want only init's", out)
	}
}
