package launcher_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
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
		{"announce without a monitor", []string{"announce", "--", "true"}, 126, "yoroi landlock: announce goes with notify-fd=\n"},
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

// The launcher (C) and the runtime's early check (launcher.LookPath, Go) find the
// workload alike: one table, run by both on the same files.
func TestLookPathSameOnBothSides(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"found $0\"\n"
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"a/both", 0o755}, {"b/both", 0o755}, {"a/plain", 0o644}, {"b/plain", 0o755},
		{"b/dir/x", 0o755}, {"b/onlyb", 0o755}, {"rel/prog", 0o755}, {"cwdprog", 0o755},
	} {
		p := dir + "/" + f.path
		if err := os.MkdirAll(p[:strings.LastIndex(p, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(script), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(dir+"/a/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir+"/b/dir/x", dir+"/b/dir-link"); err != nil {
		t.Fatal(err)
	}
	a, b := dir+"/a", dir+"/b"
	for _, tc := range []struct {
		name, file string
		env        []string
		want       string // the path found, or the failure's exit code and message
	}{
		{"first entry wins", "both", []string{"PATH=" + a + ":" + b}, a + "/both"},
		{"not executable: skipped", "plain", []string{"PATH=" + a + ":" + b}, b + "/plain"},
		{"a directory: skipped", "dir", []string{"PATH=" + a + ":" + b}, "127 exec: \"dir\": executable file not found in $PATH"},
		{"a symlink to an executable", "dir-link", []string{"PATH=" + b}, b + "/dir-link"},
		{"the last PATH counts", "onlyb", []string{"PATH=" + b, "PATH=" + a}, "127 exec: \"onlyb\": executable file not found in $PATH"},
		{"no PATH: no entries", "onlyb", nil, "127 exec: \"onlyb\": executable file not found in $PATH"},
		{"an empty PATH: no entries", "cwdprog", []string{"PATH="}, "127 exec: \"cwdprog\": executable file not found in $PATH"},
		{"an empty entry is the working directory", "cwdprog", []string{"PATH=:" + b}, "126 exec: \"cwdprog\": cannot run executable found relative to current directory"},
		{"a relative entry", "prog", []string{"PATH=rel"}, "126 exec: \"prog\": cannot run executable found relative to current directory"},
		{"a name with a slash is used as it is", "./cwdprog", []string{"PATH=" + a}, "./cwdprog"},
		{"not found", "none", []string{"PATH=" + a + ":" + b}, "127 exec: \"none\": executable file not found in $PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Go: what the runtime checks before the container starts.
			got, err := launcher.LookPath(tc.file, tc.env, func(p string) launcher.Kind {
				if !strings.HasPrefix(p, "/") {
					p = dir + "/" + p
				}
				return launcher.KindOf(os.Stat(p))
			})
			if ee, ok := err.(*launcher.ExecError); ok {
				got = fmt.Sprintf("%d %s", ee.Code, ee.Msg)
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Go: %q, want %q", got, tc.want)
			}
			// C: what the launcher does in the container.
			out, code := launchIn(t, dir, tc.env, "exec-writable", "--", tc.file)
			if code == 0 {
				out = strings.TrimPrefix(strings.TrimSpace(out), "found ")
			} else {
				out = fmt.Sprintf("%d %s", code, strings.TrimPrefix(strings.TrimSpace(out), "yoroi landlock: "))
			}
			if out != tc.want {
				t.Errorf("C: %q, want %q", out, tc.want)
			}
		})
	}
}

// launchIn runs the launcher in dir with env.
func launchIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION); e != 0 {
		t.Skipf("the kernel has no Landlock (%v)", e)
	}
	cmd := exec.Command(os.Args[0], append([]string{launcher.Arg}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{}, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// The argv layout is the policy's (hardening.WrapLandlock): the launcher accepts every
// form it writes, and the workload's argv reaches it unchanged after "--".
// An exec allow-list that does not name the program: it cannot run (exit 126, runc's
// words for a program that cannot be executed); a read allow-list that does not name a
// file: it cannot be read.
func TestLauncherAllowLists(t *testing.T) {
	argv := hardening.WrapLandlock([]string{"sh", "-c", "true"}, hardening.LandlockSettings{MinABI: 1, ExecAllow: []string{"/nonexistent"}})
	if out, code := launch(t, argv[2:]...); code != 126 || !strings.Contains(out, "permission denied") {
		t.Errorf("a program off the exec allow-list: exit %d, %q", code, out)
	}
	argv = hardening.WrapLandlock([]string{"sh", "-c", "cat /etc/hostname >/dev/null 2>&1 && echo read || echo denied; ls / >/dev/null && echo listed"},
		hardening.LandlockSettings{MinABI: 1, ReadAllow: []string{"/usr"}})
	if out, code := launch(t, argv[2:]...); code != 0 || out != "denied\nlisted\n" {
		t.Errorf("a file off the read allow-list: exit %d, %q", code, out)
	}
}

func TestLauncherAcceptsEveryWrap(t *testing.T) {
	kill := uint64(1) << unix.CAP_KILL
	for _, s := range []hardening.LandlockSettings{
		{MinABI: 1},
		{MinABI: 1, ExecWritable: true, RootWritable: true, MakeDevices: true},
		{MinABI: 1, ImageVolumes: []string{"/mnt/image volume", "/not/a/mount"}},
		{MinABI: 1, KeepPrivileges: true, Capabilities: hardening.LauncherCaps{Bounding: kill, Permitted: kill, Effective: kill}},
		// On the host: sh, its loader and libraries are beneath /usr (/bin and /lib64 are
		// symlinks into it, which no rule follows; the kernel resolves them).
		{MinABI: 1, ExecAllow: []string{"/usr"}, ReadAllow: []string{"/usr", "/etc"}, WriteAllow: []string{"/dev/null"}},
	} {
		if s.KeepPrivileges && os.Geteuid() != 0 {
			continue // the runtime hands such a launcher CAP_SYS_ADMIN, which the test has as root only
		}
		argv := hardening.WrapLandlock([]string{"sh", "-c", "echo \"$@\"", "sh", "--", "x y"}, s)
		if argv[0] != hardening.LandlockExe || argv[1] != launcher.Arg {
			t.Fatalf("wrap %v", argv)
		}
		out, code := launch(t, argv[2:]...)
		if code != 0 || out != "-- x y\n" {
			t.Errorf("%+v: %v: exit %d, %q", s, argv, code, out)
		}
	}
}

// The workload gets its argv byte for byte, empty and spaced arguments included, however
// the launcher's constructor got its own (glibc passes main's arguments to constructors;
// under musl it reads /proc/self/cmdline).
func TestLauncherKeepsArgv(t *testing.T) {
	want := []string{"sh", "-c", `printf '[%s]' "$@"`, "sh", "", "a b", "\tc\n", ""}
	out, code := launch(t, append([]string{"abi=1", "--"}, want...)...)
	if code != 0 || out != "[][a b][\tc\n][]" {
		t.Fatalf("exit %d, %q", code, out)
	}
}

// A monitor that finds the listener by a look of its own acknowledges and closes the
// connection, possibly before the launcher announces its filter there: the announcement
// must not kill the launcher (SIGPIPE). The test is that monitor, and its filter notifies
// the launcher's writes and sends, so that the announcement comes after the close.
func TestLauncherAnnouncesToAGoneMonitor(t *testing.T) {
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION); e != 0 {
		t.Skipf("the kernel has no Landlock (%v)", e)
	}
	notifyWrites := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_WRITE, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_SENDTO, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		bpf.RetConstant{Val: unix.SECCOMP_RET_USER_NOTIF},
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := os.NewFile(uintptr(pair[0]), "launcher-end")
	cmd := exec.Command(os.Args[0], launcher.Arg, filterArg(t, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, notifyWrites, 0), "notify-fd=3", "announce", "--", "true")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.ExtraFiles = []*os.File{conn}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	monitorEnd := pair[1]
	// The offer: the listener's number, and a pidfd of the launcher.
	buf, oob := make([]byte, 4), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(monitorEnd, buf, oob, 0)
	if err != nil || n != 4 {
		t.Fatalf("offer: %d bytes, %v", n, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("offer's descriptor: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("offer's descriptor: %v", err)
	}
	pidfd, number := fds[0], int(binary.NativeEndian.Uint32(buf))
	defer unix.Close(pidfd)
	deadline := time.Now().Add(time.Minute)
	listener := -1
	for listener < 0 && time.Now().Before(deadline) {
		if fd, err := unix.PidfdGetfd(pidfd, number, 0); err == nil {
			if target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); target == "anon_inode:seccomp notify" {
				listener = fd
				break
			}
			unix.Close(fd)
		}
		time.Sleep(time.Millisecond)
	}
	if listener < 0 {
		t.Fatal("no seccomp listener at the offered number")
	}
	// Acknowledge and go, before the announcement (a notified write or send) is let
	// through.
	if _, err := unix.Write(monitorEnd, []byte{1}); err != nil {
		t.Fatal(err)
	}
	unix.Close(monitorEnd)
	l, err := monitor.NewListener(listener)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Let every notified call through until no process is left under the filter.
	answered := 0
	for {
		req, err := l.Next(time.Minute)
		if err != nil {
			break
		}
		if req != nil && monitor.Answer(listener, req.ID, true, 0) {
			answered++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("launcher: %v (SIGPIPE: the announcement to a closed connection killed it)", err)
	}
	if answered == 0 {
		t.Fatal("the launcher announced nothing under its filter")
	}
}
