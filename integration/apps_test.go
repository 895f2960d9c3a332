package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// appsImage is the real-application image (scripts/app-images.sh, cached by make under
// bin/): a Debian bookworm rootfs with Debian's nginx, PostgreSQL, Redis, Python 3 and
// Node.js, as a rootfs directory, a tarball for docker import and a docker-archive for ctr.
type appsImage struct{ dir string }

const appsRef = "docker.io/library/apps:yoroi"

func appsImageDir(t *testing.T) appsImage {
	t.Helper()
	dir := os.Getenv("APPS_IMAGE")
	if dir == "" {
		t.Fatal("APPS_IMAGE is not set: run the integration tests with make integration (it builds the application image)")
	}
	for _, f := range []string{"rootfs", "rootfs.tar", "apps.tar"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("application image: %v", err)
		}
	}
	return appsImage{dir: dir}
}

// httpGet is a client in the image itself: the checks run inside the container's own
// network namespace, on loopback.
const httpGet = `import sys, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=5)
print(r.status, r.headers.get("Server", ""), r.read().decode(errors="replace")[:300])`

// realApp is one application as an operator runs it: its command, the writable state it
// is given (volumes), and a check run inside its container that must print want.
type realApp struct {
	name string
	// tmpfs are directories given a tmpfs; volume is a directory given a persistent
	// volume (Docker: a named volume; containerd: a bind of a host directory).
	tmpfs  []string
	volume string
	cmd    []string
	check  []string
	want   string
}

var realApps = []realApp{
	{
		// Debian's nginx writes its temporary files under /var/lib/nginx and its logs
		// under /var/log/nginx: the read-only root needs both given.
		name:  "nginx",
		tmpfs: []string{"/var/lib/nginx", "/var/log/nginx"},
		cmd:   []string{"nginx", "-g", "daemon off;"},
		check: []string{"python3", "-c", httpGet, "http://127.0.0.1/"},
		want:  "200 nginx/1.22.1",
	},
	{
		// initdb, then the server, as postgres, on a persistent volume; the socket in
		// the scratch /tmp.
		name:   "postgresql",
		volume: "/var/lib/postgresql/data",
		cmd: []string{"sh", "-ec", `chown postgres:postgres /var/lib/postgresql/data
exec setpriv --reuid=postgres --regid=postgres --init-groups sh -ec '
[ -s /var/lib/postgresql/data/PG_VERSION ] || /usr/lib/postgresql/15/bin/initdb -D /var/lib/postgresql/data >/dev/null
exec /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/data -k /tmp -c listen_addresses=127.0.0.1'`},
		check: []string{"psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
			"create temp table t (x int); insert into t values (6), (7); select string_agg(x::text, '*') || '=' || exp(sum(ln(x)))::int from t"},
		want: "6*7=42",
	},
	{
		name:   "redis",
		volume: "/data",
		cmd:    []string{"redis-server", "--bind", "127.0.0.1", "--dir", "/data"},
		check:  []string{"sh", "-c", "redis-cli set answer 42 >/dev/null && redis-cli save && redis-cli get answer"},
		want:   "OK\n42",
	},
	{
		name:  "python",
		cmd:   []string{"python3", "-m", "http.server", "8000", "--bind", "127.0.0.1", "--directory", "/etc"},
		check: []string{"python3", "-c", httpGet, "http://127.0.0.1:8000/os-release"},
		want:  "200 SimpleHTTP",
	},
	{
		name:  "node",
		cmd:   []string{"node", "-e", `require("http").createServer((q, s) => s.end("node " + process.version + " on " + require("os").hostname())).listen(8081, "127.0.0.1")`},
		check: []string{"python3", "-c", httpGet, "http://127.0.0.1:8081/"},
		want:  "200  node v18",
	},
}

// appConfinement prints, inside an application's container, how its process (pid 1) is
// confined: no_new_privs, seccomp, its user namespace, and the read-only root.
var appConfinement = []string{"sh", "-c", `grep -E '^(NoNewPrivs|Seccomp):' /proc/1/status | tr -d '\t'; echo "uid_map=$(tr -s ' ' </proc/1/uid_map)"; touch /yoroi-probe 2>&1`}

func assertAppConfined(t *testing.T, what, out string) {
	t.Helper()
	for _, want := range []string{"NoNewPrivs:1", "Seccomp:2", "uid_map= 0 ", "Read-only file system"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: %q missing:\n%s", what, want, out)
		}
	}
	if strings.Contains(out, "uid_map= 0 0 ") {
		t.Errorf("%s: the application runs as the host's root:\n%s", what, out)
	}
}

// eventually retries check until its output contains want (the application is starting).
func eventually(t *testing.T, what, want string, check func() (string, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := check()
		if err == nil && strings.Contains(out, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: want %q in the output: %v\n%s", what, want, err, out)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Real applications from Debian's packages run under yoroi's default policy through
// Docker: each in its own container with nothing but loopback, checked from inside it by
// an exec of a client from the same image.
func TestRealAppsDocker(t *testing.T) {
	img := appsImageDir(t)
	d := startDockerd(t)
	if out, err := d.docker("import", filepath.Join(img.dir, "rootfs.tar"), "apps:yoroi"); err != nil {
		t.Fatalf("docker import: %v: %s", err, out)
	}
	names := map[string]string{}
	for _, a := range realApps {
		name := uniqueID("app-" + a.name)
		args := []string{"run", "-d", "--name", name, "--runtime", "yoroi", "--network", "none"}
		for _, dst := range a.tmpfs {
			args = append(args, "--tmpfs", dst)
		}
		if a.volume != "" {
			args = append(args, "-v", name+":"+a.volume)
		}
		if out, err := d.docker(append(append(args, "apps:yoroi"), a.cmd...)...); err != nil {
			t.Fatalf("%s: docker run: %v: %s", a.name, err, out)
		}
		names[a.name] = name
		t.Cleanup(func() { _, _ = d.docker("rm", "-f", "-v", name) })
	}
	for _, a := range realApps {
		name := names[a.name]
		eventually(t, "docker: "+a.name, a.want, func() (string, error) {
			return d.docker(append([]string{"exec", name}, a.check...)...)
		})
		out, _ := d.docker(append([]string{"exec", name}, appConfinement...)...)
		assertAppConfined(t, "docker: "+a.name, out)
		if t.Failed() {
			logs, _ := d.docker("logs", name)
			t.Logf("%s logs:\n%s", a.name, logs)
		}
	}
	// An operator who gives nginx no writable state is told where it wanted to write.
	out, err := d.docker("run", "--rm", "--runtime", "yoroi", "--network", "none", "apps:yoroi", "nginx", "-g", "daemon off;")
	if err == nil || !strings.Contains(out, `mkdir() "/var/lib/nginx/body" failed (30: Read-only file system)`) {
		t.Errorf("nginx without a volume: %v\n%s", err, out)
	}
}

// The same applications through containerd 2.x and yoroi's shim (ctr run --runtime
// io.containerd.yoroi.v2), with tmpfs mounts and host directories as volumes; each
// container has a network namespace of its own with loopback only.
func TestRealAppsContainerd(t *testing.T) {
	img := appsImageDir(t)
	c := startContainerd(t, true, yoroiBin)
	if out, err := c.run("images", "import", filepath.Join(img.dir, "apps.tar")); err != nil {
		t.Fatalf("import: %v: %s", err, out)
	}
	ids := map[string]string{}
	for _, a := range realApps {
		id := uniqueID("app-" + a.name)
		args := []string{"run", "-d", "--runtime", "io.containerd.yoroi.v2"}
		for _, dst := range a.tmpfs {
			args = append(args, "--mount", "type=tmpfs,src=tmpfs,dst="+dst+",options=nosuid:nodev:noexec")
		}
		if a.volume != "" {
			args = append(args, "--mount", "type=bind,src="+privateDir(t)+",dst="+a.volume+",options=rbind:rw")
		}
		if out, err := c.run(append(append(args, appsRef, id), a.cmd...)...); err != nil {
			t.Fatalf("%s: ctr run: %v: %s", a.name, err, out)
		}
		ids[a.name] = id
		t.Cleanup(func() {
			_, _ = c.run("task", "kill", "-s", "KILL", id)
			for i := 0; i < 50; i++ {
				if _, err := c.run("task", "delete", id); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			_, _ = c.run("container", "delete", id)
		})
	}
	for _, a := range realApps {
		id := ids[a.name]
		n := 0
		eventually(t, "containerd: "+a.name, a.want, func() (string, error) {
			n++
			return c.run(append([]string{"task", "exec", "--exec-id", fmt.Sprintf("check%d", n), id}, a.check...)...)
		})
		out, _ := c.run(append([]string{"task", "exec", "--exec-id", "confinement", id}, appConfinement...)...)
		assertAppConfined(t, "containerd: "+a.name, out)
	}
}

// appsRootfs is a private copy of the application image's rootfs (hard links: nothing of
// the cached image is written through it, the root being read-only), to run directly.
func appsRootfs(t *testing.T, img appsImage) string {
	t.Helper()
	dir := filepath.Join(privateDir(t), "rootfs")
	if out, err := runClient("cp", "-al", filepath.Join(img.dir, "rootfs"), dir); err != nil {
		t.Fatalf("cp -al: %v: %s", err, out)
	}
	return dir
}

// dockerCaps are the capabilities Docker and containerd give a container by default (all
// within yoroi's allowlist); `yoroi spec` gives runc's three.
var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_MKNOD", "CAP_SYS_CHROOT", "CAP_NET_RAW"}

// nginxOnce starts nginx, fetches its page from inside the container and stops it. The
// first sleep runs whether nginx is quick to quit or not: a recording in which it never
// ran would leave it out of files.exec, and a later run that waits would be refused it.
const nginxOnce = `nginx || exit 1
python3 -c '` + httpGet + `' http://127.0.0.1/
nginx -s quit
sleep 0.1
while [ -e /run/nginx.pid ]; do sleep 0.1; done
`

// "Run it once under record, then under the profile": Debian's nginx fails on the read-only
// root; `yoroi profile record --toml` learns where it writes, what it executes and the
// syscalls it makes, and writes a profile; pasted into config.toml, that profile runs it
// with nothing relaxed but those scratch paths (and a narrower seccomp filter).
func TestProfileRecordNginx(t *testing.T) {
	img := appsImageDir(t)
	e := newEnv(t)
	b := e.newBundle("sh", "-c", nginxOnce).edit(t, func(s *specs.Spec) {
		s.Root.Path = appsRootfs(t, img)
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: dockerCaps, Effective: dockerCaps, Permitted: dockerCaps}
	})

	id := uniqueID("nginx-default")
	r := e.run("run", "--bundle", b.dir, id)
	if r.code == 0 || !strings.Contains(r.stderr, `mkdir() "/var/lib/nginx/body" failed (30: Read-only file system)`) {
		t.Fatalf("nginx under the default policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	e.assertNoLeftovers(id)

	profile := filepath.Join(privateDir(t), "nginx.toml")
	id = uniqueID("nginx-record")
	if out := e.ok("profile", "record", "--bundle", b.dir, "--toml", profile, "--profile-name", "nginx", id); !strings.Contains(out, "200 nginx/") {
		t.Fatalf("recording run: %q", out)
	}
	e.assertNoLeftovers(id)
	if ents, err := os.ReadDir(filepath.Join(e.root, ".yoroi", "record")); err != nil || len(ents) != 0 {
		t.Errorf("recording state left behind: %v %v", ents, err)
	}
	data, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := hardening.ParseConfig(data)
	if err != nil {
		t.Fatalf("the recorded profile does not parse: %v\n%s", err, data)
	}
	p, err := cfg.Policy("nginx")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Rootfs.ScratchCopy, []string{"/var/lib/nginx", "/var/log/nginx"}) {
		t.Errorf("recorded scratch paths %v\n%s", p.Rootfs.ScratchCopy, data)
	}
	for _, want := range []string{"accept4", "execve", "setuid", "socket"} {
		if !slices.Contains(p.Seccomp.Syscalls, want) {
			t.Errorf("%s not recorded: %v", want, p.Seccomp.Syscalls)
		}
	}
	for _, want := range []string{"/usr/sbin/nginx", "/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"} {
		if !slices.Contains(p.Files.Exec, want) {
			t.Errorf("executed file %q not in files.exec:\n%s", want, data)
		}
	}
	for _, want := range []string{"/etc/nginx/nginx.conf", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		if !slices.Contains(p.Files.Read, want) {
			t.Errorf("read path %q not in files.read:\n%s", want, data)
		}
	}
	for _, d := range p.Differences() {
		if d.Detail != "rootfs.scratch_copy" && d.Detail != "seccomp.syscalls" && d.Detail != "files.exec" && d.Detail != "files.read" {
			t.Errorf("the recorded profile changes %s", d.Detail)
		}
	}

	e.writeConfig(e.baseConfig() + "\n" + string(data))
	b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{hardening.ProfileAnnotation: "nginx"} })
	id = uniqueID("nginx-profile")
	if out := e.ok("run", "--bundle", b.dir, id); !strings.Contains(out, "200 nginx/") {
		t.Errorf("nginx under its recorded profile: %q", out)
	}
	e.assertNoLeftovers(id)
	// The profile's lists are the recorded ones: what nginx never ran cannot run
	// (files.exec: exit 126), what it never did is denied (seccomp.syscalls: nginx -t
	// calls nothing it did not), what it never read cannot be read (files.read).
	b.edit(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "nginx -t 2>&1; mount -t tmpfs none /mnt; echo mount=$?; chroot / true; echo chroot=$?; " +
			"python3 -c 'open(\"/etc/nginx/nginx.conf\").read(); print(\"conf=read\")'; python3 -c 'open(\"/etc/shadow\")' 2>/dev/null; echo shadow=$?"}
	})
	out := e.ok("run", "--bundle", b.dir, uniqueID("nginx-profile"))
	for _, want := range []string{"syntax is ok", "mount=126", "chroot=126", "conf=read", "shadow=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing under the recorded profile:\n%s", want, out)
		}
	}
}
