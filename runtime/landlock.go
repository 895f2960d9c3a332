package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The Landlock launcher runs inside the container, as the container's process: libcontainer
// executes /proc/self/exe (its sealed copy of yoroi) with hardening.LandlockArg, after the
// mounts, the user, capabilities and seccomp are in place. It restricts itself and then
// executes the workload, which keeps its pid, argv and environment.

const (
	llRead  = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	llWrite = unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR |
		unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_SYM |
		unix.LANDLOCK_ACCESS_FS_REFER | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	llExec = unix.LANDLOCK_ACCESS_FS_EXECUTE
	// llFileRights are the only rights a rule on a non-directory may carry.
	llFileRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// landlockHandled is every filesystem right the ABI knows: what is not granted is denied.
func landlockHandled(abi int) uint64 {
	h := uint64(0x1FFF) // ABI 1: EXECUTE … MAKE_SYM
	if abi >= 2 {
		h |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		h |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		h |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return h
}

// LandlockABI returns the kernel's Landlock ABI version, 0 if Landlock is unavailable.
func LandlockABI() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(v)
}

// maybeLandlockLaunch takes over when this process is the launcher; it never returns then.
func maybeLandlockLaunch() {
	if len(os.Args) < 3 || os.Args[1] != hardening.LandlockArg {
		return
	}
	err := landlockLaunch(os.Args[2:])
	fmt.Fprintf(os.Stderr, "yoroi landlock: %v\n", err)
	os.Exit(126)
}

func landlockLaunch(args []string) error {
	minABI, execWritable := 1, false
	i := slices.Index(args, "--")
	if i < 0 || i == len(args)-1 {
		return errors.New("no command")
	}
	for _, a := range args[:i] {
		switch {
		case strings.HasPrefix(a, "abi="):
			n, err := strconv.Atoi(strings.TrimPrefix(a, "abi="))
			if err != nil {
				return fmt.Errorf("bad setting %q", a)
			}
			minABI = n
		case a == "exec-writable":
			execWritable = true
		default:
			return fmt.Errorf("unknown setting %q", a)
		}
	}
	argv := args[i+1:]
	abi := LandlockABI()
	if abi < minABI {
		return fmt.Errorf("Landlock ABI %d is below the required %d: refusing to run unconfined", abi, minABI)
	}
	mounts, err := containerMounts()
	if err != nil {
		return err
	}
	rs, err := newRuleset(abi)
	if err != nil {
		return err
	}
	defer unix.Close(rs.fd)
	if err := rs.add("/", llRead); err != nil {
		return err
	}
	var special []string
	for _, m := range mounts {
		special = append(special, m.path)
		if m.readonly {
			continue // readable through "/", never writable, never executable.
		}
		rights := uint64(llRead | llWrite)
		if m.path == "/dev" || strings.HasPrefix(m.path, "/dev/") {
			rights |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
		}
		if execWritable {
			rights |= llExec
		}
		if err := rs.add(m.path, rights); err != nil {
			return err
		}
	}
	if err := rs.addExec("/", special); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(rs.fd), 0, 0); e != 0 {
		return fmt.Errorf("landlock_restrict_self: %w", e)
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		if path, err = exec.LookPath(argv[0]); err != nil {
			return err
		}
	}
	return unix.Exec(path, argv, os.Environ())
}

type ruleset struct {
	fd      int
	handled uint64
}

func newRuleset(abi int) (*ruleset, error) {
	attr := unix.LandlockRulesetAttr{Access_fs: landlockHandled(abi)}
	size := unsafe.Sizeof(attr.Access_fs) // ABI < 4 knows only handled_access_fs
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if e != 0 {
		return nil, fmt.Errorf("landlock_create_ruleset: %w", e)
	}
	return &ruleset{fd: int(fd), handled: attr.Access_fs}, nil
}

// add grants rights beneath path (a file gets only the file rights among them).
func (r *ruleset) add(path string, rights uint64) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) {
			return nil // nothing there to grant
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
	case unix.S_IFIFO, unix.S_IFSOCK:
		// Not a filesystem object Landlock can hold a rule for (say /dev/stderr, a
		// symlink to the process's stderr pipe, in a rootfs without its own /dev).
		return nil
	default:
		rights &= llFileRights
	}
	rights &= r.handled
	if rights == 0 {
		return nil
	}
	attr := unix.LandlockPathBeneathAttr{Allowed_access: rights, Parent_fd: int32(fd)}
	if _, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(r.fd), unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&attr)), 0, 0, 0); e != 0 {
		return fmt.Errorf("landlock_add_rule %s: %w", path, e)
	}
	return nil
}

// addExec grants execute on the read-only rootfs: beneath every entry of dir that is
// neither a mount point nor an ancestor of one, descending into the ancestors (a rule on
// "/" itself would reach into every mount below it).
func (r *ruleset) addExec(dir string, mounts []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // unreadable: nothing executable there
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if slices.Contains(mounts, p) {
			continue
		}
		if slices.ContainsFunc(mounts, func(m string) bool { return strings.HasPrefix(m, p+"/") }) {
			if e.IsDir() {
				if err := r.addExec(p, mounts); err != nil {
					return err
				}
			}
			continue
		}
		if err := r.add(p, llExec); err != nil {
			return err
		}
	}
	return nil
}

type containerMount struct {
	path     string
	readonly bool
}

// containerMounts lists the container's mounts other than its root, with whether each is
// read-only.
func containerMounts() ([]containerMount, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	var out []containerMount
	for _, m := range mounts {
		if m.mountPoint == "/" {
			continue
		}
		ro := slices.Contains(strings.Split(m.mountOpts, ","), "ro")
		// A later mount on the same path hides the earlier one.
		out = slices.DeleteFunc(out, func(c containerMount) bool { return c.path == m.mountPoint })
		out = append(out, containerMount{path: m.mountPoint, readonly: ro})
	}
	return out, nil
}
