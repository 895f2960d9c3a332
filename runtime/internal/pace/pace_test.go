package pace

import (
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
