package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// idmapLatency: measure 4, the extra start latency of the id-mapped rootfs.
func (b *bench) idmapLatency() {
	layers := 20
	overlay, cleanup, err := b.overlayRootfs(layers)
	if err != nil {
		b.fail(err)
		b.printf("## 4. Id-mapped rootfs\n\nerror: %v\n\n", err)
		return
	}
	defer cleanup()
	b.printf("## 4. Extra start latency of the id-mapped rootfs\n\n| rootfs | with user namespace + id-mapped rootfs | without (profile no-userns) | extra |\n|---|---|---|---|\n")
	for _, c := range []struct{ label, rootfs string }{{"plain directory", b.rootfs}, {fmt.Sprintf("%d-layer overlay", layers), overlay}} {
		with, _ := b.makeBundle("idmap-"+strings.Fields(c.label)[0], c.rootfs, nil, "/bin/true")
		without, _ := b.makeBundle("noidmap-"+strings.Fields(c.label)[0], c.rootfs, annotate("no-userns"), "/bin/true")
		st := b.measureAll(b.yoroiCmd("yoroi", with), b.yoroiCmd("yoroi", without))
		sw, so := st[0], st[1]
		b.printf("| %s | %s | %s | %s |\n", c.label, ms(sw.median), ms(so.median), ms(sw.median-so.median))
	}
	b.printf("\n")
}

// overlayRootfs mounts an overlay of n layers (busybox in the lowest) with an upper and
// a work directory, the way Docker's overlay2 lays them out.
func (b *bench) overlayRootfs(n int) (string, func(), error) {
	base := filepath.Join(b.work, "overlay")
	var lowers []string
	for i := n - 1; i >= 1; i-- {
		l := filepath.Join(base, "l", strconv.Itoa(i))
		if err := os.MkdirAll(filepath.Join(l, "etc"), 0o755); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(filepath.Join(l, "etc", "layer-"+strconv.Itoa(i)), []byte("x"), 0o644); err != nil {
			return "", nil, err
		}
		lowers = append(lowers, l)
	}
	lowers = append(lowers, b.rootfs)
	upper, wk, merged := filepath.Join(base, "diff"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, wk, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", nil, err
		}
	}
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + wk
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", nil, fmt.Errorf("mount overlay: %w", err)
	}
	return merged, func() { _ = syscall.Unmount(merged, syscall.MNT_DETACH) }, nil
}
