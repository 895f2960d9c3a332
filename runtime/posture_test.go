package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
	"github.com/yoroi-runtime/yoroi/runtime/internal/proctest"
)

// The visible mount of a point is the top of its stack, whatever order mountinfo lists
// the stack in.
func TestReadMountOptions(t *testing.T) {
	info := `81 109 0:52 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs rw
109 108 0:52 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw
108 100 0:20 / /sys ro,nosuid - sysfs sysfs ro
100 1 8:1 / / ro,relatime - ext4 /dev/sda1 rw
120 100 0:21 / /with\040space rw,noexec - tmpfs tmpfs rw
`
	got, err := readMountOptions(tempFile(t, "mountinfo", info))
	if err != nil {
		t.Fatal(err)
	}
	for point, want := range map[string][]string{"/sys/fs/cgroup": {"ro", "nosuid"}, "/sys": {"ro", "nosuid"}, "/": {"ro", "relatime"}, "/with space": {"rw", "noexec"}} {
		if !slices.Equal(got[point], want) {
			t.Errorf("%s: %v, want %v", point, got[point], want)
		}
	}
}

func TestReadLimits(t *testing.T) {
	limits := `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 4096                 files     
`
	got, err := readLimits(tempFile(t, "limits", limits))
	if err != nil {
		t.Fatal(err)
	}
	if got["Max open files"] != (hardening.Rlimit{Soft: 1024, Hard: 4096}) || got["Max cpu time"].Soft != ^uint64(0) {
		t.Errorf("limits %v", got)
	}
}

// A mount hidden by a later mount on a point above it keeps its mountinfo line but is not
// visible: the scratch tmpfs once hid the volumes beneath it so.
func TestReadMountOptionsHidden(t *testing.T) {
	info := `100 1 8:1 / / ro - ext4 /dev/sda1 rw
110 100 0:30 / /tmp/vol ro,nosuid - ext4 /dev/sda2 rw
111 100 0:31 / /tmp rw,noexec - tmpfs tmpfs rw
112 111 0:32 / /tmp/ok ro - ext4 /dev/sda3 rw
113 100 0:33 / /run rw - tmpfs tmpfs rw
`
	got, err := readMountOptions(tempFile(t, "mountinfo", info))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["/tmp/vol"]; ok {
		t.Errorf("/tmp/vol, hidden by /tmp, reported visible: %v", got)
	}
	for _, p := range []string{"/", "/tmp", "/tmp/ok", "/run"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not visible: %v", p, got)
		}
	}
}

// The posture of this test process itself reads back consistently.
func TestObserveSelf(t *testing.T) {
	o, err := observe(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Namespaces) < 6 || len(o.Mounts) == 0 || o.Mounts["/"] == nil || len(o.FDs) < 3 || len(o.UIDMap) == 0 {
		t.Errorf("observed %+v", o)
	}
}

// tempFile writes content to a file named name in a temporary directory.
func tempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A configuration that mounts over a point above its own earlier mounts hides them (runc's
// mount-order test does): those are not expected visible; the others are, in order.
func TestPostureModelSpecOrder(t *testing.T) {
	r := &Runtime{root: t.TempDir()}
	config := &configs.Config{Mounts: []*configs.Mount{
		{Destination: "/mnt", Device: "bind", Source: "/a"},
		{Destination: "/mnt/x/y/z/x", Device: "bind", Source: "/b"},
		{Destination: "/mnt/x/y/z", Device: "bind", Source: "/c"},
		{Destination: "/final", Device: "bind", Source: "/d"},
		{Destination: "/proc/kcore", Device: "bind", Source: "/dev/null"},
	}}
	var got []string
	for _, m := range r.postureModel(config, "/nonexistent-root", false).Mounts {
		got = append(got, m.Path)
	}
	if want := []string{"/mnt", "/mnt/x/y/z", "/final"}; !slices.Equal(got, want) {
		t.Errorf("expected mounts %v, want %v", got, want)
	}
}

// A process still in libcontainer's init or in the launcher is told by its argv and its
// command name; a workload with the same argv is not.
func TestInLauncher(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "init")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	// A process's command name is the base name of the path it was executed by.
	for _, name := range []string{initComm, filepath.Base(hardening.LandlockExe)} {
		if err := os.Symlink(cat, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		args []string
		want bool
	}{
		{initComm, []string{"/usr/local/bin/yoroi", "init"}, true},
		{filepath.Base(hardening.LandlockExe), []string{hardening.LandlockExe, hardening.LandlockArg, fifo}, true},
		{"cat", []string{"/usr/local/bin/yoroi", "init"}, false},
		{"cat", []string{hardening.LandlockExe, hardening.LandlockArg, fifo}, false},
		{initComm, []string{"cat", "init", "init"}, false},
		{"cat", []string{"cat", filepath.Join(dir, "init")}, false},
	} {
		// cat blocks opening the fifo, whatever its argv[0]: a process with that argv.
		cmd := exec.Command("cat", tc.args[1:]...)
		cmd.Args = tc.args
		cmd.Path = cat
		if tc.path != "cat" {
			cmd.Path = filepath.Join(dir, tc.path)
		}
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Start returns while the execve is still setting up the new argv and name (the
		// transition inLauncher counts as not yet the workload): wait for both.
		var st procStatus
		for i := 0; i < 1000; i++ {
			data, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
			if st, err = readStatus(cmd.Process.Pid); err != nil {
				t.Fatal(err)
			}
			if len(data) > 0 && st.name == filepath.Base(cmd.Path) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		args, err := readArgs(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if got := inLauncher(args, st.name); got != tc.want {
			t.Errorf("%s %q (named %q): %v, want %v", tc.path, tc.args, st.name, got, tc.want)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// settledLook reads a process' argv and status together; a process that has exited and
// been reaped reads as an error, and no argv is "in an execve" for inLauncher.
func TestSettledLook(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	var st procStatus
	var args []string
	var err error
	// The kernel names the new program before it lays out its argv: wait for both.
	for i := 0; i < 1000 && (st.name != "sleep" || len(args) == 0); i++ {
		if st, args, err = settledLook(pid); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if st.name != "sleep" || !slices.Equal(args, []string{"sleep", "60"}) {
		t.Errorf("settledLook: %q %v, want sleep [sleep 60]", st.name, args)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, _, err := settledLook(pid); err == nil {
		t.Error("settledLook of a reaped process: no error")
	}
	if !inLauncher(nil, "sleep") {
		t.Error("inLauncher without an argv: false, want true (in an execve)")
	}
}

// TestSettledLookAcrossExecve: looks at a process while it executes the next program
// never pair the new argv with the old program's name (and so its credentials). Looking
// at the status and then at the argv, as the check did, paired them within the first
// seven execs in each of five runs here.
func TestSettledLookAcrossExecve(t *testing.T) {
	for round := 0; round < 60; round++ {
		cmd, stdin := proctest.StartThenExec(t, "sleep 60")
		pid := cmd.Process.Pid
		if _, err := stdin.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
		seen := 0
		for deadline := time.Now().Add(5 * time.Second); seen < 20 && time.Now().Before(deadline); {
			st, args, err := settledLook(pid)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(args, []string{"sleep", "60"}) {
				if st.name != "sleep" {
					t.Fatalf("round %d: argv %q with the name %q of the program before the execve", round, args, st.name)
				}
				seen++
			}
		}
		if seen == 0 {
			t.Fatalf("round %d: sh never executed sleep", round)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// The posture check looks often while what it waits for is quick and seldom once it is
// slow (the monitor's loops: TestLooks in package monitor).
func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		looks                 pace.Backoff
		waiting, waited, want time.Duration
	}{
		{postureLooks, 50 * time.Microsecond, 0, 100 * time.Microsecond},
		{postureLooks, time.Millisecond, 5 * time.Millisecond, 2 * time.Millisecond},
		{postureLooks, 2 * time.Millisecond, 19 * time.Millisecond, 2 * time.Millisecond},
		{postureLooks, 2 * time.Millisecond, 20 * time.Millisecond, 4 * time.Millisecond},
		{postureLooks, 32 * time.Millisecond, time.Second, 50 * time.Millisecond},
		{postureLooks, 50 * time.Millisecond, 10 * time.Second, 50 * time.Millisecond},
	} {
		if got := tc.looks.Next(tc.waiting, tc.waited); got != tc.want {
			t.Errorf("%+v.Next(%v, %v) = %v, want %v", tc.looks, tc.waiting, tc.waited, got, tc.want)
		}
	}
	// Over a slow start's full wait, the posture check's looks are few.
	looks, waited := 0, time.Duration(0)
	for wait := postureLooks.First; waited < postureWait; wait = postureLooks.Next(wait, waited) {
		waited += wait
		looks++
	}
	if looks > 650 {
		t.Errorf("%d looks over %v", looks, postureWait)
	}
}
