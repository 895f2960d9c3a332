package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// appWorkload is one real application's measure: a server started as the container's
// process, and a client run in the same container (an exec, on loopback in its network
// namespace: gVisor's loopback is its own network stack, so the client must be inside)
// whose output gives the result. higher says whether a larger number is better.
type appWorkload struct {
	label, unit string
	higher      bool
	server      []string
	tmpfs       []string
	client      func(smoke bool) []string
	parse       func(out string) (float64, error)
	ready       []string // a command that succeeds once the server answers
}

var appWorkloads = []appWorkload{
	{
		label: "nginx 1.22, static page (wrk, 2 threads, 32 connections)", unit: "requests/s", higher: true,
		server: []string{"nginx", "-g", "daemon off;"},
		tmpfs:  []string{"/var/lib/nginx", "/var/log/nginx"},
		ready:  []string{"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/80"},
		client: func(smoke bool) []string {
			return []string{"wrk", "-t2", "-c32", "-d" + pick(smoke, "1s", "8s"), "http://127.0.0.1/"}
		},
		parse: parseFloatAfter(`Requests/sec:\s+([0-9.]+)`),
	},
	{
		label: "redis 7.0, GET and SET (redis-benchmark, 16 clients)", unit: "requests/s", higher: true,
		server: []string{"redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"},
		ready:  []string{"redis-cli", "ping"},
		client: func(smoke bool) []string {
			return []string{"redis-benchmark", "-q", "-c", "16", "-n", pick(smoke, "2000", "100000"), "-t", "get,set"}
		},
		parse: parseRedis,
	},
	{
		label: "file tree walk: find / -xdev (every path looked up and stat'ed)", unit: "ms", higher: false,
		server: []string{"sleep", "infinity"},
		client: func(smoke bool) []string {
			return timedShell("find / -xdev >/dev/null", pick(smoke, "1", "7"))
		},
		parse: parseElapsed,
	},
	{
		label: "file reads: tar of /usr/lib/python3.11 (1140 files, 27 MB)", unit: "ms", higher: false,
		server: []string{"sleep", "infinity"},
		client: func(smoke bool) []string {
			return timedShell("tar -C /usr/lib -cf - python3.11 | cat >/dev/null", pick(smoke, "1", "7"))
		},
		parse: parseElapsed,
	},
}

func pick(smoke bool, short, long string) string {
	if smoke {
		return short
	}
	return long
}

// timedShell runs script reps times in the container and prints each run's wall time in
// microseconds, measured inside by bash's clock (EPOCHREALTIME: no process started for the
// clock, so that only the script's own processes are in the measure).
func timedShell(script, reps string) []string {
	return []string{"bash", "-c", `for ((i = 0; i < ` + reps + `; i++)); do s=$EPOCHREALTIME; ` + script +
		`; e=$EPOCHREALTIME; echo elapsed_us=$(( ${e/./} - ${s/./} )); done`}
}

// parseElapsed is the median of timedShell's runs, in milliseconds.
func parseElapsed(out string) (float64, error) {
	var us []float64
	for _, m := range regexp.MustCompile(`elapsed_us=([0-9]+)`).FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		us = append(us, v)
	}
	if len(us) == 0 {
		return 0, fmt.Errorf("no elapsed_us in %q", tail(out))
	}
	slices.Sort(us)
	return us[len(us)/2] / 1000, nil
}

func parseFloatAfter(pattern string) func(string) (float64, error) {
	re := regexp.MustCompile(pattern)
	return func(out string) (float64, error) {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("no %s in %q", pattern, tail(out))
		}
		return strconv.ParseFloat(m[1], 64)
	}
}

// parseRedis sums redis-benchmark's GET and SET rates ("SET: 81234.56 requests per
// second, p50=...") as the mean of the two.
func parseRedis(out string) (float64, error) {
	re := regexp.MustCompile(`(SET|GET): ([0-9.]+) requests per second`)
	var sum float64
	ms := re.FindAllStringSubmatch(out, -1)
	for _, m := range ms {
		v, _ := strconv.ParseFloat(m[2], 64)
		sum += v
	}
	if len(ms) != 2 {
		return 0, fmt.Errorf("no GET and SET rates in %q", tail(out))
	}
	return sum / 2, nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = "…" + s[len(s)-300:]
	}
	return s
}

// appRuntime is a runtime the application section runs: its run command prefix (with the
// bench's global flags) and the bundle it gets.
type appRuntime struct {
	rc     runtimeCmd
	yoroi  bool
	bundle map[string]string // workload label -> bundle
}

// appPause is how long the next application run waits after a container was deleted:
// long enough that what a runtime leaves running for a while after its container (the
// Go runtime's sysmon of a monitor or shim that was busy, a sandbox's teardown) does not
// run beside the next runtime's workload. Without it the runtime after one that leaves
// such threads pays for them.
const appPause = 250 * time.Millisecond

// applications: measure 2, real applications under each runtime, with yoroi under its
// default policy; each round runs every runtime once, in a rotating order, and the report
// gives each one's median over the rounds and its ratios to runc's: of the medians, and
// paired by round.
func (b *bench) applications() {
	rootfs := filepath.Join(b.o.apps, "rootfs")
	if b.o.apps == "" {
		b.printf("## 2. Real applications\n\nskipped: no application image (-apps; make bench builds it)\n\n")
		return
	}
	if _, err := os.Stat(filepath.Join(rootfs, "usr/bin/wrk")); err != nil {
		b.printf("## 2. Real applications\n\nskipped: the application image has no wrk (%v)\n\n", err)
		return
	}
	// Every runtime runs the bundle as written (no seccomp profile), and runc also as
	// Docker runs it: with Docker's default seccomp profile, the runc most containers run
	// under (bundle "docker" below; the others leave it "").
	docker, err := dockerProfile()
	if err != nil {
		b.fail(err)
		b.printf("## 2. Real applications\n\nerror: %v\n\n", err)
		return
	}
	rts := []runtimeCmd{b.yoroiCmd(fullHardening, "")}
	if b.o.runcNew != "" {
		runc := b.runcCmd("")
		withProfile := runc
		withProfile.label, withProfile.bundle = runc.label+" + Docker's seccomp profile", "docker"
		rts = append(rts, runc, withProfile)
	}
	rts = append(rts, b.crunCmd(""))
	if b.o.runsc != "" {
		rts = append(rts, b.runscCmd(""))
	}
	rounds := appRounds
	if b.o.smoke {
		rounds = 1
	}
	// results[workload][runtime][round-1] are the rounds' numbers (0: the run failed).
	results := make([][][]float64, len(appWorkloads))
	errs := make([][]string, len(appWorkloads))
	for w := range appWorkloads {
		results[w] = make([][]float64, len(rts))
		for i := range rts {
			results[w][i] = make([]float64, rounds)
		}
		errs[w] = make([]string, len(rts))
	}
	for w, wl := range appWorkloads {
		bundle, err := b.makeBundle(fmt.Sprintf("app%d", w), rootfs, appSpec(wl, nil), wl.server...)
		if err != nil {
			b.fail(err)
			b.printf("## 2. Real applications\n\nerror: %v\n\n", err)
			return
		}
		dockerBundle, err := b.makeBundle(fmt.Sprintf("app%d-docker", w), rootfs, appSpec(wl, docker), wl.server...)
		if err != nil {
			b.fail(err)
			b.printf("## 2. Real applications\n\nerror: %v\n\n", err)
			return
		}
		// Round 0 warms the page cache and the dentry cache for all and is not counted.
		for round := 0; round <= rounds; round++ {
			for k := range rts {
				i := (k + round) % len(rts)
				r := rts[i]
				if r.bundle == "docker" {
					r.bundle = dockerBundle
				} else {
					r.bundle = bundle
				}
				v, err := b.appOnce(r, wl)
				time.Sleep(appPause)
				if err != nil {
					errs[w][i] = err.Error()
					b.fail(fmt.Errorf("%s %s: %w", r.label, wl.label, err))
					continue
				}
				if round > 0 {
					results[w][i][round-1] = v
				}
			}
		}
	}
	b.printf("## 2. Real applications: throughput and wall time (median of %d rounds after a warm-up round, interleaved, %s between runs)\n\n", rounds, ms(appPause))
	b.printf("Each server is the container's process; its client runs in the same container (an exec), on loopback in the container's network namespace. yoroi runs under its default policy (user namespace, read-only root, seccomp with its monitor, Landlock, capabilities clamped); the others run the bundle as written (no seccomp filter), and runc also with Docker's default seccomp profile, as Docker runs it.\n\n")
	b.printf("| workload | unit |")
	for _, r := range rts {
		b.printf(" %s |", r.label)
	}
	b.printf(" yoroi / runc | yoroi / runc, paired by round (95 %%) | yoroi / runc + Docker's profile | yoroi / runc + Docker's profile, paired by round (95 %%) | yoroi / runsc |\n|---|---|")
	for range rts {
		b.printf("---|")
	}
	b.printf("---|---|---|---|---|\n")
	for w, wl := range appWorkloads {
		b.printf("| %s | %s |", wl.label, wl.unit)
		meds := make([]float64, len(rts))
		for i := range rts {
			done := slices.DeleteFunc(slices.Clone(results[w][i]), func(v float64) bool { return v == 0 })
			if len(done) == 0 {
				b.printf(" error: %s |", oneLine(cmp.Or(errs[w][i], "no result")))
				continue
			}
			meds[i] = median(done)
			if wl.higher {
				b.printf(" %.0f |", meds[i])
			} else {
				b.printf(" %.1f |", meds[i])
			}
		}
		runc, docker := peerIndex(rts, "runc "), peerIndex(rts, "runc + ")
		b.printf(" %s | %s | %s | %s | %s |\n",
			perfRatio(wl.higher, meds, rts, "runc "), pairedPerf(wl.higher, results[w], runc),
			perfRatio(wl.higher, meds, rts, "runc + "), pairedPerf(wl.higher, results[w], docker),
			perfRatio(wl.higher, meds, rts, "runsc "))
	}
	b.printf("\nRatios are performance ratios: above 1 yoroi is faster (more requests per second, or less wall time). A paired ratio is the median of each round's ratio (the runtimes of a round ran one after the other), with a 95 %% interval from resampling the rounds: an interval that holds 1.00× cannot tell yoroi from the peer in this run.\n\n")
}

// appRounds is how many rounds the application section measures (after its warm-up
// round).
const appRounds = 7

// pairedPerf is yoroi's performance ratio to the peer at index peer (-1: none), paired by
// round: results[runtime][round], yoroi first.
func pairedPerf(higher bool, results [][]float64, peer int) string {
	if peer < 0 {
		return "–"
	}
	if higher {
		return pairedText(pairedRatio(results[0], results[peer]))
	}
	return pairedText(pairedRatio(results[peer], results[0]))
}

// perfRatio is yoroi's performance over a peer's (rates divided, times inverted), "–"
// when either is missing. The peer is the runtime whose label starts with peer, or with
// "runc + " the one whose label has it (runc with Docker's profile).
func perfRatio(higher bool, meds []float64, rts []runtimeCmd, peer string) string {
	y, p := meds[0], 0.0
	if i := peerIndex(rts, peer); i >= 0 {
		p = meds[i]
	}
	if y == 0 || p == 0 {
		return "–"
	}
	if higher {
		return fmt.Sprintf("%.2f×", y/p)
	}
	return fmt.Sprintf("%.2f×", p/y)
}

// peerIndex is the index in rts of the runtime whose label starts with peer, or with
// "runc + " of the one whose label has it (runc with Docker's profile); -1 if none.
func peerIndex(rts []runtimeCmd, peer string) int {
	for i, r := range rts {
		withProfile := strings.Contains(r.label, " + ")
		if peer == "runc + " && strings.HasPrefix(r.label, "runc ") && withProfile ||
			peer != "runc + " && strings.HasPrefix(r.label, peer) && !withProfile {
			return i
		}
	}
	return -1
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}

// appSpec makes the bundle an application's: a read-only root, tmpfs for /tmp, /run and
// what the workload writes, its own network namespace (loopback only), root in the
// container, no terminal, and seccomp as the profile given (nil: none).
func appSpec(wl appWorkload, seccomp any) func(map[string]any) {
	return func(s map[string]any) {
		if seccomp != nil {
			s["linux"].(map[string]any)["seccomp"] = seccomp
		}
		s["root"].(map[string]any)["readonly"] = true
		proc := s["process"].(map[string]any)
		proc["env"] = []any{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=dumb"}
		proc["cwd"] = "/"
		// Docker's default capabilities (nginx chowns its temporary directories and
		// switches its workers to www-data); yoroi clamps them to its allow-list.
		caps := []any{}
		for _, c := range []string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"} {
			caps = append(caps, "CAP_"+c)
		}
		proc["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps}
		mounts := s["mounts"].([]any)
		for _, d := range append([]string{"/tmp", "/run"}, wl.tmpfs...) {
			mounts = append(mounts, map[string]any{"destination": d, "type": "tmpfs", "source": "tmpfs",
				"options": []any{"nosuid", "nodev", "mode=1777", "size=256m"}})
		}
		s["mounts"] = mounts
		linux := s["linux"].(map[string]any)
		namespaces, _ := linux["namespaces"].([]any)
		hasNet := false
		for _, ns := range namespaces {
			if ns.(map[string]any)["type"] == "network" {
				hasNet = true
			}
		}
		if !hasNet {
			linux["namespaces"] = append(namespaces, map[string]any{"type": "network"})
		}
	}
}

// appOnce starts the workload's server under r, waits until it answers, runs the client
// in the container and returns its number; the container is removed either way.
func (b *bench) appOnce(r runtimeCmd, wl appWorkload) (float64, error) {
	root := filepath.Join(b.state, "state-apps-"+strings.Fields(r.label)[0])
	id := nextID("app")
	logFile, err := os.CreateTemp(b.work, "app-log-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(logFile.Name())
	defer logFile.Close()
	rt := func(args ...string) *exec.Cmd {
		cmd := exec.Command(r.binary, append(append(append([]string{}, r.args...), "--root", root), args...)...)
		cmd.Env = append(os.Environ(), r.env...)
		return cmd
	}
	run := rt("run", "--detach", "--bundle", r.bundle, id)
	// A file, not a pipe: the detached container inherits it.
	run.Stdout, run.Stderr = logFile, logFile
	if err := run.Run(); err != nil {
		log, _ := os.ReadFile(logFile.Name())
		return 0, fmt.Errorf("run: %v: %s", err, tail(string(log)))
	}
	defer func() {
		_ = rt("kill", id, "KILL").Run()
		for i := 0; i < 50; i++ {
			if rt("delete", "--force", id).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if len(wl.ready) > 0 {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if out, err := rt(append([]string{"exec", id}, wl.ready...)...).CombinedOutput(); err == nil && !strings.Contains(string(out), "refused") {
				break
			} else if time.Now().After(deadline) {
				log, _ := os.ReadFile(logFile.Name())
				return 0, fmt.Errorf("the server did not answer: %v: %s %s", err, tail(string(out)), tail(string(log)))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	client := rt(append([]string{"exec", id}, wl.client(b.o.smoke)...)...)
	var out bytes.Buffer
	client.Stdout, client.Stderr = &out, &out
	if err := client.Run(); err != nil {
		return 0, fmt.Errorf("client: %v: %s", err, tail(out.String()))
	}
	return wl.parse(out.String())
}
