package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// attribution: measure 5, where one hardened start's time goes. First the whole: wall
// time, CPU time in user and kernel mode of the runtime and every process it waited for,
// and the rest (time no process of the start was on a CPU: waiting on the kernel, e.g.
// RCU grace periods in namespace and cgroup teardown, or on another process), for yoroi
// and runc, interleaved. Then yoroi's own steps, from the timings it logs with --debug.
func (b *bench) attribution() {
	rts := []runtimeCmd{b.yoroiCmd(fullHardening, b.bundle)}
	if b.o.runcNew != "" {
		rts = append(rts, b.runcCmd(b.bundle))
	}
	type sample struct{ wall, user, sys []time.Duration }
	samples := make([]sample, len(rts))
	for round := 0; round < b.o.warmup+b.o.n; round++ {
		for k := range rts {
			i := (k + round) % len(rts)
			d, ru, err := b.once(rts[i], filepath.Join(b.state, "state-attribution-"+strings.Fields(rts[i].label)[0]))
			if err != nil {
				b.fail(err)
				continue
			}
			if round >= b.o.warmup {
				samples[i].wall = append(samples[i].wall, d)
				samples[i].user = append(samples[i].user, time.Duration(ru.Utime.Nano()))
				samples[i].sys = append(samples[i].sys, time.Duration(ru.Stime.Nano()))
			}
		}
	}
	b.printf("## 5. Where a hardened start's time goes\n\n")
	b.printf("`run` of /bin/true, medians of %d interleaved runs. CPU is the runtime's and every process it waited for (the container's init and workload; yoroi's monitor is the attached `run` itself); off CPU is the wall time minus both (negative: the two CPUs worked in parallel).\n\n", b.o.n)
	b.printf("| runtime | wall | user CPU | kernel CPU | off CPU |\n|---|---|---|---|---|\n")
	for i, r := range rts {
		w, u, s := medianDur(samples[i].wall), medianDur(samples[i].user), medianDur(samples[i].sys)
		b.printf("| %s | %s | %s | %s | %s |\n", r.label, ms(w), ms(u), ms(s), ms(w-u-s))
	}
	b.printf("\n")
	b.stepTimings()
}

// stepTimings runs yoroi with --debug and reports the median duration of each step it
// times, in the order they happen. The log is on the state tmpfs, where engines keep
// theirs (containerd's is in the bundle, under /run): yoroi opens it O_SYNC, as runc
// does, and on the disk each debug line took about 0.25 ms, which every step holding
// others counted (the cleanup's 1 ms in the ninth round's report was its five lines).
func (b *bench) stepTimings() {
	log := filepath.Join(b.state, "timings.jsonl")
	var walls []time.Duration
	for i := 0; i < b.o.warmup+b.o.n; i++ {
		if i == b.o.warmup {
			_ = os.Remove(log)
		}
		cmd := exec.Command(b.o.yoroi, "--debug", "--log-format", "json", "--log", log,
			"--root", filepath.Join(b.state, "state-timings"), "run", "--bundle", b.bundle, nextID("timing"))
		cmd.Env = append(os.Environ(), b.yoroiEnv()...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.fail(fmt.Errorf("%v: %s", err, out))
			b.printf("error: %v: %s\n\n", err, out)
			return
		}
		if i >= b.o.warmup {
			walls = append(walls, time.Since(start))
		}
	}
	steps, order, err := readTimings(log)
	if err != nil {
		b.fail(err)
		b.printf("error: %v\n\n", err)
		return
	}
	wall := medianDur(walls)
	b.printf("yoroi's steps, as it times them with `--debug` (median of %d runs; debug logging itself makes the run slower: %s in all):\n\n", b.o.n, ms(wall))
	b.printf("| step | median | share of the run |\n|---|---|---|\n")
	for _, step := range order {
		d := medianDur(steps[step])
		b.printf("| %s | %.2f ms | %.0f %% |\n", step, float64(d.Microseconds())/1000, 100*float64(d)/float64(wall))
	}
	b.printf("\n")
}

// readTimings reads yoroi's "timing" debug events: each step's durations, and the steps
// in the order they first appear.
func readTimings(path string) (map[string][]time.Duration, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	steps := map[string][]time.Duration{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Msg  string `json:"msg"`
			Step string `json:"step"`
			US   int64  `json:"us"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Msg != "timing" {
			continue
		}
		if _, seen := steps[ev.Step]; !seen {
			order = append(order, ev.Step)
		}
		steps[ev.Step] = append(steps[ev.Step], time.Duration(ev.US)*time.Microsecond)
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("no timing events in %s", path)
	}
	return steps, order, sc.Err()
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
