package runtime

import (
	"strings"
	"testing"
	"time"
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
