package main

import (
	"debug/buildinfo"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runtimes are the peers of section 1, each running the same bundle: args on the bench's
// rootfs, as written (base, the bundle of that name) or with a profile's edits.
func (b *bench) runtimes(base string, name string, args ...string) []runtimeCmd {
	relaxed, _ := b.makeBundle(name+"-relaxed", b.rootfs, annotate("relaxed"), args...)
	rts := []runtimeCmd{
		b.yoroiCmd(fullHardening, base),
		b.yoroiCmd("yoroi (relaxed profile)", relaxed),
	}
	if b.o.runcNew != "" {
		rts = append(rts, b.runcCmd(base))
		if docker, err := dockerProfile(); err == nil {
			// runc as Docker runs it: with Docker's default seccomp profile.
			bundle, err := b.makeBundle(name+"-docker-seccomp", b.rootfs, func(s map[string]any) { s["linux"].(map[string]any)["seccomp"] = docker }, args...)
			if err == nil {
				rts = append(rts, runtimeCmd{"runc " + version(b.o.runcNew) + " + Docker's seccomp profile", b.o.runcNew, nil, nil, bundle})
			}
		}
	}
	rts = append(rts,
		runtimeCmd{"runc " + version(b.o.runcDebian) + " (Debian)", b.o.runcDebian, nil, nil, base},
		b.crunCmd(base))
	if b.o.runsc != "" {
		rts = append(rts, b.runscCmd(base))
	}
	return rts
}

// runcCmd is the newest runc running bundle as written.
func (b *bench) runcCmd(bundle string) runtimeCmd {
	return runtimeCmd{"runc " + version(b.o.runcNew), b.o.runcNew, nil, nil, bundle}
}

// crunCmd is Debian's crun running bundle as written.
func (b *bench) crunCmd(bundle string) runtimeCmd {
	return runtimeCmd{"crun " + version(b.o.crun) + " (Debian)", b.o.crun, nil, nil, bundle}
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

// isolatedPause is how long an isolated run waits after the previous run ended: long
// enough for the kernel's deferred work of that run to be done (RCU grace periods; the
// cgroup move lock's return to its fast path, about one grace period after its last
// use), so that no run inherits what another left — as a single `docker run` or a Pod's
// start on a quiet host.
const isolatedPause = 100 * time.Millisecond

// measureAll runs `run` of each of rs warmup+n times, interleaved and back to back, as
// bursts: each measured run follows a run of its own (burstLead).
func (b *bench) measureAll(rs ...runtimeCmd) []stats { return b.measureStarts(0, rs...) }

// burstLead is how many unmeasured runs of the same runtime come right before each
// measured back-to-back run. A back-to-back run inherits what the run before it left the
// kernel to do (its namespaces', mounts' and cgroups' teardown, deferred to workqueues and
// RCU callbacks): in a burst of one runtime's starts, that is a run of its own. Rotating
// the order alone does not give that: with k runtimes in a cycle each one follows the
// same other runtime in k-1 of every k rounds (the first of the list follows the last,
// gVisor's runsc with its sandbox's teardown).
const burstLead = 1

// measureStarts runs `run` of each of rs warmup+n times, interleaved, each run pause after
// the previous one; back to back (no pause), each measured run after a lead run of its
// own.
func (b *bench) measureStarts(pause time.Duration, rs ...runtimeCmd) []stats {
	roots := make([]string, len(rs))
	for i, r := range rs {
		roots[i] = filepath.Join(b.state, "state-"+strings.Fields(r.label)[0]+strconv.Itoa(len(b.results))+"-"+strconv.Itoa(i)+"-"+strconv.Itoa(int(pause.Milliseconds())))
	}
	lead := 0
	if pause == 0 {
		lead = burstLead
	}
	return b.interleave(len(rs), pause, lead, func(i int) (time.Duration, *syscall.Rusage, error) { return b.once(rs[i], roots[i]) })
}

// interleave runs once(i) for each of k measures warmup+n times, interleaved: round r
// runs every measure once, starting at a different one each round, so that the shared
// machine's drift (other jobs, page cache, a slow minute) falls on all of them alike.
// Each run starts pause after the previous one ended, and is measured after lead runs of
// the same measure (unmeasured; a failed one counts as a failure).
func (b *bench) interleave(k int, pause time.Duration, lead int, once func(i int) (time.Duration, *syscall.Rusage, error)) []stats {
	ds := make([][]time.Duration, k)
	rss := make([][]int64, k)
	rounds := make([][]time.Duration, k)
	out := make([]stats, k)
	for round := 0; round < b.o.warmup+b.o.n; round++ {
		for j := range k {
			i := (j + round) % k
			var d time.Duration
			var ru *syscall.Rusage
			var err error
			for range lead + 1 {
				time.Sleep(pause)
				if d, ru, err = once(i); err != nil {
					break
				}
			}
			if err != nil {
				out[i].failures++
				b.fail(err)
				d = 0
			} else if round >= b.o.warmup {
				ds[i] = append(ds[i], d)
				rss[i] = append(rss[i], ru.Maxrss)
			}
			if round >= b.o.warmup {
				rounds[i] = append(rounds[i], d)
			}
		}
	}
	for i := range k {
		out[i] = summarize(ds[i], rss[i], out[i].failures)
		out[i].rounds = rounds[i]
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
// each one's max RSS, back to back and isolated; and exec of /bin/true into a running
// container of each, isolated.
func (b *bench) startLatency() {
	rts := b.runtimes(b.bundle, "true", "/bin/true")
	all := b.measureAll(rts...)
	for i, r := range rts {
		b.results[r.label] = all[i]
	}
	runcNew, _, runsc := peerStats(rts, all)
	b.results["runc"], b.results["runsc"] = runcNew, runsc
	b.printf("## 1. Start latency: `run` of /bin/true (create + start + wait + delete)\n\n")
	b.printf("Runs interleaved: each round runs every runtime once, in a rotating order (back to back: twice in a row, the second measured).\n\n")
	b.printf("Back to back (each run starts when the previous one ended, as in a burst of one runtime's starts: each measured run follows an unmeasured run of the same runtime, which it inherits the kernel's deferred work of):\n\n")
	b.latencyTable(rts, all, true)
	isolated := b.measureStarts(isolatedPause, rts...)
	b.printf("Isolated (each run starts %s after the previous one ended, as a single `docker run` or a Pod's start: the kernel's deferred work of the previous run is done and no run inherits what another left):\n\n", ms(isolatedPause))
	b.latencyTable(rts, isolated, false)
	sleepers := b.runtimes(b.sleeper(), "sleep", "/bin/sleep", "1000")
	b.printf("`exec` of /bin/true into a running container (isolated, as a Kubernetes exec probe; each runtime its own container, started once):\n\n")
	b.latencyTable(sleepers, b.execLatencies(sleepers), false)
}

// sleeper is the bundle of a long-running container: /bin/sleep on the bench's rootfs,
// made once.
func (b *bench) sleeper() string {
	if b.sleepBundle == "" {
		bundle, err := b.makeBundle("sleep", b.rootfs, nil, "/bin/sleep", "1000")
		if err != nil {
			b.fail(err)
		}
		b.sleepBundle = bundle
	}
	return b.sleepBundle
}

// peerStats picks the newest runc's, crun's and runsc's results out of a table's.
func peerStats(rts []runtimeCmd, all []stats) (runcNew, crun, runsc stats) {
	for i, r := range rts {
		switch {
		case strings.HasPrefix(r.label, "runc") && !strings.Contains(r.label, "Debian") && !strings.Contains(r.label, " + ") && runcNew.median == 0:
			runcNew = all[i]
		case strings.HasPrefix(r.label, "crun"):
			crun = all[i]
		case strings.HasPrefix(r.label, "runsc"):
			runsc = all[i]
		}
	}
	return runcNew, crun, runsc
}

// latencyTable prints one latency per runtime with its ratios to the peers (and, with
// rss, the runtime's max RSS).
func (b *bench) latencyTable(rts []runtimeCmd, all []stats, rss bool) {
	runcNew, crun, runsc := peerStats(rts, all)
	if rss {
		b.printf("| runtime | median | p90 | min | vs newest runc | vs newest runc, paired by round (95 %%) | vs crun | vs runsc | max RSS of the runtime | failures |\n|---|---|---|---|---|---|---|---|---|---|\n")
	} else {
		b.printf("| runtime | median | p90 | min | vs newest runc | vs newest runc, paired by round (95 %%) | vs crun | vs runsc | failures |\n|---|---|---|---|---|---|---|---|---|\n")
	}
	for i, r := range rts {
		s := all[i]
		b.printf("| %s | %s | %s | %s | %s | %s | %s | %s | ", r.label, ms(s.median), ms(s.p90), ms(s.min),
			ratio(s.median, runcNew.median), pairedCell(s, runcNew), ratio(s.median, crun.median), ratio(s.median, runsc.median))
		if rss {
			b.printf("%d KiB | ", s.maxRSSKiB)
		}
		b.printf("%d |\n", s.failures)
	}
	b.printf("\n")
}

// execLatencies runs `exec` of /bin/true into a running container of each of rts (their
// bundles' containers, started once each), interleaved and isolated.
func (b *bench) execLatencies(rts []runtimeCmd) []stats {
	roots := make([]string, len(rts))
	ids := make([]string, len(rts))
	for i, r := range rts {
		roots[i] = filepath.Join(b.state, "state-exec-"+strconv.Itoa(i))
		id := nextID("exec")
		if err := b.detached(r, roots[i], id); err != nil {
			b.fail(err)
			continue
		}
		ids[i] = id
		defer func() { _, _, _ = r.timed(roots[i], "delete", "--force", id) }()
	}
	return b.interleave(len(rts), isolatedPause, 0, func(i int) (time.Duration, *syscall.Rusage, error) {
		if ids[i] == "" {
			return 0, nil, fmt.Errorf("%s: no container to exec into", rts[i].label)
		}
		return rts[i].timed(roots[i], "exec", ids[i], "/bin/true")
	})
}

// detached starts r's bundle as container id with its state under root, and returns
// once it runs.
func (b *bench) detached(r runtimeCmd, root, id string) error { return b.launch(r, root, "run", id) }

// launch makes container id of r's bundle with its state under root: verb "run" starts it
// detached, "create" leaves it created.
func (b *bench) launch(r runtimeCmd, root, verb, id string) error {
	// A file, not a pipe: the container inherits it and would hold a pipe open.
	out, err := os.CreateTemp(b.work, "detached-")
	if err != nil {
		return err
	}
	defer out.Close()
	args := append(append([]string{}, r.args...), "--root", root, verb)
	if verb == "run" {
		args = append(args, "--detach")
	}
	cmd := exec.Command(r.binary, append(args, "--bundle", r.bundle, id)...)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(out.Name())
		return fmt.Errorf("%s %s: %v: %s", r.label, strings.Join(args[len(r.args)+2:], " "), err, msg)
	}
	return nil
}
