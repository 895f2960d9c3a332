package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Hostile bundles: each gets a clear refusal or error (one "yoroi: " or "yoroi run failed: " line, exit 1) or a
// safely contained container, and leaves nothing behind.
func TestHostileBundles(t *testing.T) {
	e := newEnv(t)
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	type outcome int
	const (
		runs outcome = iota
		fails
	)
	for _, tc := range []struct {
		name  string
		image func(t *testing.T, rootfs string) // changes a private rootfs copy
		edit  func(s *specs.Spec)
		args  []string
		want  outcome
		msg   string // in stderr when it fails; in stdout when it runs
	}{
		{name: "rootfs is a symlink to /", edit: func(s *specs.Spec) {}, image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, rootfs, "/")
		}, want: fails, msg: "refused by rule rootfs.source: root filesystem of host path " /* …rootfs (resolves to /, denied) */},
		{name: "rootfs is a symlink to /etc", image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, rootfs, "/etc")
		}, want: fails, msg: "refused by rule rootfs.source"},
		{name: "/proc is a symlink to /", image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, filepath.Join(rootfs, "proc"), "/")
		}, want: fails, msg: "yoroi"},
		{name: "/proc is a symlink to the host's /proc path outside", image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, filepath.Join(rootfs, "proc"), "../../../../../../proc")
		}, want: fails, msg: "yoroi"},
		{name: "/dev is a symlink to /", image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, filepath.Join(rootfs, "dev"), "/")
		}, want: fails, msg: "yoroi"},
		{name: "/sys is a symlink to /etc", image: func(t *testing.T, rootfs string) {
			replaceWithSymlink(t, filepath.Join(rootfs, "sys"), "/etc")
		}, want: fails, msg: "yoroi"},
		{name: "mount destination is a symlink to /etc", image: func(t *testing.T, rootfs string) {
			if err := os.Symlink("/etc", filepath.Join(rootfs, "data")); err != nil {
				t.Fatal(err)
			}
		}, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
		}, args: []string{"sh", "-c", "grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f5,9"}, want: runs, msg: "/etc tmpfs"},
		{name: "mount destination escapes with ..", edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/../../../../../etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
		}, args: []string{"sh", "-c", "grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f5,9"}, want: runs, msg: "/etc tmpfs"},
		{name: "memory limit of one byte", edit: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1)}}
		}, want: fails, msg: "yoroi"},
		{name: "pids limit of 2^62", edit: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(1 << 62)}}
		}, args: []string{"cat", "/sys/fs/cgroup/pids/pids.max"}, want: runs, msg: "4096" /* the default pids.max */},
		{name: "negative pids limit (unlimited)", edit: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}}
		}, args: []string{"cat", "/sys/fs/cgroup/pids/pids.max"}, want: runs, msg: "4096" /* the default pids.max */},
		{name: "cpu shares and quota of 2^62", edit: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1 << 62), Quota: i64(1 << 62), Period: u64(1 << 62)}}
		}, want: fails, msg: "yoroi"},
		{name: "nofile rlimit above the hard limit", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1 << 40, Soft: 1 << 40}}
		}, want: fails, msg: "yoroi"},
		{name: "unknown rlimit", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_EVIL", Hard: 1, Soft: 1}}
		}, want: fails, msg: "yoroi"},
		{name: "100000 environment variables", edit: func(s *specs.Spec) {
			for i := 0; i < 100000; i++ {
				s.Process.Env = append(s.Process.Env, "X"+strings.Repeat("x", i%50)+"=1")
			}
		}, args: []string{"sh", "-c", "echo contained"}, want: runs, msg: "contained"},
		{name: "10000 masked paths", edit: func(s *specs.Spec) {
			for i := 0; i < 10000; i++ {
				s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/proc/nonexistent-"+strings.Repeat("x", i%100))
			}
		}, args: []string{"sh", "-c", "echo contained"}, want: runs, msg: "contained"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) == 0 {
				args = []string{"true"}
			}
			b := e.newBundle(args...)
			if tc.image != nil {
				rootfs := filepath.Join(b.dir, "rootfs")
				copyTree(t, rootfsTemplate, rootfs)
				tc.image(t, rootfs)
				b.spec.Root.Path = "rootfs"
			}
			if tc.edit != nil {
				tc.edit(b.spec)
			}
			b.save(t)
			id := uniqueID("hostile")
			r := e.run("run", "--bundle", b.dir, id)
			switch tc.want {
			case runs:
				if r.code != 0 || !strings.Contains(r.stdout, tc.msg) {
					t.Errorf("want a contained container printing %q: exit %d, stdout %q, stderr %q", tc.msg, r.code, r.stdout, r.stderr)
				}
			case fails:
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if r.code != 1 || len(lines) != 1 || !isErrorLine(lines[0]) || !strings.Contains(lines[0], tc.msg) {
					t.Errorf("want exit 1 and one line with %q: exit %d, stderr %q", tc.msg, r.code, r.stderr)
				}
			}
			e.assertNoLeftovers(id)
			t.Logf("exit %d, stdout %q, stderr %q", r.code, strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
		})
	}
}

// Configs that are not what they claim: each is refused with one line and exit 1.
func TestHostileConfigs(t *testing.T) {
	e := newEnv(t)
	good, err := json.Marshal(e.newBundle("true").spec)
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"ociVersion":"1.0.2","annotations":{"x":"` + strings.Repeat("a", 50<<20) + `"}}`
	for _, tc := range []struct {
		name, content, msg string
	}{
		{"50 MB config.json", huge, "larger than"},
		{"truncated config.json", string(good[:len(good)/2]), "config"},
		{"config.json of NUL bytes", strings.Repeat("\x00", 4096), "config"},
		{"deeply nested JSON", strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000), "config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			id := uniqueID("hostilecfg")
			r := e.fails(tc.msg, "run", "--bundle", dir, id)
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); r.code != 1 || len(lines) != 1 {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
			e.assertNoLeftovers(id)
		})
	}
	// Unknown fields are ignored, as the runtime spec requires; the policy still applies.
	t.Run("unknown fields", func(t *testing.T) {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		m["futureFeature"] = map[string]any{"privileged": true}
		m["process"].(map[string]any)["escapeHatch"] = true
		m["process"].(map[string]any)["args"] = []string{"sh", "-c", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status"}
		data, _ := json.Marshal(m)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		id := uniqueID("unknownfields")
		r := e.run("run", "--bundle", dir, id)
		if r.code != 0 || !strings.Contains(r.stdout, "NoNewPrivs:\t1") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		e.assertNoLeftovers(id)
	})
}

func replaceWithSymlink(t *testing.T, path, target string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
