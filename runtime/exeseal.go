package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runc/libcontainer/exeseal"
	"golang.org/x/sys/unix"
)

// exeSealing reports how libcontainer seals yoroi's binary for each container's init and
// each exec, so that a container cannot overwrite it through /proc/self/exe
// (CVE-2019-5736): through a read-only overlay of the binary's directory, which copies
// nothing, or, where overlayfs refuses that directory as a layer, by copying the whole
// binary into a sealed memfd for every such process (several milliseconds and the
// binary's size in memory each). It probes the way libcontainer does, with a directory
// under the state root standing for a container's state directory (overlayfs's second
// layer).
func exeSealing(root string) (overlay bool, detail string) {
	dir, err := probeDir(root)
	if err != nil {
		return false, fmt.Sprintf("cannot probe: %v", err)
	}
	defer os.RemoveAll(dir)
	sealed, err := exeseal.CloneSelfExe(dir)
	if err != nil {
		return false, fmt.Sprintf("libcontainer cannot seal the binary: %v", err)
	}
	defer sealed.Close()
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(sealed.Fd()), &fs); err != nil {
		return false, fmt.Sprintf("cannot probe: %v", err)
	}
	if fs.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return true, "a read-only overlay of the binary's directory (no copy)"
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return false, fmt.Sprintf("a copy of the binary for every container's init and exec: %v", err)
	}
	size := "the binary"
	if st, err := os.Stat(exe); err == nil {
		size = fmt.Sprintf("the binary (%.1f MB)", float64(st.Size())/1e6)
	}
	return false, fmt.Sprintf("a copy of %s for every container's init and exec: %s", size, sealRefusal(filepath.Dir(exe), root))
}

// sealRefusal says why overlayfs would not take exeDir as a layer beside a state
// directory under root.
func sealRefusal(exeDir, root string) string {
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	if real, err := filepath.EvalSymlinks(exeDir); err == nil {
		exeDir = real
	}
	if root == exeDir || strings.HasPrefix(root, strings.TrimSuffix(exeDir, "/")+"/") {
		return fmt.Sprintf("the state root %s is beneath the binary's directory %s, and overlayfs refuses layers inside one another (install the binary or keep the state elsewhere)", root, exeDir)
	}
	return fmt.Sprintf("overlayfs refused %s as a layer (its filesystem, or a kernel without overlayfs)", exeDir)
}
