package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
	"github.com/yoroi-runtime/yoroi/runtime/internal/proctest"
)

// A workload looping on a denied syscall (or on execve) gets a burst of events, then a
// steady rate; the rest are counted in one summary, by key.
func TestBudget(t *testing.T) {
	b := newBudget(3, 1, "x-suppressed", "beyond")
	for i := range 3 {
		if !b.take() {
			t.Fatalf("token %d refused within the burst", i)
		}
	}
	for range 5 {
		if b.take() {
			t.Fatal("a token past the burst")
		}
		b.suppressed["kexec_load"]++
	}
	b.suppressed["bpf"]++
	ev := b.summary("c1")
	if ev == nil || ev.Count != 6 || ev.Event != "x-suppressed" || !strings.Contains(ev.Detail, "bpf=1,kexec_load=5") {
		t.Fatalf("summary %+v", ev)
	}
	if b.summary("c1") != nil {
		t.Error("a summary repeated")
	}
	b.refilled = time.Now().Add(-2 * time.Second)
	if !b.take() || !b.take() || b.take() {
		t.Error("the budget does not refill at its rate")
	}
}

// TestProcStatFollowsOneProcess: the stat descriptor the exec audit opens before an exec
// sees the process's image change at the exec, its zombie, and nothing once it is
// reaped (not whatever later gets the pid).
func TestProcStatFollowsOneProcess(t *testing.T) {
	cmd, stdin := proctest.StartThenExec(t, "sleep 0.2")
	stat, err := openProcStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer stat.close()
	before, ok := stat.image()
	if !ok || before.zombie || before.comm != "sh" {
		t.Fatalf("before the exec: %+v %v", before, ok)
	}
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		now, ok := stat.image()
		if !ok {
			t.Fatal("the process vanished before its exec")
		}
		if now.image != before.image && now.comm == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exec seen: %+v", now)
		}
		time.Sleep(time.Millisecond)
	}
	for {
		now, ok := stat.image()
		if !ok {
			t.Fatal("gone before it was reaped")
		}
		if now.zombie {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no exit seen")
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if now, ok := stat.image(); ok {
		t.Fatalf("a reaped process still reads: %+v", now)
	}
}

// TestExecOutcome: what one look at a process after its exec was let through says.
func TestExecOutcome(t *testing.T) {
	sh := procImage{image: "94000 140000", comm: "sh"}
	for _, tc := range []struct {
		name   string
		now    procImage
		ok     bool
		result string
		done   bool
	}{
		{"still the old image", sh, true, "", false},
		{"a new image", procImage{image: "95000 141000", comm: "true"}, true, "executed", true},
		{"a new image, comm not yet", procImage{image: "95000 141000", comm: "sh"}, true, "executed", true},
		{"exiting under the old name: not told yet", procImage{image: "0 0", comm: "sh", noMemory: true}, true, "", false},
		{"exiting under the new name", procImage{image: "0 0", comm: "true", noMemory: true}, true, "executed", true},
		{"a zombie of the new program", procImage{image: "0 0", comm: "true", zombie: true, noMemory: true}, true, "executed", true},
		{"a zombie of the old one: the exec failed", procImage{image: "0 0", comm: "sh", zombie: true, noMemory: true}, true, "failed", true},
		{"reaped", procImage{}, false, "exited", true},
	} {
		result, done := execOutcome(sh, tc.now, tc.ok, "true")
		if result != tc.result || done != tc.done {
			t.Errorf("%s: %q %v, want %q %v", tc.name, result, done, tc.result, tc.done)
		}
	}
	// A program of the same name: a zombie cannot tell, so it counts as exited.
	if result, _ := execOutcome(sh, procImage{comm: "sh", zombie: true}, true, "sh"); result != "exited" {
		t.Errorf("same-name zombie: %q", result)
	}
}

// An exec let through is audited once its result is known, through the watch that holds
// its process' stat; one whose stat could not be opened is audited at once, its result
// unknown, never left out of the audit.
func TestWatchExec(t *testing.T) {
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	m := &Monitor{cfg: Config{ID: "c1"}, log: audit.At(auditPath)}
	watch := &execWatch{}
	ev := audit.Event{ID: "c1", Pid: 42, Syscall: "execve"}
	m.watchExec(&execCall{path: "/bin/true", argv: []string{"true"}}, ev, watch)
	data, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatalf("an unwatchable exec was not audited: %v", err)
	}
	var got audit.Event
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Event != "execve" || got.Path != "/bin/true" || got.Result != execResultUnknown || len(watch.pending) != 0 {
		t.Errorf("unwatchable exec: audited %+v, %d watched", got, len(watch.pending))
	}

	cmd, _ := proctest.StartThenExec(t, "true")
	stat, err := openProcStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	m.watchExec(&execCall{path: "/bin/true", stat: stat}, ev, watch)
	if len(watch.pending) != 1 {
		t.Fatalf("a watchable exec is not watched (%d pending)", len(watch.pending))
	}
	watch.pending[0].stat.close()
	if after, _ := os.ReadFile(auditPath); len(after) != len(data) {
		t.Error("a watched exec was audited before its result was known")
	}
}

// The monitor's polling loops look often while what they wait for is quick and seldom
// once it is slow: the exec audit and the listener hand-off.
func TestLooks(t *testing.T) {
	for _, tc := range []struct {
		looks                 pace.Backoff
		waiting, waited, want time.Duration
	}{
		{execLooks, 250 * time.Microsecond, 0, 500 * time.Microsecond},
		{execLooks, time.Millisecond, 4 * time.Millisecond, time.Millisecond},
		{execLooks, time.Millisecond, 5 * time.Millisecond, 2 * time.Millisecond},
		{execLooks, 32 * time.Millisecond, time.Second, 50 * time.Millisecond},
		{listenerLooks, 50 * time.Microsecond, 0, 100 * time.Microsecond},
		{listenerLooks, 800 * time.Microsecond, 0, time.Millisecond},
		{listenerLooks, time.Millisecond, time.Second, time.Millisecond},
	} {
		if got := tc.looks.Next(tc.waiting, tc.waited); got != tc.want {
			t.Errorf("%+v.Next(%v, %v) = %v, want %v", tc.looks, tc.waiting, tc.waited, got, tc.want)
		}
	}
}
