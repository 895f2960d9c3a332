//go:build seccomp

package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

func TestMoveSeccompToLauncher(t *testing.T) {
	wrapped := hardening.WrapLandlock([]string{"true"}, hardening.LandlockSettings{MinABI: 1})
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
		{"startContainer hooks run under libcontainer's", wrapped, profile, false, false},
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
			if strings.HasPrefix(tc.name, "startContainer") {
				config.Hooks = configs.Hooks{configs.StartContainer: configs.HookList{configs.NewCommandHook(&configs.Command{Path: "/bin/true"})}}
			}
			prog, err := r.moveSeccompToLauncher(config, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(config.Labels, planted) {
				t.Errorf("a filter label from the spec survived: %v", config.Labels)
			}
			if !tc.launcher {
				if prog != nil || (tc.seccomp() != nil && config.Seccomp == nil) {
					t.Fatalf("filter moved: program %v, config %v", prog != nil, config.Seccomp)
				}
				return
			}
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
			cached, err := r.readFilter(key)
			if err != nil {
				t.Fatal(err)
			}
			if string(prog) != string(cached) {
				t.Error("the launcher would not get the cached filter")
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
		if err := launcher.CheckFilter(tc.prog); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// The guard runs first: for an i386 socketcall(SYS_SOCKET) it returns EPERM; anything
// else reaches the program's own first instruction.
func TestSocketcallGuard(t *testing.T) {
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, {Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	guarded, err := withSocketcallGuard(prog)
	if err != nil {
		t.Fatal(err)
	}
	run := func(arch, nr, arg0 uint32) uint32 {
		data := map[uint32]uint32{seccompDataArch: arch, seccompDataNr: nr, seccompDataArg0: arg0}
		var a uint32
		for pc := 0; pc < len(guarded); pc++ {
			in := guarded[pc]
			switch in.Code {
			case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
				a = data[in.K]
			case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
				if a == in.K {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			case unix.BPF_RET | unix.BPF_K:
				return in.K
			default:
				t.Fatalf("unexpected instruction %+v", in)
			}
		}
		t.Fatal("fell off the program")
		return 0
	}
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	for _, tc := range []struct {
		name           string
		arch, nr, arg0 uint32
		want           uint32
	}{
		{"i386 socketcall(SYS_SOCKET)", auditArchI386, 102, 1, eperm},
		{"i386 socketcall(SYS_CONNECT)", auditArchI386, 102, 3, unix.SECCOMP_RET_ALLOW},
		{"i386 other syscall with 1", auditArchI386, 3, 1, unix.SECCOMP_RET_ALLOW},
		{"x86_64 syscall 102 (getuid)", 0xc000003e, 102, 1, unix.SECCOMP_RET_ALLOW},
	} {
		if got := run(tc.arch, tc.nr, tc.arg0); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
	if _, err := withSocketcallGuard([]unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K}}); err == nil {
		t.Error("a program not starting with a load was accepted")
	}
}
