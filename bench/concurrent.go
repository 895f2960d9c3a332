package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// concurrentStarts: measure 6, containers started at once.
func (b *bench) concurrentStarts() {
	sleeper := b.sleeper()
	rts := []runtimeCmd{b.yoroiCmd(fullHardening, sleeper)}
	if b.o.runcNew != "" {
		rts = append(rts, b.runcCmd(sleeper))
	}
	b.printf("## 6. %d containers started concurrently (`run --detach`)\n\n| runtime | wall time | failures |\n|---|---|---|\n", b.o.concurrent)
	for _, r := range rts {
		root := filepath.Join(b.state, "state-concurrent-"+strings.Fields(r.label)[0])
		var wg sync.WaitGroup
		var mu sync.Mutex
		failures := 0
		ids := make([]string, b.o.concurrent)
		start := time.Now()
		for i := range ids {
			ids[i] = nextID("conc")
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				cmd := exec.Command(r.binary, "--root", root, "run", "--detach", "--bundle", r.bundle, id)
				cmd.Env = append(os.Environ(), r.env...)
				// A file, not a pipe: the detached container inherits it and would hold a
				// pipe open.
				errFile, _ := os.CreateTemp(b.work, "stderr-")
				cmd.Stderr = errFile
				if err := cmd.Run(); err != nil {
					msg, _ := os.ReadFile(errFile.Name())
					mu.Lock()
					failures++
					mu.Unlock()
					b.fail(fmt.Errorf("%s %s: %v: %s", r.label, id, err, msg))
				}
				errFile.Close()
			}(ids[i])
		}
		wg.Wait()
		wall := time.Since(start)
		for _, id := range ids {
			cmd := exec.Command(r.binary, "--root", root, "delete", "--force", id)
			cmd.Env = append(os.Environ(), r.env...)
			_ = cmd.Run()
		}
		b.printf("| %s | %s | %d |\n", r.label, ms(wall), failures)
	}
	b.printf("\n")
}
