package runtime

import (
	"errors"
	"testing"
	"time"
)

// A check run beside the wait: its failure reaches the wait at once (which kills the
// process), and the wait for the process's exit stops a check still waiting for it.
func TestPostureCheckBeside(t *testing.T) {
	bad := errors.New("posture check failed: / is mounted writable")
	c := startPostureCheck(func(gone <-chan struct{}) error { return bad })
	select {
	case <-c.failed():
	case <-time.After(5 * time.Second):
		t.Fatal("a failed check did not say so before the process exited")
	}
	if err := c.wait(); !errors.Is(err, bad) {
		t.Errorf("wait: %v, want %v", err, bad)
	}

	c = startPostureCheck(func(gone <-chan struct{}) error {
		<-gone // waiting for an execve that never comes
		return nil
	})
	select {
	case <-c.failed():
		t.Fatal("a check that did not fail said it failed")
	case <-time.After(20 * time.Millisecond):
	}
	if err := c.wait(); err != nil {
		t.Errorf("wait: %v", err)
	}

	var none *postureCheck
	if none.failed() != nil || none.wait() != nil {
		t.Error("no check: a channel or an error")
	}
}
