package runtime

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// A container whose process runs under the Landlock launcher gets its seccomp filter from
// the launcher rather than from libcontainer's init: libcontainer compiles the profile
// with libseccomp at every start (and again for every exec), which is most of the cost
// of a filter; yoroi compiles each profile once, keeps the program under the state root,
// and hands it to the launcher as an argument (hexadecimal: no descriptor is held open in
// the container's init until start, where runc holds none). The launcher installs it after
// landlock_restrict_self, right before execve, so the workload is filtered from its first
// instruction as before.

// seccompFilterLabel is the libcontainer label naming the container's compiled filter, so
// that exec hands the same one to its process.
const seccompFilterLabel = "org.yoroi.seccomp.filter"

func (r *Runtime) filterCacheDir() string { return filepath.Join(r.root, yoroiDir, "seccomp") }

// moveSeccompToLauncher takes the seccomp filter out of config and returns its program
// for the launcher, when args run under the launcher, the filter can be installed by it
// and no startContainer hook must run under it first; otherwise config is left as it is
// and the program is nil. A label that
// names a filter is the runtime's to set: one from the spec's annotations is dropped.
func (r *Runtime) moveSeccompToLauncher(config *configs.Config, args []string) ([]byte, error) {
	config.Labels = slices.DeleteFunc(config.Labels, func(l string) bool {
		return strings.HasPrefix(l, seccompFilterLabel+"=")
	})
	// startContainer hooks run in the container before the launcher: libcontainer's
	// filter is in force for them, as with runc.
	hooksFirst := len(config.Hooks[configs.StartContainer]) > 0
	if !hardening.IsLandlockWrapped(args) || !launcherCanInstall(config.Seccomp) || hooksFirst {
		if config.Seccomp != nil && admitsI386(config.Seccomp) {
			// libcontainer's filter would let socketcall create any socket.
			return nil, errors.New("seccomp: a filter admitting x86 processes is installed by yoroi's launcher only (its socketcall guard); this process does not run under it")
		}
		return nil, nil
	}
	key, err := filterKey(config.Seccomp)
	if err != nil {
		return nil, err
	}
	prog, err := r.readFilter(key)
	if err != nil {
		// Not compiled yet (or damaged): compile it now.
		if prog, err = r.storeFilter(key, config.Seccomp); err != nil {
			return nil, err
		}
	}
	logFilterFlags(prog)
	config.Seccomp = nil
	config.Labels = append(config.Labels, seccompFilterLabel+"="+key)
	return prog, nil
}

// execFilter returns the filter of container c for a process it execs, nil if c's
// filter is libcontainer's.
func (r *Runtime) execFilter(c *libcontainer.Container, args []string) ([]byte, error) {
	key, ok := utils.SearchLabels(c.Config().Labels, seccompFilterLabel)
	if !ok {
		return nil, nil
	}
	if !hardening.IsLandlockWrapped(args) {
		// Never a process without the container's filter.
		return nil, errors.New("the container's seccomp filter is installed by the Landlock launcher, which this process would not run under")
	}
	prog, err := r.readFilter(key)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter of the container: %w", err)
	}
	logFilterFlags(prog)
	return prog, nil
}

// readFilter reads and checks the compiled filter named key.
func (r *Runtime) readFilter(key string) ([]byte, error) {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("bad seccomp filter name %q", key)
	}
	f, err := os.OpenFile(filepath.Join(r.filterCacheDir(), key+".bpf"), os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > launcher.FilterHeaderSize+8*launcher.MaxFilterInsns {
		return nil, fmt.Errorf("seccomp filter %s: not a filter", f.Name())
	}
	prog := make([]byte, st.Size)
	if _, err := f.ReadAt(prog, 0); err != nil {
		return nil, err
	}
	if err := launcher.CheckFilter(prog); err != nil {
		return nil, fmt.Errorf("seccomp filter %s: %w", f.Name(), err)
	}
	return prog, nil
}

// storeFilter compiles cfg and keeps it as key.
func (r *Runtime) storeFilter(key string, cfg *configs.Seccomp) ([]byte, error) {
	prog, err := compileFilter(cfg)
	if err != nil {
		return nil, err
	}
	if err := launcher.CheckFilter(prog); err != nil {
		return nil, fmt.Errorf("seccomp: compiled filter: %w", err)
	}
	return prog, r.writeFilter(key, prog)
}

// writeFilter keeps prog as key: written to a temporary file and renamed, so that a
// concurrent create reads either nothing or the whole program.
func (r *Runtime) writeFilter(key string, prog []byte) error {
	dir := r.filterCacheDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".compiling-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(prog); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, key+".bpf"))
}

// logFilterFlags logs the filter's flags at debug level in libcontainer's words (runc's
// seccomp tests read them): those libcontainer would set, without the new-listener flag
// of the monitor's filter.
func logFilterFlags(prog []byte) {
	logrus.Debugf("seccomp filter flags: %d", launcher.FilterFlags(prog)&^seccompFilterFlagNewListener)
}

// withLauncherFilter hands prog (header and program, as cached) to the launcher.
func withLauncherFilter(p *libcontainer.Process, prog []byte) {
	p.Args = slices.Insert(slices.Clone(p.Args), 2, "seccomp="+hex.EncodeToString(prog))
}
