package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// seccompOverhead: measure 3, what a call costs in the container under no filter at all
// (runc, the bundle as written), yoroi's deny floor alone (an allow-all profile), yoroi's
// built-in filter, Docker's profile under yoroi and Docker's profile under runc, for a
// syscall allowed by its number (getppid) and for ones allowed by their arguments
// (personality, socket), which run the whole filter on every call. Each round runs every
// variant once, in a rotating order; the report gives each one's median over the rounds,
// and its difference from the first row, the one without a filter (yoroi's floor alone
// when there is no runc to run it).
func (b *bench) seccompOverhead() {
	n, rounds := "1000000", 7
	if b.o.smoke {
		n, rounds = "10000", 1
	}
	docker, err := dockerProfile()
	if err != nil {
		b.printf("## 3. Syscall cost\n\nskipped: %v\n\n", err)
		return
	}
	withDocker := func(s map[string]any) { s["linux"].(map[string]any)["seccomp"] = docker }
	// Each variant is a runtime (its bundle filled in per probe) and the edit of its spec.
	type variant struct {
		rt   runtimeCmd
		edit func(map[string]any)
	}
	runc := func(label string) runtimeCmd { return runtimeCmd{label, b.o.runcNew, nil, nil, ""} }
	runcName := "runc " + version(b.o.runcNew)
	var variants []variant
	if b.o.runcNew != "" {
		variants = append(variants, variant{runc("no filter (" + runcName + ", the bundle as written)"), nil})
	}
	variants = append(variants,
		variant{b.yoroiCmd("yoroi's deny floor alone (allow-all profile, relaxed)", ""), annotate("relaxed")},
		variant{b.yoroiCmd("yoroi's built-in filter", ""), nil},
		variant{b.yoroiCmd("Docker's default profile under yoroi (minus yoroi's floor)", ""), withDocker})
	if b.o.runcNew != "" {
		variants = append(variants, variant{runc("Docker's default profile under " + runcName), withDocker})
	}
	probes := []string{"getppid", "personality", "socket"}
	// ns[variant][probe] are the rounds' results.
	ns := make([][][]float64, len(variants))
	bundles := make([][]string, len(variants))
	errs := map[string]string{}
	for v := range variants {
		ns[v] = make([][]float64, len(probes))
		for _, probe := range probes {
			bundle, err := b.makeBundle(fmt.Sprintf("sys%d-%s", v, probe), b.rootfs, variants[v].edit, "/bin/testprog", "syscall", n, probe)
			if err != nil {
				b.fail(err)
				b.printf("## 3. Syscall cost\n\nerror: %v\n\n", err)
				return
			}
			bundles[v] = append(bundles[v], bundle)
		}
	}
	// How many filters each variant's process has, as its kernel status says: the first
	// row is the baseline only if it has none.
	filters := make([]string, len(variants))
	for v := range variants {
		filters[v] = "?"
		bundle, err := b.makeBundle(fmt.Sprintf("sys%d-filters", v), b.rootfs, variants[v].edit, "/bin/busybox", "grep", "^Seccomp_filters:", "/proc/self/status")
		if err != nil {
			b.fail(err)
			b.printf("## 3. Syscall cost\n\nerror: %v\n\n", err)
			return
		}
		rt := variants[v].rt
		rt.bundle = bundle
		if out, err := b.runOutput(rt); err == nil {
			filters[v] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Seccomp_filters:"))
		} else {
			errs[rt.label] = err.Error()
		}
	}
	for round := 0; round < rounds; round++ {
		for k := range variants {
			v := (k + round) % len(variants)
			for p := range probes {
				rt := variants[v].rt
				rt.bundle = bundles[v][p]
				cost, err := b.syscallCost(rt)
				if err != nil {
					b.fail(err)
					errs[rt.label] = err.Error()
					continue
				}
				ns[v][p] = append(ns[v][p], cost)
			}
		}
	}
	b.printf("## 3. In-container syscall cost (ns per call, median of %d rounds of %s calls)\n\n", rounds, n)
	b.printf("| seccomp filter | filters on the process | getppid (allowed by number) | vs first row | personality(query) (allowed by argument) | vs first row | socket(AF_UNIX, bad type) (allowed by argument) | vs first row |\n|---|---|---|---|---|---|---|---|\n")
	base := make([]float64, len(probes))
	for p := range probes {
		base[p] = median(ns[0][p])
	}
	for v, variant := range variants {
		label := variant.rt.label
		if msg, ok := errs[label]; ok {
			b.printf("| %s | error: %s | | | | | | |\n", label, msg)
			continue
		}
		b.printf("| %s | %s", label, filters[v])
		for p := range probes {
			m := median(ns[v][p])
			b.printf(" | %.1f | %+.1f %%", m, 100*(m-base[p])/base[p])
		}
		b.printf(" |\n")
	}
	if filters[0] != "0" {
		b.printf("\nThe first row is not a process without a filter (%s): the differences are not a filter's cost.\n", filters[0])
	}
	b.printf("\nA task with any seccomp filter enters every syscall by the kernel's slow path (`syscall_trace_enter`, `__secure_computing`, `populate_seccomp_data`): that is what the deny floor alone costs over no filter, for every call. The kernel runs a new filter once per syscall number and architecture when it is attached and remembers the numbers it allows whatever the arguments (Linux 5.11+): those calls never run the filter again, and cost the same under every profile, whatever its size. A call allowed by its arguments runs the whole filter each time: yoroi's filter is built as libcontainer builds runc's (libseccomp's binary tree over the syscall numbers for profiles of more than 32 rules, behind the architecture checks); docs/performance.md counts the instructions each probe runs and what they cost.\n\n")

	// Filter build and install per create: the start latency with the built-in profile
	// against the same container with only seccomp relaxed.
	noFilter, _ := b.makeBundle("true-noseccomp", b.rootfs, annotate("no-seccomp"), "/bin/true")
	st := b.measureAll(b.yoroiCmd("yoroi", b.bundle), b.yoroiCmd("yoroi", noFilter))
	b.printf("Seccomp filter build and install per create (start latency with the built-in profile minus with the deny floor alone, nothing else relaxed; interleaved): %s (%s vs %s).\n\n",
		ms(st[0].median-st[1].median), ms(st[0].median), ms(st[1].median))
}

// syscallCost runs rt, a bundle of testprog's "syscall N PROBE", and returns ns per call.
func (b *bench) syscallCost(rt runtimeCmd) (float64, error) {
	out, err := b.runOutput(rt)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(out), 64)
}

// runOutput runs rt's bundle and returns what it printed.
func (b *bench) runOutput(rt runtimeCmd) (string, error) {
	root := filepath.Join(b.state, "state-syscall-"+filepath.Base(rt.binary))
	cmd := exec.Command(rt.binary, append(append([]string{}, rt.args...), "--root", root, "run", "--bundle", rt.bundle, nextID("syscall"))...)
	cmd.Env = append(os.Environ(), rt.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
