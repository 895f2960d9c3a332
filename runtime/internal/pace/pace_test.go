package pace

import (
	"os"
	"testing"
	"time"
)

// Pause sleeps at least as long as asked, and below a millisecond not the millisecond
// Go's timers would take.
func TestPause(t *testing.T) {
	for _, d := range []time.Duration{50 * time.Microsecond, 2 * time.Millisecond} {
		began := time.Now()
		Pause(d)
		if got := time.Since(began); got < d {
			t.Errorf("Pause(%v) returned after %v", d, got)
		}
	}
}

// Until never reports a descriptor readable while nothing comes (waited to a deadline:
// a signal may end one wait early, as its contract says), and ends when its descriptor
// becomes readable, or hangs up.
func TestUntil(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for deadline := time.Now().Add(20 * time.Millisecond); time.Now().Before(deadline); {
		if Until(int(r.Fd()), time.Until(deadline)) {
			t.Fatal("Until reported an empty pipe readable")
		}
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Close() // a hang-up
	}()
	const long = time.Minute
	began := time.Now()
	ready := false
	for !ready && time.Since(began) < long {
		ready = Until(int(r.Fd()), long) // a signal may end a wait early: wait again
	}
	if !ready || time.Since(began) >= long {
		t.Fatalf("Until did not end at the hang-up (after %v)", time.Since(began))
	}
}
