package runtime

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fsRecording learns, during `yoroi profile record`, what a workload writes and what it
// executes. The container's root is a writable overlay over its (id-mapped) root
// filesystem: every write lands in the overlay's upper directory, read once the container
// is gone. A fanotify mark on the overlay reports each file opened for execution (the
// program, a script's interpreter, the dynamic loader: what Landlock's execute right
// governs) and each file opened (what Landlock's read right governs).
type fsRecording struct {
	dir    string // upper and work directories, yoroi's own, removed by close
	merged string // the overlay, in the container's staging directory
	fan    int
	stop   [2]int // a pipe: closing its write end stops the reader
	done   chan struct{}

	mu       sync.Mutex
	executed map[string]bool
	opened   map[string]bool
	err      error
}

// startFSRecording mounts at merged a writable overlay of lower with its upper layer in
// dir, and starts reading its exec events.
func startFSRecording(dir, lower, merged string) (_ *fsRecording, retErr error) {
	fr := &fsRecording{dir: dir, merged: merged, fan: -1, stop: [2]int{-1, -1}, executed: map[string]bool{}, opened: map[string]bool{}}
	defer func() {
		if retErr != nil {
			fr.close()
		}
	}()
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// The overlay's root is its upper directory: it gets the owner and mode of the
	// root filesystem's, or the container's root could not even walk into it.
	var st unix.Stat_t
	if err := unix.Stat(lower, &st); err != nil {
		return nil, err
	}
	if err := os.Lchown(upper, int(st.Uid), int(st.Gid)); err != nil {
		return nil, err
	}
	if err := os.Chmod(upper, os.FileMode(st.Mode&0o7777)); err != nil {
		return nil, err
	}
	if err := mkdirTraversable(merged); err != nil {
		return nil, err
	}
	if err := mountOverlay([]string{lower}, upper, work, merged); err != nil {
		return nil, fmt.Errorf("recording overlay: %w", err)
	}
	fan, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_UNLIMITED_QUEUE, unix.O_RDONLY|unix.O_LARGEFILE|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fanotify: %w", err)
	}
	fr.fan = fan
	if err := unix.FanotifyMark(fan, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM, unix.FAN_OPEN_EXEC|unix.FAN_OPEN, unix.AT_FDCWD, merged); err != nil {
		return nil, fmt.Errorf("fanotify mark %s: %w", merged, err)
	}
	if err := unix.Pipe2(fr.stop[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	fr.done = make(chan struct{})
	go fr.read()
	return fr, nil
}

const metaSize = int(unsafe.Sizeof(unix.FanotifyEventMetadata{}))

// read records the path of each file opened for execution until stopped.
func (fr *fsRecording) read() {
	defer close(fr.done)
	buf := make([]byte, 64<<10)
	for {
		pfd := []unix.PollFd{{Fd: int32(fr.fan), Events: unix.POLLIN}, {Fd: int32(fr.stop[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			fr.fail(err)
			return
		}
		if pfd[0].Revents&unix.POLLIN != 0 {
			if err := fr.drain(buf); err != nil {
				fr.fail(err)
				return
			}
			continue
		}
		if pfd[1].Revents != 0 {
			return
		}
	}
}

// drain reads the queued events.
func (fr *fsRecording) drain(buf []byte) error {
	for {
		n, err := unix.Read(fr.fan, buf)
		if err == unix.EAGAIN {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fanotify read: %w", err)
		}
		for off := 0; off+metaSize <= n; {
			ev := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
			if ev.Event_len < uint32(metaSize) {
				return errors.New("fanotify: short event")
			}
			if ev.Fd >= 0 {
				if p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", ev.Fd)); err == nil {
					fr.mu.Lock()
					if ev.Mask&unix.FAN_OPEN_EXEC != 0 {
						fr.executed[fr.containerPath(p)] = true
					}
					if ev.Mask&unix.FAN_OPEN != 0 {
						fr.opened[fr.containerPath(p)] = true
					}
					fr.mu.Unlock()
				}
				unix.Close(int(ev.Fd))
			}
			off += int(ev.Event_len)
		}
	}
}

// containerPath is the path inside the container of a file the host sees at p: beneath
// the overlay when the container's mount is reachable from the host's root, or already
// the container's own path when it is not.
func (fr *fsRecording) containerPath(p string) string {
	if rel, ok := strings.CutPrefix(p, fr.merged+"/"); ok {
		return "/" + rel
	}
	return p
}

func (fr *fsRecording) fail(err error) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.err == nil {
		fr.err = err
	}
}

// stopExec stops the reader and returns the files executed and the files opened (for
// reading or executing), sorted.
func (fr *fsRecording) stopExec() (executed, opened []string, err error) {
	if fr.stop[1] >= 0 {
		unix.Close(fr.stop[1])
		fr.stop[1] = -1
	}
	if fr.done != nil {
		<-fr.done
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return slices.Sorted(maps.Keys(fr.executed)), slices.Sorted(maps.Keys(fr.opened)), fr.err
}

// written walks the upper directory once the container is gone: see writtenPaths.
func (fr *fsRecording) written(lower string, mounts []string, ids idShift) ([]string, error) {
	return writtenPaths(filepath.Join(fr.dir, "upper"), lower, mounts, ids)
}

// idShift maps the image's owners to the host's, as the container's id-mapped root
// filesystem shows them (and its overlay copied them up).
type idShift struct{ uid, gid []specs.LinuxIDMapping }

func (s idShift) host(uid, gid uint32) (uint32, uint32) {
	return shiftID(s.uid, uid), shiftID(s.gid, gid)
}

func shiftID(ms []specs.LinuxIDMapping, id uint32) uint32 {
	if len(ms) == 0 {
		return id
	}
	for _, m := range ms {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return m.HostID + id - m.ContainerID
		}
	}
	return 65534 // the overflow id: what the kernel shows for an unmapped owner
}

// close stops everything and removes the upper and work directories (the overlay
// itself, in the staging directory, goes with the container's other mounts).
func (fr *fsRecording) close() {
	_, _, _ = fr.stopExec()
	for _, fd := range []*int{&fr.fan, &fr.stop[0]} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
	if fr.dir != "" {
		if err := unix.Unmount(fr.merged, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return // still mounted: leave the layers for the staging cleanup to report
		}
		_ = os.RemoveAll(fr.dir)
	}
}

// writtenPaths reduces an overlay's upper directory to the directories a workload wrote
// in: a directory the image lacks, at its topmost (it was created), or the directory of
// a file created, changed or removed (or a directory whose entries were replaced). Mount
// points (mounts, container paths) are not the workload's writes, nor what lies beneath
// them. A directory in which two or more written directories were found stands for them.
// "/" means the workload wrote in the root directory itself.
func writtenPaths(upper, lower string, mounts []string, ids idShift) ([]string, error) {
	var walk func(rel string) ([]string, error)
	walk = func(rel string) ([]string, error) {
		dir := filepath.Join(upper, rel)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		created := !isDir(filepath.Join(lower, rel)) || isOpaque(dir)
		// An empty created directory was written (mkdir); an existing one whose owner or
		// mode differ from the image's was changed (chown, chmod).
		direct := created && len(entries) == 0 || !created && attrsDiffer(dir, filepath.Join(lower, rel), ids)
		var below []string
		for _, e := range entries {
			p := filepath.Join(rel, e.Name())
			if slices.Contains(mounts, p) {
				continue
			}
			if !e.IsDir() {
				direct = true // a file, a symlink or a whiteout (a removal)
				continue
			}
			sub, err := walk(p)
			if err != nil {
				return nil, err
			}
			below = append(below, sub...)
		}
		switch {
		case created && (direct || len(below) > 0):
			return []string{rel}, nil
		case direct:
			return []string{rel}, nil
		}
		children := 0
		for _, b := range below {
			if filepath.Dir(b) == rel {
				children++
			}
		}
		if children >= 2 && rel != "/" {
			return []string{rel}, nil
		}
		return below, nil
	}
	return walk("/")
}

// attrsDiffer: upper differs from the image's lower in owner, group or mode.
func attrsDiffer(upper, lower string, ids idShift) bool {
	var su, sl unix.Stat_t
	if unix.Lstat(upper, &su) != nil || unix.Lstat(lower, &sl) != nil {
		return false
	}
	uid, gid := ids.host(sl.Uid, sl.Gid)
	return su.Uid != uid || su.Gid != gid || su.Mode != sl.Mode
}

func isDir(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

// isOpaque: the directory replaced the image's (removed, then created again).
func isOpaque(dir string) bool {
	buf := make([]byte, 1)
	for _, name := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(dir, name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}
