package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCRIValidation runs the Kubernetes CRI validation suite (cri-tools' critest) against
// containerd 2.4 twice in one run: through the handler runc (runc 1.5) and the handler
// yoroi (containerd-shim-yoroi-v2). The suite pulls its images by their public names;
// a registry on loopback serves them, through containerd's hosts.toml mirrors.
func TestCRIValidation(t *testing.T) {
	tools, runcNew := makeEnv(t, "CRI_TOOLS_DIR"), makeEnv(t, "RUNC_NEWEST")
	exps := readExpectations(t, "peers/critest.expect", "runc", "yoroi")
	registry := startRegistry(t, filepath.Join(tools, "registry"))
	// runc's suite's busybox image (make peer-suites builds it).
	pushCritestImages(t, registry, filepath.Join(makeEnv(t, "RUNC_TESTS"), "tests", "integration", "testdata", "busybox-amd64.tar.xz"))
	c := startCritestContainerd(t, registry, runcNew)
	for _, handler := range []string{"runc", "yoroi"} {
		t.Run(handler, func(t *testing.T) {
			results, raw := runCritest(t, filepath.Join(tools, "critest"), c.sock, handler)
			keepOutput("critest-"+handler+".txt", raw)
			if len(results) == 0 {
				t.Fatalf("no results from critest:\n%s", tail(string(raw), 4000))
			}
			totals := compareExpectations(t, "critest", handler, results, exps, func(r peerResult) string {
				return signatureOf(r.detail, ginkgoFailedAt(r.detail))
			})
			recordTotals(t, totals)
		})
	}
}

// critestSkip: the suite's tests not run here. Host ports are published by the CNI
// portmap plugin's iptables rules, which these tests may not write on a shared host; the
// suite's benchmarks are skipped by critest itself.
const critestSkip = "with host port and container port"

// runCritest runs the suite for one handler and returns a result per spec, from Ginkgo's
// JSON report.
func runCritest(t *testing.T, bin, sock, handler string) ([]peerResult, []byte) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, "-runtime-endpoint", "unix://"+sock, "-image-endpoint", "unix://"+sock,
		"-runtime-handler", handler, "-ginkgo.skip", critestSkip, "-ginkgo.json-report", report, "-ginkgo.no-color")
	// The suite's kubelet-like paths (pod log directories, the host paths of its mount
	// propagation tests), which it makes with os.MkdirTemp and leaves behind, go under a
	// directory of the test. It leaves the propagation tests' paths mounted when the
	// runtime refuses their containers (yoroi refuses privileged ones): unmounted here.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TMPDIR="+cmd.Dir)
	start := time.Now()
	out, err := runWithTimeout(cmd, 25*time.Minute)
	for _, m := range mountsUnder(t, cmd.Dir) {
		_ = unix.Unmount(strings.Fields(m)[4], unix.MNT_DETACH)
	}
	t.Logf("critest -runtime-handler %s: %s (%v)", handler, time.Since(start).Round(time.Second), err)
	data, rerr := os.ReadFile(report)
	if rerr != nil {
		t.Fatalf("critest wrote no report (%v): %v\n%s", err, rerr, tail(string(out), 4000))
	}
	results, perr := parseGinkgoReport(data)
	if perr != nil {
		t.Fatal(perr)
	}
	return results, out
}

// ginkgoReport is the part of Ginkgo's JSON report read here.
type ginkgoReport []struct {
	SpecReports []struct {
		ContainerHierarchyTexts []string
		LeafNodeText            string
		LeafNodeType            string
		State                   string
		Failure                 *struct {
			Message  string
			Location struct {
				FileName   string
				LineNumber int
			}
		}
	}
}

func parseGinkgoReport(data []byte) ([]peerResult, error) {
	var report ginkgoReport
	if err := json.Unmarshal(data, &report); err != nil {
		return nil, fmt.Errorf("ginkgo report: %w", err)
	}
	var results []peerResult
	for _, suite := range report {
		for _, s := range suite.SpecReports {
			if s.LeafNodeType != "It" {
				continue // suite-level nodes (BeforeSuite...), reported only when they fail
			}
			r := peerResult{name: strings.Join(append(append([]string{}, s.ContainerHierarchyTexts...), s.LeafNodeText), " / ")}
			switch s.State {
			case "passed":
				r.outcome = "pass"
			case "skipped", "pending":
				r.outcome = "skip"
			default:
				r.outcome = "fail"
			}
			if s.Failure != nil {
				r.detail = fmt.Sprintf("at %s:%d\n%s", filepath.Base(s.Failure.Location.FileName), s.Failure.Location.LineNumber, s.Failure.Message)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// ginkgoFailedAt is where a spec failed: its failed assertion's file and line.
func ginkgoFailedAt(detail string) string {
	first, _, _ := strings.Cut(detail, "\n")
	if file, ok := strings.CutPrefix(first, "at "); ok {
		return "at:" + file
	}
	return "exit"
}

// startRegistry runs a distribution registry on a free loopback port and returns its
// address.
func startRegistry(t *testing.T, bin string) string {
	t.Helper()
	dir := privateDir(t)
	addr := freeLoopbackAddr(t)
	cfg := filepath.Join(dir, "config.yml")
	content := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// No traces leave the host.
	d := launchDaemon(t, "registry", dir, []string{"OTEL_TRACES_EXPORTER=none"}, bin, "serve", cfg)
	d.waitFor("tcp", addr)
	return addr
}

// freeLoopbackAddr is a 127.0.0.1 address with a port nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// critestContainerdConfig: CRI with the handlers runc (runc 1.5 through containerd's runc
// shim) and yoroi, its image pulls mirrored to the loopback registry (certs.d), and a
// sandbox image of its own: the suite removes pause:3.9, which a sandbox must not use.
const critestContainerdConfig = containerd2Header + `[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "` + critestSandboxImage + `"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "%[1]s/certs.d"
[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
      BinaryName = "%[2]s"
      Root = "%[1]s/runc"
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi]
    runtime_type = "io.containerd.yoroi.v2"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "%[1]s/cni"
`

const critestSandboxImage = "registry.k8s.io/pause:yoroi-critest"

// critestRegistries are the registries the suite's images are named after.
var critestRegistries = []string{"registry.k8s.io", "k8s.gcr.io", "gcr.io", "docker.io"}

func startCritestContainerd(t *testing.T, registry, runc string) *containerd {
	t.Helper()
	d2 := makeEnv(t, "CONTAINERD2_DIR")
	dir := privateDir(t)
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range critestRegistries {
		write(filepath.Join("certs.d", r, "hosts.toml"), fmt.Sprintf("server = \"http://%[1]s\"\n\n[host.\"http://%[1]s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", registry))
	}
	const bridge, subnet = "yoroi-crit", "10.88.3.0/24"
	write("cni/10-yoroi.conflist", fmt.Sprintf(cniConfig, bridge, subnet, filepath.Join(dir, "cni-ipam")))
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })
	write("config.toml", fmt.Sprintf(critestContainerdConfig, dir, runc))
	// yoroi's audit log and host-wide state stay in the test's directory.
	state := privateDir(t)
	write("yoroi.toml", fmt.Sprintf("[audit]\npath = %q\n\n[runtime]\nstate_dir = %q\n", filepath.Join(state, "audit.jsonl"), filepath.Join(state, "yoroi")))
	env := []string{
		"PATH=" + binDir(t) + ":" + d2 + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"YOROI_CONFIG=" + filepath.Join(dir, "yoroi.toml"),
	}
	sock := filepath.Join(dir, "containerd.sock")
	c := &containerd{ctr: filepath.Join(d2, "ctr"), sock: sock, v2: true}
	c.daemon = startDaemon(t, "containerd (critest)", dir, env, sock, filepath.Join(d2, "containerd"), "--config", filepath.Join(dir, "config.toml"))
	return c
}

// critestImage is one image the suite pulls: its repository and tags (on every mirrored
// registry: the path is the same), what differs from the busybox base, and its command.
type critestImage struct {
	repo  string
	tags  []string
	user  string
	cmd   []string
	files map[string]string // path in the image → content (scripts are executable)
	progs map[string]string // path in the image → a program of critest/, built static
}

// critestImages stand in for the suite's public images (images/ in cri-tools): busybox
// with hardlinked applets (the masked-path tests mask /bin/ls), the users and groups the
// user tests look for, files that make the tagged test images differ, and nginx played
// by busybox's httpd under nginx's name (critest/nginx.c). The digest-pinned test image
// cannot be rebuilt to its published digest.
func critestImages(passwd, group string) []critestImage {
	const staging = "k8s-staging-cri-tools/"
	page := map[string]string{"/usr/share/nginx/html/index.html": "<h1>Welcome to nginx!</h1>\n"}
	nginx := map[string]string{"/usr/sbin/nginx": "nginx.c"}
	imgs := []critestImage{
		{repo: "e2e-test-images/busybox", tags: []string{"1.29-2"}},
		{repo: "e2e-test-images/nginx", tags: []string{"1.14-2"}, cmd: []string{"nginx", "-g", "daemon off;"}, files: page, progs: nginx},
		{repo: staging + "hostnet-nginx-amd64", tags: []string{"latest"}, cmd: []string{"nginx", "-p", "12003"}, files: page, progs: nginx},
		// Apache logs its name at start-up; the suite looks for it in the container's log.
		{repo: "e2e-test-images/httpd", tags: []string{"2.4.39-4"}, cmd: []string{"sh", "-c", "echo 'httpd: serving /usr/local/apache2/htdocs on port 80' >&2; exec httpd -f -p 80 -h /usr/local/apache2/htdocs"},
			files: map[string]string{"/usr/local/apache2/htdocs/index.html": "<html><body><h1>It works!</h1></body></html>\n"}},
		// The program is set-user-ID root (critest/nnp.c).
		{repo: "e2e-test-images/nonewprivs", tags: []string{"1.3"}, cmd: []string{"/usr/local/bin/nnp"}, progs: map[string]string{"/usr/local/bin/nnp": "nnp.c"}},
		// The sandbox's pause is pid 1 of pods sharing a pid namespace, where the suite looks
		// for sleep by name (critest/pause.c). pause:3.9 and the sandbox image differ (the
		// suite removes pause:3.9): they have files of their own.
		{repo: "pause", tags: []string{"3.9"}, cmd: []string{"/pause"}, progs: map[string]string{"/pause": "pause.c"}, files: map[string]string{"/etc/pause-tag": "3.9\n"}},
		{repo: "pause", tags: []string{"yoroi-critest"}, cmd: []string{"/pause"}, progs: map[string]string{"/pause": "pause.c"}, files: map[string]string{"/etc/pause-tag": "yoroi-critest\n"}},
		{repo: staging + "test-image-user-uid", tags: []string{"latest"}, user: "1002"},
		{repo: staging + "test-image-user-username", tags: []string{"latest"}, user: "www-data"},
		{repo: staging + "test-image-user-uid-group", tags: []string{"latest"}, user: "1003:users"},
		{repo: staging + "test-image-user-username-group", tags: []string{"latest"}, user: "www-data:users"},
		{repo: staging + "test-image-predefined-group", tags: []string{"latest"}, user: "1000", files: map[string]string{
			"/etc/passwd": passwd + "default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n",
			"/etc/group":  group + "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n",
		}},
		{repo: staging + "test-image-tags", tags: []string{"1", "2", "3"}, files: map[string]string{"/test-image-tags": "tags\n"}},
	}
	for _, name := range []string{"test-image-latest:latest", "test-image-tag:test", "test-image-tag:all", "test-image-1:latest", "test-image-2:latest", "test-image-3:latest"} {
		repo, tag, _ := strings.Cut(name, ":")
		imgs = append(imgs, critestImage{repo: staging + repo, tags: []string{tag}, files: map[string]string{"/" + repo + "-" + tag: name + "\n"}})
	}
	return imgs
}

// pgrep and ipcs are not busybox-static applets on Debian: the suite uses them as
// "pgrep NAME" and "ipcs -m" (the shared memory segments in the container's view).
const (
	pgrepStandIn = `#!/bin/sh
found=1
for d in /proc/[0-9]*; do
	if [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ]; then echo "${d#/proc/}"; found=0; fi
done
exit $found
`
	ipcsStandIn = `#!/bin/sh
cat /proc/sysvipc/shm
`
)

// pushCritestImages builds the suite's images with umoci from the busybox tarball and
// pushes them to the registry with skopeo.
func pushCritestImages(t *testing.T, registry, busybox string) {
	t.Helper()
	dir := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	layout := filepath.Join(dir, "oci")
	bundle := filepath.Join(dir, "bundle")
	run("umoci", "init", "--layout", layout)
	run("umoci", "new", "--image", layout+":base")
	run("umoci", "unpack", "--image", layout+":base", bundle)
	critestBase(t, busybox, filepath.Join(bundle, "rootfs"))
	run("umoci", "repack", "--image", layout+":base", bundle)
	run("umoci", "config", "--image", layout+":base", "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--config.cmd", "sh")
	progs := buildCritestPrograms(t, dir)
	for i, img := range critestImages(fileOf(t, busybox, "etc/passwd"), fileOf(t, busybox, "etc/group")) {
		tag := fmt.Sprintf("img%d", i)
		args := []string{"config", "--image", layout + ":base", "--tag", tag}
		if img.user != "" {
			args = append(args, "--config.user", img.user)
		}
		for _, c := range img.cmd {
			args = append(args, "--config.cmd", c)
		}
		run("umoci", args...)
		for path, content := range img.files {
			src := filepath.Join(dir, "file")
			_ = os.Remove(src)
			if err := os.WriteFile(src, []byte(content), fileMode(content)); err != nil {
				t.Fatal(err)
			}
			run("umoci", "insert", "--image", layout+":"+tag, src, path)
		}
		for path, source := range img.progs {
			run("umoci", "insert", "--image", layout+":"+tag, progs[source], path)
		}
		for _, dest := range img.tags {
			run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:"+layout+":"+tag, "docker://"+registry+"/"+img.repo+":"+dest)
		}
	}
}

// buildCritestPrograms compiles critest/*.c statically into dir and returns each
// program's path by its source's name. nnp is set-user-ID root.
func buildCritestPrograms(t *testing.T, dir string) map[string]string {
	t.Helper()
	progs := map[string]string{}
	for _, src := range []string{"nginx.c", "nnp.c", "pause.c"} {
		out := filepath.Join(dir, strings.TrimSuffix(src, ".c"))
		if b, err := exec.Command("gcc", "-static", "-O1", "-Wall", "-o", out, filepath.Join("critest", src)).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", src, err, b)
		}
		progs[src] = out
	}
	if err := os.Chmod(progs["nnp.c"], 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return progs
}

// critestBase lays out the suite's busybox in root: the busybox image runc's own suite
// uses (hardlinked applets, Docker's busybox users and groups), with /var/run a link to
// /run as in Debian, which nginx's and httpd's images are built on, and the stand-ins.
func critestBase(t *testing.T, tarball, root string) {
	t.Helper()
	if out, err := exec.Command("tar", "-C", root, "-xJf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run", filepath.Join(root, "var", "run")); err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{"usr/bin/pgrep": pgrepStandIn, "usr/bin/ipcs": ipcsStandIn} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), fileMode(content)); err != nil {
			t.Fatal(err)
		}
	}
}

// fileOf reads one file of the base image.
func fileOf(t *testing.T, tarball, path string) string {
	t.Helper()
	out, err := exec.Command("tar", "-xJOf", tarball, "./"+path).Output()
	if err != nil {
		t.Fatalf("%s in %s: %v", path, tarball, err)
	}
	return string(out)
}

// fileMode: scripts are executable.
func fileMode(content string) os.FileMode {
	if strings.HasPrefix(content, "#!") {
		return 0o755
	}
	return 0o644
}
