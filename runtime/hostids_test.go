package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestIDRangesAllocateReleaseReuse(t *testing.T) {
	live := map[string]bool{}
	a := &hostIDs{dir: t.TempDir(), registry: t.TempDir(), root: "/run/test", exists: func(_, id string) bool { return live[id] }}
	r1, _, err := a.allocate("a", 100000, 299999, 65536)
	if err != nil || r1.Start != 100000 {
		t.Fatalf("%+v %v", r1, err)
	}
	live["a"] = true
	r2, _, err := a.allocate("b", 100000, 299999, 65536)
	if err != nil || r2.Start != 165536 {
		t.Fatalf("%+v %v", r2, err)
	}
	live["b"] = true
	if _, _, err := a.allocate("c", 100000, 231071, 65536); err == nil {
		t.Fatal("pool exhaustion not reported")
	}
	if _, _, err := a.allocate("a", 100000, 299999, 65536); err == nil {
		t.Fatal("second range for an existing container")
	}
	if err := a.release("a"); err != nil {
		t.Fatal(err)
	}
	delete(live, "a")
	r3, _, err := a.allocate("c", 100000, 299999, 65536)
	// Another state root (another engine) gets its own ranges, never the same ones.
	other := &hostIDs{dir: a.dir, registry: a.registry, root: "/run/other", exists: a.exists}
	if r4, _, err := other.allocate("a", 100000, 299999, 65536); err != nil || r4.Start == r3.Start || r4.Start == r2.Start {
		t.Fatalf("same id in another root: %+v %v", r4, err)
	}
	if err != nil || r3.Start != 100000 {
		t.Fatalf("freed range not reused: %+v %v", r3, err)
	}
}

func TestIDRangesReclaimDeadCreates(t *testing.T) {
	a := &hostIDs{dir: t.TempDir(), registry: t.TempDir(), root: "/run/test", exists: func(string, string) bool { return false }}
	// A reservation by a process that no longer exists, for a container that never got
	// its state (a create killed half-way), is reclaimed by the next allocation.
	err := a.locked(func(table map[string]allocation) (bool, error) {
		table["k-dead"] = allocation{Start: 100000, Size: 65536, Pid: 1 << 30, StartTime: 42, Root: "/run/test", ID: "dead"}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, reclaimed, err := a.allocate("new", 100000, 299999, 65536)
	if err != nil || r.Start != 100000 || len(reclaimed) != 1 || reclaimed[0] != filepath.Join(a.dir, "mnt", "k-dead") {
		t.Fatalf("%+v %v %v", r, reclaimed, err)
	}
}

func TestAllocateMCSUnique(t *testing.T) {
	live := map[string]bool{}
	a := &hostIDs{dir: t.TempDir(), registry: t.TempDir(), root: "/run/test", exists: func(_, id string) bool { return live[id] }}
	seen := map[string]bool{}
	for _, id := range []string{"a", "b", "c", "d"} {
		mcs, err := a.allocateMCS(id)
		if err != nil || seen[mcs] {
			t.Fatalf("%s: %q %v (seen %v)", id, mcs, err, seen)
		}
		seen[mcs] = true
		live[id] = true
	}
}

// mcsPair enumerates every pair once, and a deleted container's pair is not handed
// straight to the next container.
func TestMCSPairs(t *testing.T) {
	total := mcsCategories * (mcsCategories - 1) / 2
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "c0,c1"}, {mcsCategories - 2, fmt.Sprintf("c0,c%d", mcsCategories-1)}, {mcsCategories - 1, "c1,c2"}, {total - 1, fmt.Sprintf("c%d,c%d", mcsCategories-2, mcsCategories-1)}} {
		if got := mcsPair(tc.n); got != tc.want {
			t.Errorf("mcsPair(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := mcsPair(total); got != "" {
		t.Errorf("mcsPair(total) = %q", got)
	}
	live := map[string]bool{}
	a := &hostIDs{dir: t.TempDir(), registry: t.TempDir(), root: "/run/test", exists: func(_, id string) bool { return live[id] }}
	first, err := a.allocateMCS("a")
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.allocateMCS("b") // "a" was deleted: its pair is free again
	if err != nil || second == first {
		t.Errorf("the next container got the deleted one's pair %q (%v)", second, err)
	}
}

// An administrator changes runtime.state_dir while containers run: the new directory's
// ranges and categories are drawn clear of the old one's live containers, a delete
// releases a container's reservation from the directory that holds it, and a directory
// that is gone drops out of the registry.
func TestIDRangesAcrossStateDirs(t *testing.T) {
	live := map[string]bool{}
	exists := func(_, id string) bool { return live[id] }
	registry, parent := t.TempDir(), t.TempDir()
	oldDir, newDir := filepath.Join(parent, "old"), filepath.Join(parent, "new")
	before := &hostIDs{dir: oldDir, registry: registry, root: "/run/test", exists: exists}
	after := &hostIDs{dir: newDir, registry: registry, root: "/run/test", exists: exists}
	r1, _, err := before.allocate("a", 100000, 299999, 65536)
	if err != nil {
		t.Fatal(err)
	}
	live["a"] = true
	mcs1, err := before.allocateMCS("a")
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := after.allocate("b", 100000, 299999, 65536)
	if err != nil || r2.Start < r1.Start+r1.Size && r1.Start < r2.Start+r2.Size {
		t.Fatalf("range %+v overlaps the old directory's %+v (%v)", r2, r1, err)
	}
	live["b"] = true
	if _, _, err := after.allocate("a", 100000, 299999, 65536); err == nil {
		t.Error("a second reservation for a container the old directory holds")
	}
	err = after.locked(func(table map[string]allocation) (bool, error) {
		others, err := after.others()
		if !after.usedMCS(containerKey("/run/test", "c"), table, others)[mcs1] {
			t.Errorf("the old directory's category pair %s is free for a new container (%v)", mcs1, err)
		}
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Deleted with the new setting: the old directory's reservation goes.
	if al, err := after.lookup("a"); err != nil || al == nil || al.Start != r1.Start {
		t.Fatalf("lookup in the old directory: %+v %v", al, err)
	}
	if err := after.release("a"); err != nil {
		t.Fatal(err)
	}
	delete(live, "a")
	if al, err := before.lookup("a"); err != nil || al != nil {
		t.Errorf("old directory still holds %+v (%v)", al, err)
	}
	// The same directory by another name (a symlink, a trailing slash) is the same
	// directory: its lock is not taken twice, its ranges are not counted twice.
	alias := filepath.Join(parent, "alias")
	if err := os.Symlink(newDir, alias); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{alias, newDir + "/"} {
		aliased := &hostIDs{dir: name, registry: registry, root: "/run/test", exists: exists}
		done := make(chan error, 1)
		go func() {
			_, _, err := aliased.allocate("e", 100000, 299999, 65536)
			if err == nil {
				err = aliased.release("e")
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the allocation under another name of the directory hangs", name)
		}
	}
	// A create killed half-way under the old setting left a reservation there: the next
	// allocation reclaims it, and names the staging directory it may have left.
	err = before.locked(func(table map[string]allocation) (bool, error) {
		table["k-dead"] = allocation{Start: 200000, Size: 65536, Pid: 1 << 30, StartTime: 42, Root: "/run/test", ID: "dead"}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, reclaimed, err := after.allocate("f", 100000, 299999, 65536)
	if err != nil || !slices.Contains(reclaimed, filepath.Join(oldDir, "mnt", "k-dead")) {
		t.Errorf("the old directory's dead reservation: reclaimed %v (%v)", reclaimed, err)
	}
	if table, err := readTable(oldDir); err != nil || len(table) != 0 {
		t.Errorf("old directory's table after the reclaim: %+v (%v)", table, err)
	}
	if err := os.RemoveAll(oldDir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := after.allocate("d", 100000, 299999, 65536); err != nil {
		t.Fatal(err)
	}
	if dirs, err := registeredStateDirs(registry, newDir, false); err != nil || len(dirs) != 0 {
		t.Errorf("registry after the old directory is gone: %v %v", dirs, err)
	}
}
