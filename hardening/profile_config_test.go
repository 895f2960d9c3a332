package hardening

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A recorded profile parses as config.toml, adds a scratch path per written directory
// to the base policy's, lists the syscalls, and relaxes nothing: what would need a
// relaxation is only said in comments.
func TestRecordedConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		written  []string
		executed []string
		scratch  []string
		comments []string
	}{
		{"nginx", []string{"/var/lib/nginx", "/var/log/nginx"}, []string{"/usr/sbin/nginx"},
			[]string{"/var/lib/nginx", "/var/log/nginx"}, []string{"# files.exec: what it executed"}},
		{"writes only where scratch is", []string{"/run/app"}, nil, nil, nil},
		{"writes in /", []string{"/"}, nil, nil, []string{"rootfs.readonly = false (not set here)"}},
		{"executes what it wrote", []string{"/opt/cache"}, []string{"/opt/cache/jit.so"},
			[]string{"/opt/cache"}, []string{"# It executed /opt/cache/jit.so, beneath the scratch path /opt/cache, which is noexec"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := RecordedConfig(RecordedRun{Name: "app", ID: "c1", Bundle: "/b", At: time.Unix(0, 0), Base: DefaultPolicy(),
				Syscalls: []string{"read", "socket", "openat"}, Written: tc.written, Executed: tc.executed, Read: tc.executed})
			cfg, err := ParseConfig([]byte(out))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			p, err := cfg.Policy("app")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Rootfs.ScratchCopy, tc.scratch) || !slices.Equal(p.Rootfs.Scratch, []string{"/tmp", "/run"}) || !slices.Equal(p.Seccomp.Syscalls, []string{"read", "socket", "openat"}) {
				t.Errorf("scratch_copy %v, syscalls %v\n%s", p.Rootfs.ScratchCopy, p.Seccomp.Syscalls, out)
			}
			if !slices.Equal(p.Files.Exec, tc.executed) && len(tc.executed) > 0 {
				t.Errorf("files.exec %v, want %v", p.Files.Exec, tc.executed)
			}
			for _, d := range p.Differences() {
				if d.Detail != "rootfs.scratch_copy" && d.Detail != "seccomp.syscalls" && d.Detail != "files.exec" && d.Detail != "files.read" {
					t.Errorf("the recorded profile changes %s", d.Detail)
				}
			}
			for _, c := range tc.comments {
				if !strings.Contains(out, c) {
					t.Errorf("%q missing:\n%s", c, out)
				}
			}
		})
	}
}
