package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// yoroi keeps state in four places:
//   - the state root (--root, r.root): libcontainer's, one directory per container, as
//     runc's; each engine has its own (Docker's, containerd's, yoroi's default);
//   - yoroiDir beneath it: yoroi's per-root state (pending creates, compiled seccomp
//     filters, recording sockets);
//   - the host state directory ([runtime] state_dir, r.hostStateDir()): what must be
//     unique across every state root — the host ids handed out (hostIDs) and the staged
//     id-mapped root filesystems (stagingRoot);
//   - the registry of host state directories (stateDirRegistry), at a fixed place: every
//     host state directory used since boot, so that changing the setting neither loses
//     a container's records nor hands out its ids again.

// yoroiDir holds yoroi's per-root state under the state root. Its name cannot be a
// container id (ids start with a letter, digit or _).
const yoroiDir = ".yoroi"

// allocation is one container's id range, with the process that reserved it so that a
// reservation of a create that died can be told from one in progress.
type allocation struct {
	Start uint32 `json:"start"`
	Size  uint32 `json:"size"`
	// Pid and StartTime identify the yoroi process that made the reservation.
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
	// MCS is the SELinux category pair reserved for the container, where SELinux enforces.
	MCS string `json:"mcs,omitempty"`
	// Root and ID name the container: ranges are unique across every state root (Docker's,
	// containerd's, yoroi's own).
	Root string `json:"root"`
	ID   string `json:"id"`
}

// hostIDs is the persistent allocator of the host ids containers get — a private range
// of uids and gids for the user namespace, and SELinux categories (MCS) — a JSON file in
// yoroi's host state directory, read and written under an exclusive flock. Entries are keyed
// by containerKey (state root and id).
type hostIDs struct {
	// dir is the configured host state directory: new reservations are made there.
	dir string
	// registry names every host state directory in use (stateDirRegistry): ranges and
	// categories are drawn clear of all of theirs, and released from whichever holds them.
	registry string
	root     string
	// exists reports whether a container still has its state directory.
	exists func(root, id string) bool
}

func (r *Runtime) hostIDs() *hostIDs {
	return &hostIDs{dir: r.hostStateDir(), registry: r.registry, root: r.root, exists: containerExists}
}

func containerExists(root, id string) bool {
	_, err := os.Lstat(filepath.Join(root, id))
	return err == nil
}

// containerKey names a container host-wide: a hash of its state root and its id.
func containerKey(root, id string) string {
	sum := sha256.Sum256([]byte(root))
	return hex.EncodeToString(sum[:4]) + "-" + id
}

// locked runs f with the allocation table of the configured directory, saving it when f
// changed it, under the registry's lock: no other directory's table changes meanwhile.
func (a *hostIDs) locked(f func(table map[string]allocation) (bool, error)) error {
	unlock, err := lockRegistry(a.registry, a.dir)
	if err != nil {
		return err
	}
	defer unlock()
	return editTable(a.dir, f)
}

// others returns the allocation tables of the other registered host state directories
// (those of containers created before an administrator changed state_dir). Called under
// the registry's lock.
func (a *hostIDs) others() (map[string]map[string]allocation, error) {
	dirs, err := registeredStateDirs(a.registry, a.dir, true)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]allocation{}
	for _, d := range dirs {
		table, err := readTable(d)
		if err != nil {
			return nil, err
		}
		if len(table) > 0 {
			out[d] = table
		}
	}
	return out, nil
}

// held reports whether an allocation in another directory's table is still in use: its
// container exists or its create is in progress.
func (a *hostIDs) held(al allocation) bool { return a.exists(al.Root, al.ID) || al.alive() }

// readTable reads dir's allocation table (empty if it has none).
func readTable(dir string) (map[string]allocation, error) {
	path := filepath.Join(dir, "userns.json")
	table := map[string]allocation{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(data, &table); err != nil {
			return nil, fmt.Errorf("id range table %s: %w", path, err)
		}
	}
	return table, nil
}

// editTable runs f with dir's allocation table under dir's own lock (which a yoroi from
// before the registry takes alone), saving it when f changed it.
func editTable(dir string, f func(table map[string]allocation) (bool, error)) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "userns.lock"), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	table, err := readTable(dir)
	if err != nil {
		return err
	}
	changed, err := f(table)
	if err != nil || !changed {
		return err
	}
	data, err := json.Marshal(table)
	if err != nil {
		return err
	}
	// Replace atomically: a crash never leaves a truncated table.
	path := filepath.Join(dir, "userns.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// allocate reserves a free range of size ids in [lo, hi] for id. Reservations of
// containers that no longer exist and whose reserving process is gone (a create killed
// half-way) are reclaimed first, in every registered directory: it returns the staging
// directories (stagingDirIn) those containers may have left.
func (a *hostIDs) allocate(id string, lo, hi, size uint32) (*hardening.IDRange, []string, error) {
	var got *hardening.IDRange
	var reclaimed []string
	key := containerKey(a.root, id)
	err := a.locked(func(table map[string]allocation) (bool, error) {
		others, err := a.others()
		if err != nil {
			return false, err
		}
		// The other directories' reservations still in use, each looked at once.
		var elsewhere []allocation
		dup := false
		if al, ok := table[key]; ok && a.held(al) {
			dup = true
		}
		for _, t := range others {
			for k, al := range t {
				if a.held(al) {
					dup = dup || k == key
					elsewhere = append(elsewhere, al)
				}
			}
		}
		if dup {
			return false, fmt.Errorf("container %q already exists", id)
		}
		for _, key := range reconcile(table, a.exists) {
			reclaimed = append(reclaimed, stagingDirIn(a.dir, key))
		}
		for d := range others {
			err := editTable(d, func(t map[string]allocation) (bool, error) {
				keys := reconcile(t, a.exists)
				for _, key := range keys {
					reclaimed = append(reclaimed, stagingDirIn(d, key))
				}
				return len(keys) > 0, nil
			})
			if err != nil {
				return false, err
			}
		}
		used := make([]allocation, 0, len(table))
		for _, al := range table {
			if al.Size > 0 {
				used = append(used, al)
			}
		}
		for _, al := range elsewhere {
			if al.Size > 0 {
				used = append(used, al)
			}
		}
		sort.Slice(used, func(i, j int) bool { return used[i].Start < used[j].Start })
		next := uint64(lo)
		for _, u := range used {
			if next+uint64(size) <= uint64(u.Start) {
				break
			}
			if end := uint64(u.Start) + uint64(u.Size); end > next {
				next = end
			}
		}
		if next+uint64(size)-1 > uint64(hi) {
			return false, fmt.Errorf("userns.pool exhausted: no free range of %d ids", size)
		}
		pid := os.Getpid()
		table[key] = allocation{Start: uint32(next), Size: size, Pid: pid, StartTime: processStartTime(pid), Root: a.root, ID: id}
		got = &hardening.IDRange{Start: uint32(next), Size: size}
		return true, nil
	})
	return got, reclaimed, err
}

// heldElsewhere counts, by directory, the reservations still in use in the other
// registered host state directories: containers created under an earlier state_dir.
func (a *hostIDs) heldElsewhere() (map[string]int, error) {
	out := map[string]int{}
	err := a.locked(func(map[string]allocation) (bool, error) {
		others, err := a.others()
		for d, t := range others {
			for _, al := range t {
				if a.held(al) {
					out[d]++
				}
			}
		}
		return false, err
	})
	return out, err
}

// release frees id's range and categories, in whichever host state directory holds them.
func (a *hostIDs) release(id string) error {
	key := containerKey(a.root, id)
	drop := func(table map[string]allocation) (bool, error) {
		if _, ok := table[key]; !ok {
			return false, nil
		}
		delete(table, key)
		return true, nil
	}
	return a.locked(func(table map[string]allocation) (bool, error) {
		others, err := a.others()
		if err != nil {
			return false, err
		}
		for d, t := range others {
			if _, ok := t[key]; ok {
				if err := editTable(d, drop); err != nil {
					return false, err
				}
			}
		}
		return drop(table)
	})
}

// lookup returns id's reservation, in whichever host state directory holds it.
func (a *hostIDs) lookup(id string) (*allocation, error) {
	var out *allocation
	key := containerKey(a.root, id)
	err := a.locked(func(table map[string]allocation) (bool, error) {
		if al, ok := table[key]; ok {
			out = &al
			return false, nil
		}
		others, err := a.others()
		for _, t := range others {
			if al, ok := t[key]; ok {
				out = &al
			}
		}
		return false, err
	})
	return out, err
}

// reconcile drops allocations whose container does not exist and whose reserving process
// is dead (a create killed before libcontainer wrote its state). It returns their keys.
func reconcile(table map[string]allocation, exists func(root, id string) bool) (reclaimed []string) {
	for key, al := range table {
		if exists(al.Root, al.ID) {
			continue
		}
		if al.alive() {
			continue // a create still in progress
		}
		delete(table, key)
		reclaimed = append(reclaimed, key)
	}
	return reclaimed
}

// processStartTime is processStart as a number (0 if the process does not exist).
func processStartTime(pid int) uint64 {
	start, err := processStart(pid)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(start, 10, 64)
	return v
}

// alive reports whether the process that made the reservation still runs.
func (al allocation) alive() bool {
	return al.Pid > 0 && al.StartTime != 0 && processStartTime(al.Pid) == al.StartTime
}

// mcsCategories is the number of SELinux categories pairs are drawn from (c0-c1023).
const mcsCategories = 1024

// allocateMCS reserves a category pair no other existing container holds.
func (a *hostIDs) allocateMCS(id string) (string, error) {
	var got string
	key := containerKey(a.root, id)
	err := a.locked(func(table map[string]allocation) (bool, error) {
		reconcile(table, a.exists)
		others, err := a.others()
		if err != nil {
			return false, err
		}
		used := a.usedMCS(key, table, others)
		// From a random place among the pairs, as container-selinux picks them: a pair
		// freed by a deleted container is not the next one's, which could otherwise read
		// what the first left on a volume.
		total := mcsCategories * (mcsCategories - 1) / 2
		start := rand.IntN(total)
		for k := 0; k < total; k++ {
			if pair := mcsPair((start + k) % total); !used[pair] {
				got = pair
				break
			}
		}
		if got == "" {
			return false, errors.New("no free SELinux category pair")
		}
		al, ok := table[key]
		if !ok {
			pid := os.Getpid()
			al = allocation{Pid: pid, StartTime: processStartTime(pid), Root: a.root, ID: id}
		}
		al.MCS = got
		table[key] = al
		return true, nil
	})
	return got, err
}

// usedMCS returns the category pairs held by containers other than key's: every pair in
// the configured directory's table, and those of live containers in the others.
func (a *hostIDs) usedMCS(key string, table map[string]allocation, others map[string]map[string]allocation) map[string]bool {
	used := map[string]bool{}
	for other, al := range table {
		if other != key && al.MCS != "" {
			used[al.MCS] = true
		}
	}
	for _, t := range others {
		for other, al := range t {
			if other != key && al.MCS != "" && a.held(al) {
				used[al.MCS] = true
			}
		}
	}
	return used
}

// mcsPair is the n-th category pair "ci,cj" (i < j) in the order c0,c1 … c0,c1023, c1,c2 ….
func mcsPair(n int) string {
	for i := 0; i < mcsCategories-1; i++ {
		row := mcsCategories - 1 - i
		if n < row {
			return fmt.Sprintf("c%d,c%d", i, i+1+n)
		}
		n -= row
	}
	return ""
}
