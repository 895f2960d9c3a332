package runtime

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// maxSocketsNamed is how many bound sockets beneath one source the facts carry: the
// refusal names the first, the rest only make the line longer.
const maxSocketsNamed = 3

// sourceFacts inspects every bind source of the spec: its file type, whether the mount it
// lies on is read-only, and for a directory the host's bound UNIX sockets beneath it.
// realPaths are the sources with symlinks resolved (gatherFacts).
func sourceFacts(mounts []specs.Mount, realPaths map[string]string) map[string]hardening.SourceFacts {
	out := map[string]hardening.SourceFacts{}
	var sockets []string
	socketsRead := false
	for _, m := range mounts {
		if !hardening.IsBind(m) || !filepath.IsAbs(m.Source) {
			continue
		}
		real := m.Source
		if r, ok := realPaths[m.Source]; ok {
			real = r
		}
		var st unix.Stat_t
		if err := unix.Stat(real, &st); err != nil {
			continue
		}
		f := hardening.SourceFacts{Type: fileType(st.Mode)}
		var sfs unix.Statfs_t
		if err := unix.Statfs(real, &sfs); err == nil {
			f.ReadOnly = sfs.Flags&unix.ST_RDONLY != 0
			f.Flags = keptFlags(sfs.Flags)
			f.FSType = fsName(sfs.Type)
		}
		if f.FSType == "overlay" && f.Type == "directory" {
			f.OverlayMount, f.InOverlayMount = overlayOf(filepath.Clean(real))
		}
		f.NoIdmap = !idmappable(f.FSType, real)
		if f.Type == "directory" {
			if !socketsRead {
				sockets, socketsRead = boundSockets(), true
			}
			f.Sockets = socketsBeneath(sockets, filepath.Clean(real))
		}
		out[m.Source] = f
	}
	return out
}

// overlayOf tells whether dir, on an overlay, is an overlay mount's root or a directory
// beneath one (which one: the mount that holds it).
func overlayOf(dir string) (root bool, within string) {
	if isOverlayRoot(dir) {
		return true, ""
	}
	if mnt, err := containingMount(dir); err == nil && mnt != nil && mnt.FSType == "overlay" {
		return false, mnt.Mountpoint
	}
	return false, ""
}

// stNoSymfollow is statfs' ST_NOSYMFOLLOW (Linux 5.10), which x/sys/unix does not name.
const stNoSymfollow = 0x2000

// keptFlags names the flags of a mount (statfs) a bind of it keeps unless told
// otherwise, beyond ro, nosuid and nodev.
func keptFlags(flags int64) []string {
	var out []string
	if flags&unix.ST_NOEXEC != 0 {
		out = append(out, "noexec")
	}
	if flags&stNoSymfollow != 0 {
		out = append(out, "nosymfollow")
	}
	switch {
	case flags&unix.ST_NOATIME != 0:
		out = append(out, "noatime")
	case flags&unix.ST_RELATIME != 0:
		out = append(out, "relatime")
	default:
		out = append(out, "strictatime")
	}
	if flags&unix.ST_NODIRATIME != 0 {
		out = append(out, "nodiratime")
	}
	return out
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFREG:
		return "file"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "char"
	case unix.S_IFBLK:
		return "block"
	}
	return "other"
}

// boundSockets lists the filesystem paths of the UNIX sockets bound in yoroi's network
// namespace (the engine's, normally the host's), from /proc/net/unix.
func boundSockets() []string {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseUnixSockets(f)
}

// parseUnixSockets reads /proc/net/unix: seven columns ("Num RefCount Protocol Flags Type
// St Inode", the inode padded with spaces), then the path: absent for unbound sockets,
// "@name" for abstract ones, possibly with spaces of its own.
func parseUnixSockets(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest := sc.Text()
		for range 7 {
			rest = strings.TrimLeft(rest, " ")
			i := strings.IndexByte(rest, ' ')
			if i < 0 {
				rest = ""
				break
			}
			rest = rest[i:]
		}
		if p := strings.TrimPrefix(rest, " "); strings.HasPrefix(p, "/") {
			out = append(out, p)
		}
	}
	return out
}

// socketsBeneath returns the sockets at or below dir, at most maxSocketsNamed.
func socketsBeneath(sockets []string, dir string) []string {
	var out []string
	for _, s := range sockets {
		if s == dir || strings.HasPrefix(s, dir+"/") || dir == "/" {
			out = append(out, s)
			if len(out) == maxSocketsNamed {
				break
			}
		}
	}
	return out
}

// engineState is the engine state a container's bind sources must not expose, derived
// from the container itself: its root filesystem and the layers beneath it, the state
// root of the runtime running it, the directory holding its bundle (and the other
// bundles there), and yoroi's host state.
func (r *Runtime) engineState(b *Bundle, rootfs hardening.RootfsFacts) []hardening.EnginePath {
	out := []hardening.EnginePath{
		{Path: filepath.Dir(b.Path), What: "the directory of the container's bundle"},
		{Path: r.root, What: "the runtime's state root"},
	}
	for _, d := range r.hostStateDirs() {
		out = append(out, hardening.EnginePath{Path: d, What: "yoroi's host state"})
	}
	if rootfs.RealPath != "" {
		out = append(out, hardening.EnginePath{Path: rootfs.RealPath, What: "the container's root filesystem"})
	}
	for _, l := range rootfs.Layers {
		out = append(out, hardening.EnginePath{Path: l, What: "a layer of the container's root filesystem"})
	}
	return out
}
