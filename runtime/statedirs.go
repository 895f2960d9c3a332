package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// stateDirRegistry names every host state directory ([runtime] state_dir) yoroi has used
// since boot, one symlink each, at a place no setting moves. An administrator may change
// state_dir while containers run: new ranges are still drawn clear of every range in the
// other directories, and a delete finds a container's records in whichever directory
// held them when it was created.
const stateDirRegistry = hardening.DefaultStateDir + "/state-dirs"

// registryLockName is the registry's lock: every change to any directory's id table is
// made under it, so a range drawn in one directory is never drawn in another meanwhile.
const registryLockName = ".lock"

// registryEntry is the name of dir's symlink in the registry.
func registryEntry(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:8])
}

// lockRegistry takes the registry's lock and registers dir. The returned function
// releases the lock.
func lockRegistry(registry, dir string) (func(), error) {
	if registry == "" {
		return nil, errors.New("internal error: no registry of host state directories")
	}
	// The registry's parents may be the state root and the default host state directory,
	// which the containers' roots walk through.
	if err := os.MkdirAll(filepath.Dir(registry), 0o711); err != nil {
		return nil, err
	}
	if err := os.Mkdir(registry, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(registry, registryLockName), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		return nil, err
	}
	entry := filepath.Join(registry, registryEntry(dir))
	if target, err := os.Readlink(entry); err != nil || target != dir {
		// Replaced by rename: a reader never sees the entry missing or half made.
		tmp := entry + ".tmp"
		_ = os.Remove(tmp)
		err := os.Symlink(dir, tmp)
		if err == nil {
			err = os.Rename(tmp, entry)
		}
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("register host state directory %s: %w", dir, err)
		}
	}
	return func() { lock.Close() }, nil
}

// registeredStateDirs returns the registered host state directories other than dir that
// still exist. Under the registry's lock it also drops the entries of directories that
// are gone (a test's, or one an administrator removed).
func registeredStateDirs(registry, dir string, locked bool) ([]string, error) {
	entries, err := os.ReadDir(registry)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Directories are told apart by identity, not name: a setting spelled another way
	// ("/run/x/", or through a symlink) names the same directory, whose lock the caller
	// may already hold.
	var seen []os.FileInfo
	if st, err := os.Stat(dir); err == nil {
		seen = append(seen, st)
	}
	var out []string
	for _, e := range entries {
		if e.Type() != os.ModeSymlink || filepath.Ext(e.Name()) == ".tmp" {
			continue
		}
		entry := filepath.Join(registry, e.Name())
		target, err := os.Readlink(entry)
		if err != nil {
			continue
		}
		st, err := os.Stat(target)
		if errors.Is(err, os.ErrNotExist) {
			if locked {
				_ = os.Remove(entry)
			}
			continue
		}
		if err != nil || slices.ContainsFunc(seen, func(s os.FileInfo) bool { return os.SameFile(s, st) }) {
			continue
		}
		seen = append(seen, st)
		out = append(out, target)
	}
	return out, nil
}

// hostStateDirs returns the configured host state directory, then every other registered
// one: a container's staging and id range are in the one configured when it was created.
func (r *Runtime) hostStateDirs() []string {
	own := r.hostStateDir()
	others, err := registeredStateDirs(r.registry, own, false)
	if err != nil {
		return []string{own}
	}
	return append([]string{own}, others...)
}
