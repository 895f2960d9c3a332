package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/integration/attacks"
)

// Every attack of the battery (integration/attacks) fails under yoroi's defaults, and
// leaves nothing behind. An in-container attack is also run under runc with Docker's
// default spec as a control: its outcome is logged, not required.
func TestAttacksFail(t *testing.T) {
	e := newEnv(t)
	ipc, err := os.Readlink("/proc/self/ns/ipc")
	if err != nil {
		t.Fatal(err)
	}
	list := attacks.Catalogue(attacks.Host{IPCNamespace: ipc})
	if len(list) < 40 {
		t.Fatalf("only %d attacks", len(list))
	}
	for _, a := range list {
		t.Run(a.Name, func(t *testing.T) {
			rootfs := attackRootfs(t, a)
			args := a.Args
			if len(args) == 0 {
				args = []string{"true"}
			}
			b := e.newBundle(args...).edit(t, func(s *specs.Spec) {
				s.Process.User.UID, s.Process.User.GID = a.User, a.User
				s.Root.Path = rootfs
				if a.Pids > 0 {
					s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &a.Pids}}
				}
				if a.Request != nil {
					a.Request(s)
				}
			})
			id := uniqueID("attack")
			if a.Refused != "" {
				r := e.fails("refused by rule "+a.Refused+": ", "run", "--bundle", b.dir, id)
				if r.code != 1 {
					t.Errorf("exit %d, want 1", r.code)
				}
				e.assertNoLeftovers(id)
				t.Logf("refused (%s): %s", a.Mechanism, strings.TrimSpace(r.stderr))
				return
			}
			r := e.run("run", "--bundle", b.dir, id)
			out := strings.TrimSpace(r.stdout)
			e.assertNoLeftovers(id)
			if a.Absent != "" && out == a.Absent {
				t.Skipf("this host lacks what %q attacks (the container printed %q)", a.Name, out)
			}
			if !strings.Contains(out, a.Blocked) {
				t.Errorf("attack %q was not stopped (want %q, stopped by %s): exit %d, stdout %q, stderr %q", a.Name, a.Blocked, a.Mechanism, r.code, out, r.stderr)
			}
			control := "not meaningful (a request only a policy judges)"
			if a.Control() {
				control = runcControl(t, a, rootfs)
			}
			t.Logf("blocked by %s; control (runc, Docker's default spec): %s", a.Mechanism, control)
		})
	}
}

// attackRootfs is the shared busybox rootfs, or a private copy changed by a.Image.
func attackRootfs(t *testing.T, a attacks.Attack) string {
	t.Helper()
	if a.Image == nil {
		return rootfsTemplate
	}
	dir := copyRootfs(t)
	if err := a.Image(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runcControl runs the attack under Debian's runc with Docker's default spec (capabilities,
// seccomp profile, masked paths as dockerd sets them) and returns its output.
func runcControl(t *testing.T, a attacks.Attack, rootfs string) string {
	b := fixtureBundle(t, "docker-default")
	b.spec.Process.Args = a.Args
	b.spec.Process.User.UID, b.spec.Process.User.GID = a.User, a.User
	b.spec.Root.Path = rootfs
	if a.Pids > 0 {
		b.spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &a.Pids}
	}
	b.spec.Root.Readonly = false
	b.spec.Mounts = slicesWithout(b.spec.Mounts, func(m specs.Mount) bool { return m.Type == "bind" })
	b.save(t)
	root := filepath.Join(privateDir(t), "runc")
	id := uniqueID("control")
	out, err := runClient("runc", "--root", root, "run", "--bundle", b.dir, id)
	_, _ = runClient("runc", "--root", root, "delete", "--force", id)
	return fmt.Sprintf("%q (err %v)", strings.TrimSpace(out), err)
}

func slicesWithout(ms []specs.Mount, drop func(specs.Mount) bool) []specs.Mount {
	var out []specs.Mount
	for _, m := range ms {
		if !drop(m) {
			out = append(out, m)
		}
	}
	return out
}
