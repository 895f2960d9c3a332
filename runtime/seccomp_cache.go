package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// A container whose process runs under the Landlock launcher gets its seccomp filter from
// the launcher rather than from libcontainer's init: libcontainer compiles the profile
// with libseccomp at every start (and again for every exec), which is most of the cost
// of a filter; yoroi compiles each profile once, keeps the program under the state root,
// and hands it to the launcher as a sealed memfd. The launcher installs it after
// landlock_restrict_self, right before execve, so the workload is filtered from its first
// instruction as before.

// seccompFilterLabel is the libcontainer label naming the container's compiled filter, so
// that exec hands the same one to its process.
const seccompFilterLabel = "org.yoroi.seccomp.filter"

// maxFilterInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxFilterInsns = 4096

func (r *Runtime) filterCacheDir() string { return filepath.Join(r.root, yoroiDir, "seccomp") }

// moveSeccompToLauncher takes the seccomp filter out of config and returns it as a
// sealed memfd for the launcher, when args run under the launcher and the filter can be
// installed by it; otherwise config is left as it is and the file is nil. A label that
// names a filter is the runtime's to set: one from the spec's annotations is dropped.
func (r *Runtime) moveSeccompToLauncher(config *configs.Config, args []string) (*os.File, error) {
	config.Labels = slices.DeleteFunc(config.Labels, func(l string) bool {
		return strings.HasPrefix(l, seccompFilterLabel+"=")
	})
	if !hardening.IsLandlockWrapped(args) || !launcherCanInstall(config.Seccomp) {
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
	f, err := sealedFilter(prog)
	if err != nil {
		return nil, err
	}
	config.Seccomp = nil
	config.Labels = append(config.Labels, seccompFilterLabel+"="+key)
	return f, nil
}

// execFilter returns the filter of container c for a process it execs, nil if c's
// filter is libcontainer's.
func (r *Runtime) execFilter(c *libcontainer.Container, args []string) (*os.File, error) {
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
	return sealedFilter(prog)
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
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > 8+8*maxFilterInsns {
		return nil, fmt.Errorf("seccomp filter %s: not a filter", f.Name())
	}
	prog := make([]byte, st.Size)
	if _, err := f.ReadAt(prog, 0); err != nil {
		return nil, err
	}
	if err := checkFilter(prog); err != nil {
		return nil, fmt.Errorf("seccomp filter %s: %w", f.Name(), err)
	}
	return prog, nil
}

// checkFilter checks the header against the program's length.
func checkFilter(prog []byte) error {
	if len(prog) < 8 {
		return errors.New("truncated")
	}
	n := binary.NativeEndian.Uint32(prog[4:8])
	if n == 0 || n > maxFilterInsns || len(prog) != 8+8*int(n) {
		return fmt.Errorf("%d instructions in %d bytes", n, len(prog))
	}
	return nil
}

// storeFilter compiles cfg and keeps it as key: written to a temporary file and renamed,
// so that a concurrent create reads either nothing or the whole program.
func (r *Runtime) storeFilter(key string, cfg *configs.Seccomp) ([]byte, error) {
	prog, err := compileFilter(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkFilter(prog); err != nil {
		return nil, fmt.Errorf("seccomp: compiled filter: %w", err)
	}
	dir := r.filterCacheDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".compiling-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(prog); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, key+".bpf")); err != nil {
		return nil, err
	}
	return prog, nil
}

// sealedFilter puts prog into a memfd that can no longer change. It logs the filter's
// flags at debug level in libcontainer's words (runc's seccomp tests read them).
func sealedFilter(prog []byte) (*os.File, error) {
	logrus.Debugf("seccomp filter flags: %d", binary.NativeEndian.Uint32(prog[:4]))
	fd, err := unix.MemfdCreate("yoroi-seccomp-filter", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "yoroi-seccomp-filter")
	if _, err := f.Write(prog); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing the seccomp filter: %w", err)
	}
	return f, nil
}

// withLauncherFilter hands f to the process as its next extra file and tells the
// launcher which descriptor that is.
func withLauncherFilter(p *libcontainer.Process, f *os.File) {
	fd := 3 + len(p.ExtraFiles)
	p.ExtraFiles = append(p.ExtraFiles, f)
	p.Args = slices.Insert(slices.Clone(p.Args), 2, "seccomp="+strconv.Itoa(fd))
}
