package runtime

import (
	"os/exec"
	"testing"
	"time"
)

// sleeper starts a process that lives until killed, and its start time.
func sleeper(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	start, err := processStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, start
}

// TestExitWatchEndsAtExit: a pause ends when the process exits (here a zombie, not yet
// reaped, as the container's process is until the wait beside the check reaps it), not
// when its duration has passed; it runs its duration while the process lives.
func TestExitWatchEndsAtExit(t *testing.T) {
	cmd, start := sleeper(t)
	w := watchExit(cmd.Process.Pid, start)
	defer w.close()
	if w.fd < 0 || w.exited {
		t.Fatalf("no pidfd of a live process: %+v", w)
	}
	if w.pause(20 * time.Millisecond) {
		t.Fatal("pause reported an exit of a live process")
	}
	if w.exitedWithin(cmd.Process.Pid, start, 0) {
		t.Fatal("exitedWithin reported a live process gone")
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = cmd.Process.Kill()
	}()
	const long = time.Minute
	began := time.Now()
	exited := false
	for !exited && time.Since(began) < long {
		exited = w.pause(long) // a signal may end a pause early: pause again
	}
	if !exited || time.Since(began) >= long {
		t.Fatalf("pause did not end at the process' exit (exited %v after %v)", exited, time.Since(began))
	}
	if !w.exitedWithin(cmd.Process.Pid, start, long) {
		t.Fatal("exitedWithin reported an exited process alive")
	}
}

// TestExitWatchExitedWithin: exitedWithin returns at the exit, well before its bound,
// and without a pidfd still sees it by looking.
func TestExitWatchExitedWithin(t *testing.T) {
	for _, pidfd := range []bool{true, false} {
		cmd, start := sleeper(t)
		w := watchExit(cmd.Process.Pid, start)
		if !pidfd {
			w.close() // as on a kernel without pidfds: looks every millisecond
		}
		go func() {
			time.Sleep(30 * time.Millisecond)
			_ = cmd.Process.Kill()
		}()
		const long = time.Minute
		began := time.Now()
		if !w.exitedWithin(cmd.Process.Pid, start, long) || time.Since(began) >= long {
			t.Errorf("pidfd %v: exitedWithin did not see the exit (after %v)", pidfd, time.Since(began))
		}
		w.close()
	}
}

// TestExitWatchOtherProcess: a start that is not the pid's (the pid reused since it was
// read) is a process that has exited.
func TestExitWatchOtherProcess(t *testing.T) {
	cmd, _ := sleeper(t)
	w := watchExit(cmd.Process.Pid, "1")
	defer w.close()
	if !w.exited || !w.pause(time.Minute) {
		t.Fatalf("a reused pid's watch: %+v, want exited", w)
	}
}
