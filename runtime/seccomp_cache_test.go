//go:build seccomp

package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/yoroi-runtime/yoroi/hardening"
)

func TestMoveSeccompToLauncher(t *testing.T) {
	wrapped := hardening.WrapLandlock([]string{"true"}, 1, false)
	profile := func() *configs.Seccomp {
		return &configs.Seccomp{
			DefaultAction: configs.Errno,
			Architectures: []string{"amd64"},
			Syscalls:      []*configs.Syscall{{Name: "read", Action: configs.Allow}, {Name: "write", Action: configs.Allow}},
		}
	}
	planted := seccompFilterLabel + "=" + strings.Repeat("0", 64)
	// One state root for all cases: the second finds the first's compiled filter.
	r := &Runtime{root: t.TempDir()}
	for _, tc := range []struct {
		name     string
		args     []string
		seccomp  func() *configs.Seccomp
		damage   bool
		launcher bool
	}{
		{"compiled for the launcher", wrapped, profile, false, true},
		{"cached", wrapped, profile, false, true},
		{"damaged cache entry compiled again", wrapped, profile, true, true},
		{"not under the launcher", []string{"true"}, profile, false, false},
		{"no filter", wrapped, func() *configs.Seccomp { return nil }, false, false},
		{"notify needs libcontainer", wrapped, func() *configs.Seccomp {
			s := profile()
			s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: "mkdir", Action: configs.Notify})
			return s
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.damage {
				key, err := filterKey(tc.seccomp())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(r.filterCacheDir(), key+".bpf"), []byte("damaged"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			config := &configs.Config{Seccomp: tc.seccomp(), Labels: []string{"bundle=/b", planted}}
			f, err := r.moveSeccompToLauncher(config, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(config.Labels, planted) {
				t.Errorf("a filter label from the spec survived: %v", config.Labels)
			}
			if !tc.launcher {
				if f != nil || (tc.seccomp() != nil && config.Seccomp == nil) {
					t.Fatalf("filter moved: file %v, config %v", f, config.Seccomp)
				}
				return
			}
			defer f.Close()
			if config.Seccomp != nil {
				t.Error("libcontainer would install the filter too")
			}
			key, err := filterKey(tc.seccomp())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(config.Labels, seccompFilterLabel+"="+key) {
				t.Errorf("labels %v do not name filter %s", config.Labels, key)
			}
			prog, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
			if err != nil {
				t.Fatal(err)
			}
			cached, err := r.readFilter(key)
			if err != nil {
				t.Fatal(err)
			}
			if string(prog) != string(cached) {
				t.Error("the memfd does not hold the cached filter")
			}
			if _, err := f.Write([]byte{0}); err == nil {
				t.Error("the filter memfd is writable")
			}
		})
	}
}

func TestCheckFilter(t *testing.T) {
	hdr := func(n uint32) []byte { return []byte{0, 0, 0, 0, byte(n), byte(n >> 8), 0, 0} }
	for _, tc := range []struct {
		name string
		prog []byte
		ok   bool
	}{
		{"one instruction", append(hdr(1), make([]byte, 8)...), true},
		{"empty", nil, false},
		{"no instructions", hdr(0), false},
		{"short", append(hdr(2), make([]byte, 8)...), false},
		{"long", append(hdr(1), make([]byte, 16)...), false},
		{"above BPF_MAXINSNS", append(hdr(4097), make([]byte, 8*4097)...), false},
	} {
		if err := checkFilter(tc.prog); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
