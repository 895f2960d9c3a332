package launcher_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// The test binary links the launcher's constructor: executed with the launcher's
// argument, it is the launcher (on the host, where "/" counts as the read-only root).

func TestArgMatchesPolicy(t *testing.T) {
	if launcher.Arg != hardening.LandlockArg {
		t.Fatalf("launcher argument %q, policy wraps with %q", launcher.Arg, hardening.LandlockArg)
	}
}

func launch(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION); e != 0 {
		t.Skipf("the kernel has no Landlock (%v)", e)
	}
	cmd := exec.Command(os.Args[0], append([]string{launcher.Arg}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func TestLauncher(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"runs the command, PATH searched", []string{"abi=1", "--", "sh", "-c", "echo ran; exit 7"}, 7, "ran\n"},
		{"absolute path", []string{"abi=1", "--", "/bin/sh", "-c", "exit 0"}, 0, ""},
		{"confined: no write to the read-only root", []string{"--", "sh", "-c", "touch /yoroi-launcher-test 2>/dev/null; echo $?"}, 0, "1\n"},
		{"unknown setting", []string{"abi=1", "bogus", "--", "true"}, 126, `yoroi landlock: unknown setting "bogus"` + "\n"},
		{"bad abi", []string{"abi=x", "--", "true"}, 126, `yoroi landlock: bad setting "abi=x"` + "\n"},
		{"ABI too high", []string{"abi=999", "--", "true"}, 126, "is below the required 999: refusing to run unconfined"},
		{"no command", []string{"abi=1", "--"}, 126, "yoroi landlock: no command\n"},
		{"no separator", []string{"abi=1"}, 126, "yoroi landlock: no command\n"},
		{"not found in PATH", []string{"--", "no-such-program"}, 127, "exec: \"no-such-program\": executable file not found in $PATH\n"},
		{"no such file", []string{"--", "/no/such/program"}, 127, "exec /no/such/program: no such file or directory\n"},
		{"not executable", []string{"--", "/etc/passwd"}, 126, "exec /etc/passwd: permission denied\n"},
		{"not a seccomp filter", []string{"seccomp=99", "--", "true"}, 126, "seccomp filter: bad size"},
		{"not hexadecimal", []string{"seccomp=" + strings.Repeat("zz", 16), "--", "true"}, 126, "seccomp filter: not hexadecimal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := launch(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, output %q; want exit %d with %q", code, out, tc.code, tc.out)
			}
		})
	}
}

// filterArg is a seccomp program as the launcher's setting: flags, length, then the
// instructions, in hexadecimal (less trim bytes).
func filterArg(t *testing.T, flags uint32, prog []bpf.Instruction, trim int) string {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	buf := binary.NativeEndian.AppendUint32(nil, flags)
	buf = binary.NativeEndian.AppendUint32(buf, uint32(len(raw)))
	for _, ins := range raw {
		buf = binary.NativeEndian.AppendUint16(buf, ins.Op)
		buf = append(buf, ins.Jt, ins.Jf)
		buf = binary.NativeEndian.AppendUint32(buf, ins.K)
	}
	return "seccomp=" + hex.EncodeToString(buf[:len(buf)-trim])
}

func TestLauncherInstallsSeccomp(t *testing.T) {
	// uname(2) fails with EPERM, everything else is allowed.
	denyUname := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_UNAME, SkipFalse: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	}
	out, code := launch(t, "--", "uname", "-s")
	if code != 0 || out != "Linux\n" {
		t.Fatalf("without a filter: exit %d, %q", code, out)
	}
	out, code = launch(t, filterArg(t, 0, denyUname, 0), "--", "sh", "-c", "grep Seccomp: /proc/self/status; uname -s")
	if code == 0 || !strings.Contains(out, "Seccomp:\t2") || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("with the filter: exit %d, %q", code, out)
	}
	// The filter does not reach the workload's argv.
	out, code = launch(t, filterArg(t, 0, denyUname, 0), "--", "sh", "-c", "tr '\\0' ' ' < /proc/self/cmdline")
	if code != 0 || out != "sh -c tr '\\0' ' ' < /proc/self/cmdline " {
		t.Fatalf("argv of the workload: exit %d, %q", code, out)
	}
	// A truncated program is refused, never half-installed.
	out, code = launch(t, filterArg(t, 0, denyUname, 3), "--", "true")
	if code != 126 || !strings.Contains(out, "yoroi landlock: seccomp filter: ") {
		t.Fatalf("truncated filter: exit %d, %q", code, out)
	}
	// Flags the kernel does not know make the install fail, not silently skip.
	out, code = launch(t, filterArg(t, 1<<30, denyUname, 0), "--", "true")
	if code != 126 || !strings.Contains(out, "yoroi landlock: seccomp:") {
		t.Fatalf("bad flags: exit %d, %q", code, out)
	}
}

// keep-privs: the launcher confines itself without no_new_privs (it holds CAP_SYS_ADMIN,
// as the runtime arranges) and gives the workload exactly the capability sets it names.
func TestLauncherKeepsPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_SYS_ADMIN and CAP_SETPCAP, as the runtime hands them to the launcher")
	}
	kill, chown := uint64(1)<<unix.CAP_KILL, uint64(1)<<unix.CAP_CHOWN
	caps := fmt.Sprintf("caps=%x,%x,%x,%x,%x", kill|chown, kill|chown, kill, 0, 0)
	status := "grep -E '^(NoNewPrivs|CapBnd|CapPrm|CapEff|CapAmb|Seccomp):' /proc/self/status"
	out, code := launch(t, "keep-privs", caps, "--", "sh", "-c", status)
	for _, want := range []string{"NoNewPrivs:\t0", "CapBnd:\t0000000000000021", "CapPrm:\t0000000000000021", "CapEff:\t0000000000000021", "CapAmb:\t0000000000000000"} {
		// sh runs as root: its execve gives it the bounding set (KILL and CHOWN).
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, missing %q in:\n%s", code, want, out)
		}
	}
	// Still confined by Landlock.
	if out, _ := launch(t, "keep-privs", caps, "--", "sh", "-c", "touch /yoroi-launcher-test 2>/dev/null; echo $?"); out != "1\n" {
		t.Errorf("write to the root: %q", out)
	}
	// Without keep-privs: no_new_privs as always.
	if out, _ := launch(t, "--", "sh", "-c", status); !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("default: %s", out)
	}
	for _, args := range [][]string{{"keep-privs", "--", "true"}, {caps, "--", "true"}, {"keep-privs", "caps=1,2", "--", "true"}} {
		if out, code := launch(t, args...); code != 126 || !strings.Contains(out, "yoroi landlock:") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}
