package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// A cgroup mount the spec asks writable is read-only by default; an administrator's
// mounts.allow_writable_cgroup keeps it writable and delegates the container's cgroup to
// the container's root (who is not the host's root): it creates a sub-cgroup and moves
// itself there, and still cannot raise its own cgroup's limits. Deleting the container
// removes the sub-cgroup with it.
func TestWritableCgroupDelegated(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/cgroup.procs"); err != nil {
		t.Skip("host: no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory (this test is written for cgroup v1)")
	}
	e := newEnv(t)
	script := `
mkdir /sys/fs/cgroup/memory/sub; echo "mkdir=$?"
echo $$ > /sys/fs/cgroup/memory/sub/cgroup.procs; echo "move=$?"
grep ':memory:' /proc/self/cgroup
echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes; echo "own-limit=$?"
`
	writable := func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Type == "cgroup" || m.Type == "cgroup2" {
				s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}

	// The default policy: the mount stays read-only.
	b := e.newBundle("sh", "-c", script).edit(t, writable)
	out := e.ok("run", "--bundle", b.dir, uniqueID("cgroup-ro"))
	if !strings.Contains(out, "mkdir=1") || !strings.Contains(out, "move=1") {
		t.Errorf("the default policy left the cgroup mount writable:\n%s", out)
	}

	// The profile: writable and delegated.
	id := uniqueID("cgroup-rw")
	b = e.newBundle("sh", "-c", script+"stat -c 'owner=%u' /sys/fs/cgroup/memory/sub /sys/fs/cgroup/memory/memory.limit_in_bytes").edit(t, func(s *specs.Spec) {
		writable(s)
		s.Annotations = map[string]string{"org.yoroi.profile": "test-writable-cgroup"}
		s.Linux.CgroupsPath = "/" + id
	})
	out = e.ok("run", "--bundle", b.dir, id)
	for _, want := range []string{"mkdir=0", "move=0", ":memory:/sub\n", "own-limit=1", "owner=0\nowner=65534"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", id)); !os.IsNotExist(err) {
		t.Errorf("the container's cgroup was left behind: %v", err)
	}
	if logs, _ := os.ReadFile(e.audit); !strings.Contains(string(logs), "mounts.allow_writable_cgroup") {
		t.Errorf("the relaxation is not in the audit log")
	}
}
