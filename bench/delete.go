package main

import (
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// deleteLatency: measure 11, `delete` of a created container (the way containerd removes
// a container that was never started) and `delete --force` of a running one, each
// runtime's own container made just before (not timed), isolated. What the delete waits
// for is its init's death after SIGKILL.
func (b *bench) deleteLatency() {
	sleeper := b.sleeper()
	rts := []runtimeCmd{b.yoroiCmd(fullHardening, sleeper)}
	if b.o.runcNew != "" {
		rts = append(rts, b.runcCmd(sleeper))
	}
	rts = append(rts, b.crunCmd(sleeper))
	if b.o.runsc != "" {
		rts = append(rts, b.runscCmd(sleeper))
	}
	b.printf("## 11. Delete: of a created container, and `delete --force` of a running one\n\n")
	b.printf("Each runtime deletes a container of its own made just before (`create`, or `run --detach` of /bin/sleep; not timed), isolated as in section 1.\n\n")
	for _, m := range []struct {
		title, make string
		del         []string
	}{
		{"`delete` of a created container", "create", []string{"delete"}},
		{"`delete --force` of a running container", "run", []string{"delete", "--force"}},
	} {
		roots := make([]string, len(rts))
		for i := range rts {
			roots[i] = filepath.Join(b.state, "state-delete-"+m.make+"-"+strconv.Itoa(i))
		}
		all := b.interleave(len(rts), isolatedPause, 0, func(i int) (time.Duration, *syscall.Rusage, error) {
			id := nextID("delete")
			if err := b.launch(rts[i], roots[i], m.make, id); err != nil {
				return 0, nil, err
			}
			d, ru, err := rts[i].timed(roots[i], append(m.del, id)...)
			if err != nil {
				_, _, _ = rts[i].timed(roots[i], "delete", "--force", id)
			}
			return d, ru, err
		})
		b.printf("%s:\n\n", m.title)
		b.latencyTable(rts, all, false)
	}
}
