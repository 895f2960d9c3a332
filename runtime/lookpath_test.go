package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// checkExecutable finds the workload as the container will, and says why it cannot run
// in the words runc prints (Go's exec.LookPath), from which Docker takes 127 or 126.
func TestCheckExecutable(t *testing.T) {
	root := t.TempDir()
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{"bin/app", 0o755}, {"etc/conf", 0o644}} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		mounts []string
		want   string // "" : runs
	}{
		{"absolute", []string{"/bin/app"}, nil, nil, ""},
		{"in PATH", []string{"app"}, []string{"PATH=/usr/bin:/bin"}, nil, ""},
		{"relative to cwd", []string{"./bin/app"}, nil, nil, ""},
		{"missing", []string{"/bin/none"}, nil, nil, `exec: "/bin/none": stat /bin/none: no such file or directory`},
		{"not executable", []string{"/etc/conf"}, nil, nil, `exec: "/etc/conf": permission denied`},
		{"a directory", []string{"/bin"}, nil, nil, `exec: "/bin": permission denied`},
		{"not in PATH", []string{"none"}, []string{"PATH=/bin"}, nil, `exec: "none": executable file not found in $PATH`},
		{"below a mount", []string{"/opt/tool"}, nil, []string{"/opt"}, ""},
		{"under the launcher", []string{"/proc/self/exe", "__yoroi_landlock", "abi=1", "--", "/bin/none"}, nil, nil, "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExecutable(root, &specs.Process{Args: tc.args, Env: tc.env, Cwd: "/"}, tc.mounts)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
