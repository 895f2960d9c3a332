package runtime

import (
	"os"
	"slices"
	"testing"

	"github.com/opencontainers/cgroups"
)

// The warm-up's move must be a move into the cgroup the process is already in: the
// directory it writes to lists the process, and every hierarchy's cgroup is the same
// after it.
func TestMoveIntoOwnCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("moving a process between cgroups needs root (CI runs the unit tests as root)")
	}
	dir, err := ownCgroupDir()
	if err != nil {
		t.Fatal(err)
	}
	pids, err := cgroups.GetPids(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Fatalf("%s does not list this process (%d): %v", dir, os.Getpid(), pids)
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if err := moveIntoOwnCgroup(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatalf("the move changed this process's cgroups:\n%s\nto\n%s", before, after)
	}
}
