package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// An engine's API socket controls the host wherever it lives: an outside tester started a
// container with a Docker socket bind-mounted from a non-default path and used it to start
// another with the host's / mounted. yoroi judges a bind source by what it is. (Every case
// below was accepted before this rule: the sources are at paths no deny list names.)
func TestEngineSocketAtAnyPath(t *testing.T) {
	e := newEnv(t)
	dir := privateDir(t)
	sock := filepath.Join(dir, "engine", "api.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	link := filepath.Join(dir, "innocent")
	if err := os.Symlink(sock, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"socket", sock, "is a UNIX socket"},
		{"symlink to the socket", link, "is a UNIX socket"},
		{"directory holding the socket", filepath.Dir(sock), "contains the bound UNIX socket " + sock},
		{"an ancestor of it", dir, "contains the bound UNIX socket " + sock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBundle("true").edit(t, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/var/run/docker.sock", Source: tc.src, Type: "bind", Options: []string{"rbind"}})
			})
			id := uniqueID("enginesock")
			r := e.fails("refused by rule mounts.source: ", "run", "--bundle", b.dir, id)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "mounts.allow_sources") {
				t.Errorf("exit %d, stderr %q: want exit 1 saying %q and naming mounts.allow_sources", r.code, r.stderr, tc.want)
			}
			e.assertNoLeftovers(id)
			if ev := e.auditEvents(id, "refusal"); len(ev) != 1 || !strings.Contains(fmt.Sprint(ev[0]["error"]), "mounts.source") {
				t.Errorf("audit refusal events: %v", ev)
			}
		})
	}
	// An administrator can allow one socket, by its exact path.
	e.writeConfig(e.baseConfig() + fmt.Sprintf("\n[profiles.api-socket.mounts]\nallow_sources = [%q]\n", sock))
	b := e.newBundle("sh", "-c", "test -S /engine.sock && echo socket").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "api-socket"}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/engine.sock", Source: sock, Type: "bind", Options: []string{"rbind"}})
	})
	if out := e.ok("run", "--bundle", b.dir, uniqueID("enginesock")); strings.TrimSpace(out) != "socket" {
		t.Errorf("allowed socket: got %q", out)
	}
}

// The engine state a container can be traced to (its state root, the directory of its
// bundle, its root filesystem) is refused as a bind source wherever it is: --root is not
// the default here, and no deny list names these paths.
func TestEngineStateAtAnyPath(t *testing.T) {
	e := newEnv(t)
	probe := e.newBundle("true")
	rootfsParent := filepath.Dir(rootfsTemplate)
	for _, tc := range []struct{ name, src, want string }{
		{"state root", e.root, "is the runtime's state root"},
		{"parent of the state root", filepath.Dir(e.root), "contains the runtime's state root"},
		{"yoroi's host state", e.hostState, "yoroi's host state"},
		{"directory of the bundle", filepath.Dir(probe.dir), "directory of the container's bundle"},
		{"parent of the root filesystem", rootfsParent, "contains the container's root filesystem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(tc.src, 0o711); err != nil {
				t.Fatal(err)
			}
			b := e.newBundle("true").edit(t, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/engine", Source: tc.src, Type: "bind", Options: []string{"rbind", "ro"}})
			})
			if filepath.Dir(b.dir) != filepath.Dir(probe.dir) {
				t.Fatalf("bundles %s and %s are not in one directory", b.dir, probe.dir)
			}
			id := uniqueID("enginestate")
			r := e.fails("refused by rule mounts.source: ", "run", "--bundle", b.dir, id)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 1 saying %q", r.code, r.stderr, tc.want)
			}
			e.assertNoLeftovers(id)
		})
	}
}

// The same escape through a real Docker daemon whose socket, data root and exec root are
// all at non-default paths: docker run shows yoroi's refusal, and no container is left.
func TestDockerEngineSources(t *testing.T) {
	d := startDockerd(t)
	sock := filepath.Join(d.dir, "docker.sock")
	for _, tc := range []struct{ name, src, want string }{
		{"the daemon's API socket", sock, "is a UNIX socket"},
		{"the directory of the socket", d.dir, "contains the bound UNIX socket"},
		{"the data root", filepath.Join(d.dir, "root"), "contains the container's root filesystem"},
		{"the exec root", filepath.Join(d.dir, "exec"), "contains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueID("dockersrc")
			out, err := d.docker("run", "--rm", "--name", name, "--runtime", "yoroi", "--network", "none", "-v", tc.src+":/var/run/docker.sock", "busybox:yoroi", "true")
			if err == nil {
				t.Fatalf("docker run with %s mounted succeeded:\n%s", tc.src, out)
			}
			if !strings.Contains(out, "refused by rule mounts.source") || !strings.Contains(out, tc.want) {
				t.Errorf("docker run: want yoroi's refusal saying %q, got:\n%s", tc.want, out)
			}
			if out, _ := d.docker("ps", "-aq", "--filter", "name="+name); strings.TrimSpace(out) != "" {
				// Docker keeps a created container whose start failed (docker run --rm
				// removes it): anything left must be removable.
				if rm, err := d.docker("rm", "-f", name); err != nil {
					t.Errorf("docker rm: %v: %s", err, rm)
				}
			}
		})
	}
}
