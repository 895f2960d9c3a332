package launcher_test

import (
	"encoding/binary"
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

func launch(t *testing.T, extra []*os.File, args ...string) (string, int) {
	t.Helper()
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION); e != 0 {
		t.Skipf("the kernel has no Landlock (%v)", e)
	}
	cmd := exec.Command(os.Args[0], append([]string{launcher.Arg}, args...)...)
	cmd.ExtraFiles = extra
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
		{"not a seccomp fd", []string{"seccomp=99", "--", "true"}, 126, "seccomp filter fd 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := launch(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, output %q; want exit %d with %q", code, out, tc.code, tc.out)
			}
		})
	}
}

// filterFile writes a seccomp program in the memfd format the launcher reads: flags,
// length, then the instructions.
func filterFile(t *testing.T, flags uint32, prog []bpf.Instruction, trim int) *os.File {
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
	f, err := os.CreateTemp(t.TempDir(), "filter")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(buf[:len(buf)-trim]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestLauncherInstallsSeccomp(t *testing.T) {
	// uname(2) fails with EPERM, everything else is allowed.
	denyUname := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_UNAME, SkipFalse: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	}
	out, code := launch(t, nil, "--", "uname", "-s")
	if code != 0 || out != "Linux\n" {
		t.Fatalf("without a filter: exit %d, %q", code, out)
	}
	out, code = launch(t, []*os.File{filterFile(t, 0, denyUname, 0)}, "seccomp=3", "--", "sh", "-c", "grep Seccomp: /proc/self/status; uname -s")
	if code == 0 || !strings.Contains(out, "Seccomp:\t2") || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("with the filter: exit %d, %q", code, out)
	}
	// The filter's fd does not reach the workload.
	out, code = launch(t, []*os.File{filterFile(t, 0, denyUname, 0)}, "seccomp=3", "--", "sh", "-c", "test -e /proc/self/fd/3; echo $?")
	if code != 0 || out != "1\n" {
		t.Fatalf("fd 3 in the workload: exit %d, %q", code, out)
	}
	// A truncated program is refused, never half-installed.
	out, code = launch(t, []*os.File{filterFile(t, 0, denyUname, 3)}, "seccomp=3", "--", "true")
	if code != 126 || !strings.Contains(out, "yoroi landlock: seccomp filter fd 3") {
		t.Fatalf("truncated filter: exit %d, %q", code, out)
	}
	// Flags the kernel does not know make the install fail, not silently skip.
	out, code = launch(t, []*os.File{filterFile(t, 1<<30, denyUname, 0)}, "seccomp=3", "--", "true")
	if code != 126 || !strings.Contains(out, "yoroi landlock: seccomp:") {
		t.Fatalf("bad flags: exit %d, %q", code, out)
	}
}
