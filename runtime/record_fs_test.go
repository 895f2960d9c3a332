package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writtenPaths turns an overlay's upper directory into the directories a workload wrote
// in, as scratch paths: created directories at their topmost, the directory of a written
// file, a chmod'ed directory, and never a mount point.
func TestWrittenPaths(t *testing.T) {
	type tree struct{ dirs, files []string }
	for _, tc := range []struct {
		name         string
		lower, upper tree
		chmod        []string // upper directories whose mode the workload changed
		mounts       []string
		want         []string
	}{
		{"nginx",
			tree{dirs: []string{"/var/lib/nginx", "/var/log/nginx"}, files: []string{"/var/log/nginx/access.log"}},
			tree{dirs: []string{"/var/lib/nginx/body", "/var/lib/nginx/proxy", "/var/log/nginx"}, files: []string{"/var/log/nginx/error.log"}},
			nil, nil, []string{"/var/lib/nginx", "/var/log/nginx"}},
		{"a new tree at its top", tree{dirs: []string{"/opt"}}, tree{files: []string{"/opt/app/cache/x"}}, nil, nil, []string{"/opt/app"}},
		{"one new directory", tree{dirs: []string{"/var/cache"}}, tree{dirs: []string{"/var/cache/app"}}, nil, nil, []string{"/var/cache/app"}},
		{"mount points are not writes", tree{dirs: []string{"/srv"}}, tree{dirs: []string{"/data", "/srv/vol/a"}}, nil, []string{"/data", "/srv/vol/a"}, nil},
		{"a file in /", tree{}, tree{files: []string{"/stamp"}}, nil, nil, []string{"/"}},
		{"chmod of a directory", tree{dirs: []string{"/etc/ssl"}}, tree{dirs: []string{"/etc/ssl"}}, []string{"/etc/ssl"}, nil, []string{"/etc/ssl"}},
		{"nothing written", tree{dirs: []string{"/etc"}}, tree{dirs: []string{"/etc"}}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lower, upper := t.TempDir(), t.TempDir()
			for _, x := range []struct {
				root string
				tr   tree
			}{{lower, tc.lower}, {upper, tc.upper}} {
				for _, d := range x.tr.dirs {
					if err := os.MkdirAll(filepath.Join(x.root, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for _, f := range x.tr.files {
					if err := os.MkdirAll(filepath.Join(x.root, filepath.Dir(f)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(x.root, f), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, d := range tc.chmod {
				if err := os.Chmod(filepath.Join(upper, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			got, err := writtenPaths(upper, lower, tc.mounts, idShift{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
