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

// seccompOverhead: measure 3, what a call costs in the container under yoroi's built-in
// filter, Docker's profile and no filter, for a syscall allowed by its number (getppid)
// and for ones allowed by their arguments (personality, socket), which run the whole
// filter on every call. Each round runs every filter once, in a rotating order; the
// report gives each one's median over the rounds.
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
	filters := []struct {
		label string
		edit  func(map[string]any)
	}{
		{"no filter (relaxed profile)", annotate("relaxed")},
		{"yoroi's built-in filter", nil},
		{"Docker's default profile (minus yoroi's floor)", func(s map[string]any) { s["linux"].(map[string]any)["seccomp"] = docker }},
	}
	probes := []string{"getppid", "personality", "socket"}
	// ns[filter][probe] are the rounds' results.
	ns := make([][][]float64, len(filters))
	bundles := make([][]string, len(filters))
	errs := map[string]string{}
	for f := range filters {
		ns[f] = make([][]float64, len(probes))
		for _, probe := range probes {
			bundle, err := b.makeBundle(fmt.Sprintf("sys%d-%s", f, probe), b.rootfs, filters[f].edit, "/bin/testprog", "syscall", n, probe)
			if err != nil {
				b.printf("## 3. Syscall cost\n\nerror: %v\n\n", err)
				return
			}
			bundles[f] = append(bundles[f], bundle)
		}
	}
	for round := 0; round < rounds; round++ {
		for k := range filters {
			f := (k + round) % len(filters)
			for p := range probes {
				v, err := b.syscallCost(bundles[f][p])
				if err != nil {
					errs[filters[f].label] = err.Error()
					continue
				}
				ns[f][p] = append(ns[f][p], v)
			}
		}
	}
	b.printf("## 3. In-container syscall cost (ns per call, median of %d rounds of %s calls)\n\n", rounds, n)
	b.printf("| seccomp filter | getppid (allowed by number) | vs no filter | personality(query) (allowed by argument) | vs no filter | socket(AF_UNIX, bad type) (allowed by argument) | vs no filter |\n|---|---|---|---|---|---|---|\n")
	base := make([]float64, len(probes))
	for p := range probes {
		base[p] = median(ns[0][p])
	}
	for f, filter := range filters {
		if msg, ok := errs[filter.label]; ok {
			b.printf("| %s | error: %s | | | | | |\n", filter.label, msg)
			continue
		}
		b.printf("| %s", filter.label)
		for p := range probes {
			m := median(ns[f][p])
			b.printf(" | %.1f | %+.1f %%", m, 100*(m-base[p])/base[p])
		}
		b.printf(" |\n")
	}
	b.printf("\nThe kernel runs a new filter once per syscall number and architecture when it is attached and remembers the numbers it allows whatever the arguments (Linux 5.11+): those calls never run it again and cost what they cost without a filter, whatever the profile's size. A call allowed by its arguments runs the whole filter each time: yoroi's filter is built as libcontainer builds runc's (libseccomp's binary tree over the syscall numbers for profiles of more than 32 rules, behind the architecture checks), so that cost grows with the logarithm of the profile's length; docs/performance.md counts the instructions each probe runs.\n\n")

	// Filter build and install per create: the start latency with the built-in profile
	// against the same container with only seccomp relaxed.
	noFilter, _ := b.makeBundle("true-noseccomp", b.rootfs, annotate("no-seccomp"), "/bin/true")
	st := b.measureAll(b.yoroiCmd("yoroi", b.bundle), b.yoroiCmd("yoroi", noFilter))
	b.printf("Seccomp filter build and install per create (start latency with the built-in profile minus with no filter, nothing else relaxed; interleaved): %s (%s vs %s).\n\n",
		ms(st[0].median-st[1].median), ms(st[0].median), ms(st[1].median))
}

// syscallCost runs a bundle of testprog's "syscall N PROBE" and returns ns per call.
func (b *bench) syscallCost(bundle string) (float64, error) {
	cmd := exec.Command(b.o.yoroi, "--root", filepath.Join(b.state, "state-syscall"), "run", "--bundle", bundle, nextID("syscall"))
	cmd.Env = append(os.Environ(), b.yoroiEnv()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
