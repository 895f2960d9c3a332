package cgroupwarm

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"yoroi", "run", "-b", "b", "id"}, "run"},
		{[]string{"yoroi", "--root", "/r", "--debug", "--log-format=json", "create", "id"}, "create"},
		{[]string{"yoroi", "-root", "/r", "exec", "id", "true"}, "exec"},
		{[]string{"yoroi", "--config", "run", "state", "id"}, "state"}, // "run" is --config's value
		{[]string{"yoroi", "--", "run"}, ""},
		{[]string{"yoroi", "--version"}, ""},
		{[]string{"yoroi"}, ""},
		{nil, ""},
	} {
		if got := Command(tc.args); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
}

// probeEnv makes the test binary, re-executed with a yoroi-like command line, report what
// its constructor did instead of running tests.
const probeEnv = "YOROI_CGROUPWARM_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "1" {
		fmt.Println(probe())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// probe: whether the constructor started the move, and how it went.
func probe() string {
	if !Started() {
		return "not started"
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if done, err := Result(); done {
			cgroups, _ := os.ReadFile("/proc/self/cgroup")
			return fmt.Sprintf("moved: %v\n%s", err, cgroups)
		}
	}
	return "not done"
}

// The constructor moves a `run` or `create` (and an `exec` on cgroup v1) into its own
// cgroup, which changes nothing, and nothing else; as root the move succeeds.
func TestConstructorWarmsUp(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ownCgroup := func() string {
		data, err := os.ReadFile("/proc/self/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	before := ownCgroup()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-b", "b", "id"}, "moved"},
		{[]string{"--root", "/r", "create", "id"}, "moved"},
		{[]string{"state", "id"}, "not started"},
		{[]string{"init"}, "not started"},
		{[]string{"--root", "run"}, "not started"},
	} {
		cmd := exec.Command(self, tc.args...)
		cmd.Env = append(os.Environ(), probeEnv+"=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		got, cgroups, _ := strings.Cut(string(out), "\n")
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q: %s, want %s", tc.args, got, tc.want)
		}
		if tc.want == "moved" && os.Geteuid() == 0 && got != "moved: <nil>" {
			t.Errorf("%q: %s, want a move that succeeded", tc.args, got)
		}
		if tc.want == "moved" && strings.TrimSpace(cgroups) != strings.TrimSpace(before) {
			t.Errorf("%q: the move changed the process' cgroups:\n%s\nto\n%s", tc.args, before, cgroups)
		}
	}
	if after := ownCgroup(); after != before {
		t.Errorf("the test's cgroups changed:\n%s\nthen\n%s", before, after)
	}
}
