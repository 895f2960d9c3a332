package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// telemetryCost: measure 8, what the container's monitor (seccomp denials, execve audit)
// and the Landlock allow-lists cost, each as a ratio against the same container without
// them, in this run.
func (b *bench) telemetryCost() {
	calls, execs := "1000000", "300"
	if b.o.smoke {
		calls, execs = "10000", "10"
	}
	type row struct {
		label, unit       string
		args              []string
		without, with     string // profiles ("" : the default policy)
		withoutLabel, wLb string
	}
	rows := []row{
		{"allowed syscall (getppid)", "ns", []string{"getppid", calls}, "no-telemetry", "", "telemetry off", "on"},
		{"denied syscall (kexec_load, EPERM)", "ns", []string{"denied", calls}, "no-telemetry", "", "telemetry off", "on: audited"},
		{"clone3, answered ENOSYS (glibc's first try at every thread)", "ns", []string{"syscall", calls, "clone3"}, "no-telemetry", "", "telemetry off", "on: not audited"},
		{"execve of /bin/true (fork, exec, wait)", "µs", []string{"exec", execs, "/bin/true"}, "no-telemetry", "", "exec audit off", "on: audited"},
		{"execve of /bin/true with 200 arguments (a compiler's or xargs' command line)", "µs", append([]string{"exec", execs, "/bin/true"}, manyArgs(200)...), "no-telemetry", "", "exec audit off", "on: audited"},
		{"open+close of /etc/passwd", "ns", []string{"open", calls, "/etc/passwd"}, "", "lists", "no allow-lists", "files.exec/read/write"},
	}
	b.printf("## 8. Telemetry and allow-lists, against the same container without them\n\n")
	b.printf("| measure | without | with | with / without |\n|---|---|---|---|\n")
	for i, r := range rows {
		without, err1 := b.testprog(fmt.Sprintf("tele%dw", i), r.without, r.args)
		with, err2 := b.testprog(fmt.Sprintf("tele%d", i), r.with, r.args)
		if err1 != nil || err2 != nil {
			b.fail(fmt.Errorf("%s: %v %v", r.label, err1, err2))
			b.printf("| %s | error: %v %v | | |\n", r.label, err1, err2)
			continue
		}
		b.printf("| %s | %.1f %s (%s) | %.1f %s (%s) | %.2f× |\n", r.label, without, r.unit, r.withoutLabel, with, r.unit, r.wLb, with/without)
	}
	// The monitor (served by the attached run) and the allow-lists' rules, per create.
	off, _ := b.makeBundle("true-no-telemetry", b.rootfs, annotate("no-telemetry"), "/bin/true")
	lists, _ := b.makeBundle("true-lists", b.rootfs, annotate("lists"), "/bin/true")
	st := b.measureAll(b.yoroiCmd("yoroi", b.bundle), b.yoroiCmd("yoroi", off), b.yoroiCmd("yoroi", lists))
	on, noMon, withLists := st[0], st[1], st[2]
	b.printf("| start latency of /bin/true (`run`) | %s (telemetry off) | %s (on: the monitor, served by `run`) | %s |\n", ms(noMon.median), ms(on.median), ratio(on.median, noMon.median))
	b.printf("| start latency of /bin/true (`run`) | %s (no allow-lists) | %s (files.exec/read/write) | %s |\n\n", ms(on.median), ms(withLists.median), ratio(withLists.median, on.median))
	b.printf("Allowed syscalls never reach the monitor (its filter differs only in what denials return), nor do calls answered ENOSYS; a denied syscall and an execve make a round trip to it.\n\n")
}

// manyArgs are n arguments of a command line: "argument-1" ….
func manyArgs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "argument-" + strconv.Itoa(i+1)
	}
	return out
}

// testprog runs /bin/testprog args in a container under profile and returns the number
// it prints.
func (b *bench) testprog(name, profile string, args []string) (float64, error) {
	var edit func(map[string]any)
	if profile != "" {
		edit = annotate(profile)
	}
	bundle, err := b.makeBundle(name, b.rootfs, edit, append([]string{"/bin/testprog"}, args...)...)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(b.o.yoroi, "--root", filepath.Join(b.state, "state-telemetry"), "run", "--bundle", bundle, nextID(name))
	cmd.Env = append(os.Environ(), b.yoroiEnv()...)
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%v %s", err, out)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}
