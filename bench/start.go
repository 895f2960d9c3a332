package main

import (
	"debug/buildinfo"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// runtimes are the peers of section 1, each running the same bundle of /bin/true.
func (b *bench) runtimes() []runtimeCmd {
	relaxed, _ := b.makeBundle("true-relaxed", b.rootfs, annotate("relaxed"), "/bin/true")
	rts := []runtimeCmd{
		b.yoroiCmd(fullHardening, b.bundle),
		b.yoroiCmd("yoroi (relaxed profile)", relaxed),
	}
	if b.o.runcNew != "" {
		rts = append(rts, runtimeCmd{"runc " + version(b.o.runcNew), b.o.runcNew, nil, nil, b.bundle})
		if docker, err := dockerProfile(); err == nil {
			// runc as Docker runs it: with Docker's default seccomp profile.
			bundle, err := b.makeBundle("true-docker-seccomp", b.rootfs, func(s map[string]any) { s["linux"].(map[string]any)["seccomp"] = docker }, "/bin/true")
			if err == nil {
				rts = append(rts, runtimeCmd{"runc " + version(b.o.runcNew) + " + Docker's seccomp profile", b.o.runcNew, nil, nil, bundle})
			}
		}
	}
	rts = append(rts,
		runtimeCmd{"runc " + version(b.o.runcDebian) + " (Debian)", b.o.runcDebian, nil, nil, b.bundle},
		runtimeCmd{"crun " + version(b.o.crun) + " (Debian)", b.o.crun, nil, nil, b.bundle})
	if b.o.runsc != "" {
		rts = append(rts, b.runscCmd(b.bundle))
	}
	return rts
}

// runscCmd is gVisor's runsc running bundle: no network (the bench's bundles have no
// network namespace to join) and, on a cgroup v1 host, its own cgroups as the others do.
func (b *bench) runscCmd(bundle string) runtimeCmd {
	return runtimeCmd{"runsc " + runscVersion(b.o.runsc) + " (gVisor)", b.o.runsc, []string{"--network=none"}, nil, bundle}
}

// runscVersion is the gVisor module version runsc was built from (a `go install` build
// prints no release name), or "?".
func runscVersion(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "?"
	}
	for _, d := range info.Deps {
		if d.Path == "gvisor.dev/gvisor" {
			return d.Version
		}
	}
	if info.Main.Path == "gvisor.dev/gvisor" {
		return info.Main.Version
	}
	return "?"
}

// measureAll runs each of rs warmup+n times, interleaved: round i runs every runtime once,
// starting at a different one each round, so that the shared machine's drift (other
// jobs, page cache, a slow minute) falls on all of them alike.
func (b *bench) measureAll(rs ...runtimeCmd) []stats {
	roots := make([]string, len(rs))
	ds := make([][]time.Duration, len(rs))
	rss := make([][]int64, len(rs))
	out := make([]stats, len(rs))
	for i, r := range rs {
		roots[i] = filepath.Join(b.state, "state-"+strings.Fields(r.label)[0]+strconv.Itoa(len(b.results))+"-"+strconv.Itoa(i))
	}
	for round := 0; round < b.o.warmup+b.o.n; round++ {
		for k := range rs {
			i := (k + round) % len(rs)
			d, ru, err := b.once(rs[i], roots[i])
			if err != nil {
				out[i].failures++
				fmt.Fprintln(os.Stderr, err)
				continue
			}
			if round >= b.o.warmup {
				ds[i] = append(ds[i], d)
				rss[i] = append(rss[i], ru.Maxrss)
			}
		}
	}
	for i := range rs {
		out[i] = summarize(ds[i], rss[i], out[i].failures)
	}
	return out
}

func summarize(ds []time.Duration, rss []int64, failures int) stats {
	s := stats{failures: failures}
	if len(ds) == 0 {
		return s
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	s.median, s.min = ds[len(ds)/2], ds[0]
	s.p90 = ds[int(math.Ceil(0.9*float64(len(ds))))-1]
	s.maxRSSKiB = rss[len(rss)/2]
	return s
}

// startLatency: measure 1, create+start+wait+delete of /bin/true by every runtime, and
// each one's max RSS.
func (b *bench) startLatency() {
	rts := b.runtimes()
	all := b.measureAll(rts...)
	var runcNew, crun, runsc stats
	for i, r := range rts {
		b.results[r.label] = all[i]
		switch {
		case strings.HasPrefix(r.label, "runc") && !strings.Contains(r.label, "Debian") && !strings.Contains(r.label, " + ") && runcNew.median == 0:
			runcNew = all[i]
		case strings.HasPrefix(r.label, "crun"):
			crun = all[i]
		case strings.HasPrefix(r.label, "runsc"):
			runsc = all[i]
		}
	}
	b.results["runc"], b.results["runsc"] = runcNew, runsc
	b.printf("## 1. Start latency: `run` of /bin/true (create + start + wait + delete)\n\n")
	b.printf("Runs interleaved: each round runs every runtime once, in a rotating order.\n\n")
	b.printf("| runtime | median | p90 | min | vs newest runc | vs crun | vs runsc | max RSS of the runtime | failures |\n|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range rts {
		s := all[i]
		b.printf("| %s | %s | %s | %s | %s | %s | %s | %d KiB | %d |\n", r.label, ms(s.median), ms(s.p90), ms(s.min),
			ratio(s.median, runcNew.median), ratio(s.median, crun.median), ratio(s.median, runsc.median), s.maxRSSKiB, s.failures)
	}
	b.printf("\n")
}
