package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Peers' suites: runc's own integration tests (bats, from runc's module) and the OCI
// runtime-tools validation suite, run unmodified against runc and against yoroi in two
// configurations, in the same run:
//
//   - runc: the newest runc, the reference on this host;
//   - compat: yoroi with peers/compat.toml, which relaxes everything an administrator can;
//   - default: yoroi's built-in policy.
//
// peers/*.expect lists every test that is not expected to pass, per configuration, with
// how it fails and why. A listed test that passes, an unlisted one that fails, and one
// that fails differently (another assertion line, another refusal rule) fail the build.
// The Makefile prepares the suites (scripts/peer-suites.sh) and shows the totals.

// peerConfig is one configuration a suite runs under.
type peerConfig struct {
	name    string
	runtime string
	env     []string
}

// peerConfigs returns runc's and yoroi's two configurations, yoroi's confined to t's
// temporary directories (audit log, host-wide state). They run one after the other:
// runc's tests name their containers' cgroups after fixed container ids.
func peerConfigs(t *testing.T) []peerConfig {
	t.Helper()
	runc := os.Getenv("RUNC_NEWEST")
	if runc == "" {
		t.Fatal("RUNC_NEWEST is not set: run the integration tests with make integration")
	}
	state := privateDir(t)
	base := fmt.Sprintf("[audit]\npath = %q\n\n[runtime]\nstate_dir = %q\n", filepath.Join(t.TempDir(), "audit.jsonl"), filepath.Join(state, "yoroi"))
	compat, err := os.ReadFile("peers/compat.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// yoroi runs as a drop-in does, installed under runc's name: it then speaks as runc in
	// its help, version and error lines, and its sealed binary is named runc too.
	dropIn := installAs(t, yoroiBin, "runc")
	return []peerConfig{
		{name: "runc", runtime: runc},
		{name: "compat", runtime: dropIn, env: []string{"YOROI_CONFIG=" + write("compat.toml", base+"\n"+string(compat))}},
		{name: "default", runtime: dropIn, env: []string{"YOROI_CONFIG=" + write("default.toml", base)}},
	}
}

// installAs copies the binary at src to a directory of its own under the name name.
func installAs(t *testing.T, src, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// peerEnv returns the directory that env var names (prepared by make), or fails.
func makeEnv(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv(name)
	if dir == "" {
		t.Fatalf("%s is not set: run the integration tests with make integration (it builds the peers' suites, engines and images the tests use and names them)", name)
	}
	return dir
}

// peerResult is how one test of a suite ended.
type peerResult struct {
	name    string
	outcome string // "pass", "fail" or "skip"
	detail  string // a failure's diagnostic lines
}

// expectation is one line of an .expect file: configs, test, how it fails, why.
type expectation struct {
	configs   []string
	name      string
	signature string
	reason    string
	line      int
}

// peerConfigNames are the configurations runc's suites run under (peerConfigs).
var peerConfigNames = []string{"runc", "compat", "default"}

// readExpectations parses an .expect file, whose configurations are among configs (the
// first, runc, being the baseline): tab-separated "configs, test, signature,
// reason" lines; # starts a comment. The signature is how the test fails: "refused:RULE"
// (yoroi's refusal line names RULE), "line:N" (the suite's assertion at line N failed),
// "not-ok:…" or "exit" (a validation binary), or "flaky" (passes or fails by timing on
// this host, for every runtime).
func readExpectations(t *testing.T, path string, configs ...string) []expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		l := s.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fields := strings.Split(l, "\t")
		if len(fields) != 4 || fields[3] == "" {
			t.Fatalf("%s:%d: want 4 tab-separated fields (configs, test, signature, reason): %q", path, n, l)
		}
		e := expectation{configs: strings.Split(fields[0], ","), name: fields[1], signature: fields[2], reason: fields[3], line: n}
		for _, c := range e.configs {
			if !slices.Contains(configs, c) {
				t.Fatalf("%s:%d: unknown configuration %q", path, n, c)
			}
		}
		// Every reason says whose it is: "host:" (what this host lacks) and "runc too:"
		// (the suite fails runc the same way) are expected of runc too, in the same run;
		// "yoroi:" names the rule that refuses or the tightening met.
		switch {
		case strings.HasPrefix(e.reason, "host:") || strings.HasPrefix(e.reason, "runc too:"):
			if !slices.Contains(e.configs, "runc") {
				t.Fatalf("%s:%d: %q must be expected of runc too", path, n, e.reason)
			}
		case strings.HasPrefix(e.reason, "yoroi:"):
			if slices.Contains(e.configs, "runc") {
				t.Fatalf("%s:%d: a yoroi reason for runc", path, n)
			}
		default:
			t.Fatalf("%s:%d: the reason must start with host:, runc too: or yoroi:", path, n)
		}
		out = append(out, e)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// signatureOf tells how a failed test failed: the rule of yoroi's refusal line when there
// is one, otherwise sig (the suite's own account: the failed assertion's line).
func signatureOf(detail, sig string) string {
	if m := refusalRule.FindStringSubmatch(detail); m != nil {
		return "refused:" + m[1]
	}
	return sig
}

var refusalRule = regexp.MustCompile(`refused by rule ([a-z0-9_.-]+)`)

// compareExpectations checks results against the expectations of config and returns the
// totals line.
func compareExpectations(t *testing.T, suite, config string, results []peerResult, exps []expectation, signature func(peerResult) string) string {
	t.Helper()
	want := map[string]expectation{}
	for _, e := range exps {
		if slices.Contains(e.configs, config) {
			if _, dup := want[e.name]; dup {
				t.Errorf("%s: %q is listed twice for %s", suite, e.name, config)
			}
			want[e.name] = e
		}
	}
	var passed, failed, skipped int
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.name] = true
		e, listed := want[r.name]
		switch r.outcome {
		case "skip":
			skipped++
			if listed {
				t.Errorf("%s %s: %q is skipped but expected to fail (line %d): update the expectations", suite, config, r.name, e.line)
			}
		case "pass":
			passed++
			if listed && e.signature != "flaky" {
				t.Errorf("%s %s: %q now passes: remove it from the expectations (line %d: %s)", suite, config, r.name, e.line, e.reason)
			}
		case "fail":
			failed++
			sig := signature(r)
			switch {
			case !listed:
				t.Errorf("%s %s: %q fails (%s) and is not expected to:\n%s", suite, config, r.name, sig, r.detail)
			case sig != e.signature && e.signature != "flaky":
				t.Errorf("%s %s: %q fails differently: %s, expected %s (line %d):\n%s", suite, config, r.name, sig, e.signature, e.line, r.detail)
			}
		}
	}
	for name, e := range want {
		if !seen[name] {
			t.Errorf("%s %s: %q (expectations line %d) did not run", suite, config, name, e.line)
		}
	}
	return fmt.Sprintf("%s, %s: %d passed, %d failed, %d skipped", suite, config, passed, failed, skipped)
}

// recordTotals appends line to the totals the Makefile shows after the run.
func recordTotals(t *testing.T, line string) {
	t.Helper()
	t.Log(line)
	dir := os.Getenv("PEER_RESULTS")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "totals.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// keepOutput saves a suite's raw output beside the totals.
func keepOutput(name string, data []byte) {
	if dir := os.Getenv("PEER_RESULTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
}

// TestRuncBats runs runc's own integration suite (tests/integration/*.bats of the runc
// version yoroi is built on) against runc and yoroi.
func TestRuncBats(t *testing.T) {
	bats := makeEnv(t, "BATS")
	suite := filepath.Join(makeEnv(t, "RUNC_TESTS"), "tests", "integration")
	exps := readExpectations(t, "peers/runc-bats.expect", peerConfigNames...)
	for _, cfg := range peerConfigs(t) {
		t.Run(cfg.name, func(t *testing.T) {
			out := runBats(t, bats, suite, cfg)
			keepOutput("runc-bats-"+cfg.name+".tap", out)
			results := parseBatsTAP(string(out))
			if len(results) == 0 {
				t.Fatalf("no results from bats:\n%s", out)
			}
			totals := compareExpectations(t, "runc bats", cfg.name, results, exps, func(r peerResult) string {
				return signatureOf(r.detail, batsFailedLine(r.detail))
			})
			recordTotals(t, totals)
		})
	}
}

// runBats runs the whole suite under script(1): runc's tty tests need a controlling
// terminal whose input never ends (the pipe stays open until bats exits).
func runBats(t *testing.T, bats, suite string, cfg peerConfig) []byte {
	t.Helper()
	// The containers of runc's userns tests walk to their bundle as an unprivileged user.
	tmp := privateDir(t)
	// A network namespace of its own, with loopback only: runc's tests create network
	// devices by fixed names, and nothing may leave the host (spec.bats clones from
	// github.com: it fails here, for runc as for yoroi). tini, a child subreaper, reaps
	// the processes the tests' containers leave behind at once: this VM's pid 1 reaps
	// them late, and runc's host-pidns tests check with kill -0 that they are gone.
	cmd := exec.Command("unshare", "--net", "tini", "-s", "--", "script", "-qfec", bats+" --tap --timing .", "/dev/null")
	cmd.Dir = suite
	cmd.Env = append(os.Environ(), append([]string{"RUNC=" + cfg.runtime, "TMPDIR=" + tmp}, cfg.env...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	planned, done := 0, 0
	var reaper *time.Timer
	s := bufio.NewScanner(stdout)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		l := strings.TrimRight(s.Text(), "\r")
		out.WriteString(l + "\n")
		if n, ok := strings.CutPrefix(l, "1.."); ok && planned == 0 {
			fmt.Sscanf(n, "%d", &planned)
		}
		if batsLine.MatchString(l) {
			done++
		}
		if planned > 0 && done == planned && reaper == nil {
			// Every test has reported. A helper a failed test left behind (a recvtty
			// waiting for a container yoroi refused) holds bats' output open: stop
			// it, by the pid file the suite wrote in this run's directory.
			reaper = time.AfterFunc(20*time.Second, func() { stopLeftoverHelpers(t, tmp) })
		}
	}
	err = cmd.Wait()
	if reaper != nil {
		reaper.Stop()
	}
	t.Logf("bats with %s: %d of %d tests reported in %v (%v)", cfg.name, done, planned, time.Since(start).Round(time.Second), err)
	return []byte(out.String())
}

// stopLeftoverHelpers kills the recvtty processes runc's suite started under dir and did
// not stop, as named by their pid files.
func stopLeftoverHelpers(t *testing.T, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "pid") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var pid int
		if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d", &pid); err != nil || pid <= 1 {
			return nil
		}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmdline), "recvtty") && strings.Contains(string(cmdline), dir) {
			t.Logf("stopping a recvtty the suite left running (pid %d, %s)", pid, path)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return nil
	})
}

var (
	batsLine     = regexp.MustCompile(`^(not ok|ok) \d+ (.*?)(?: in \d+ms)?(?: # skip.*)?$`)
	batsSkip     = regexp.MustCompile(`^ok \d+ .* # skip`)
	batsTestLine = regexp.MustCompile(`in test file \S+, line (\d+)\)`)
)

// parseBatsTAP reads bats' TAP output; a test name that repeats (in another file) gets
// " (2)" and so on.
func parseBatsTAP(out string) []peerResult {
	var res []peerResult
	count := map[string]int{}
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if m := batsLine.FindStringSubmatch(l); m != nil {
			name := strings.TrimSuffix(m[2], " # skip")
			if i := strings.Index(name, " # skip"); i >= 0 {
				name = name[:i]
			}
			count[name]++
			if n := count[name]; n > 1 {
				name = fmt.Sprintf("%s (%d)", name, n)
			}
			r := peerResult{name: name, outcome: "pass"}
			switch {
			case m[1] == "not ok":
				r.outcome = "fail"
			case batsSkip.MatchString(l):
				r.outcome = "skip"
			}
			res = append(res, r)
			continue
		}
		if len(res) > 0 && res[len(res)-1].outcome == "fail" && strings.HasPrefix(l, "#") {
			res[len(res)-1].detail += l + "\n"
		}
	}
	return res
}

// batsFailedLine is the line of the test file whose assertion failed.
func batsFailedLine(detail string) string {
	if m := batsTestLine.FindStringSubmatch(detail); m != nil {
		return "line:" + m[1]
	}
	return "unknown"
}

// TestRuntimeToolsValidation runs every binary of the OCI runtime-tools validation suite
// against runc and yoroi. A binary passes when it exits 0 with no "not ok" line.
func TestRuntimeToolsValidation(t *testing.T) {
	dir := makeEnv(t, "RUNTIME_TOOLS")
	exps := readExpectations(t, "peers/runtime-tools.expect", peerConfigNames...)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var binaries []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 && e.Name() != "runtimetest" {
			binaries = append(binaries, e.Name())
		}
	}
	sort.Strings(binaries)
	for _, cfg := range peerConfigs(t) {
		t.Run(cfg.name, func(t *testing.T) {
			var results []peerResult
			var all strings.Builder
			for _, b := range binaries {
				r := runValidation(t, dir, b, cfg)
				fmt.Fprintf(&all, "### %s: %s\n%s\n", b, r.outcome, r.detail)
				results = append(results, r)
			}
			keepOutput("runtime-tools-"+cfg.name+".txt", []byte(all.String()))
			totals := compareExpectations(t, "runtime-tools validation", cfg.name, results, exps, func(r peerResult) string {
				return signatureOf(r.detail, validationSignature(r.detail))
			})
			recordTotals(t, totals)
		})
	}
}

// runValidation runs one validation binary in the suite's directory (it copies
// runtimetest and extracts rootfs-amd64.tar.gz from there).
func runValidation(t *testing.T, dir, binary string, cfg peerConfig) peerResult {
	t.Helper()
	// Its bundles (ocitestNNN) in a directory of the test's, and whatever a container
	// left mounted beneath them (a shared root's propagated mounts) taken down after it,
	// or they stay on the host's /tmp.
	tmp := privateDir(t)
	defer unmountBeneath(t, tmp)
	cmd := exec.Command(filepath.Join(dir, binary))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"RUNTIME=" + cfg.runtime, "TMPDIR=" + tmp}, cfg.env...)...)
	cmd.Stdin = nil
	out, err := runWithTimeout(cmd, 2*time.Minute)
	r := peerResult{name: binary, outcome: "pass", detail: string(out)}
	if err != nil || validationNotOK.Match(out) {
		r.outcome = "fail"
		if err != nil {
			r.detail += "\n(" + err.Error() + ")"
		}
	}
	return r
}

// unmountBeneath takes down every mount at or beneath dir, deepest first.
func unmountBeneath(t *testing.T, dir string) {
	t.Helper()
	mounts := mountsUnder(t, dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		if f := strings.Fields(mounts[i]); len(f) > 4 {
			if err := unix.Unmount(f[4], unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
				t.Errorf("unmount %s: %v", f[4], err)
			}
		}
	}
}

// validationSignature is the first failed assertion of a validation binary, without its
// number; "exit" when it failed before reporting any.
func validationSignature(detail string) string {
	if m := validationFirstNotOK.FindStringSubmatch(detail); m != nil {
		return "not-ok:" + m[1]
	}
	return "exit"
}

var (
	validationNotOK      = regexp.MustCompile(`(?m)^not ok`)
	validationFirstNotOK = regexp.MustCompile(`(?m)^not ok \d+ - (.*)$`)
)

// runWithTimeout runs cmd and kills it (by its pid) if it outlives d.
func runWithTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var buf strings.Builder
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	return []byte(buf.String()), err
}
