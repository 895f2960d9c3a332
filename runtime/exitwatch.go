package runtime

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
)

// exitWatch is how the posture check waits on the process it checks, and delete on a
// container's killed init: a pidfd of it, which polls readable once the process has
// exited (a zombie, or reaped), so that a wait ends when the process does. With sleeps
// instead, a workload that exited during the check (a short-lived command: `docker run
// --rm … true`, a job, an exec probe) held its `run` for the rest of the check's pause
// (up to 2 ms) and then for a millisecond's sleep per look until it was a zombie, after
// its exit: about 1.5 ms of such a start here. Where there is no pidfd (Linux < 5.3),
// the waits are sleeps.
type exitWatch struct {
	fd int
	// exited: the process was already gone (or its pid another's) when the watch began.
	exited bool
}

// watchExit watches the process pid that started at start (processStart). The pidfd is
// of whatever process has the pid when it is opened: the start is read again after, so
// that a pid reused in between counts as the process having exited.
func watchExit(pid int, start string) *exitWatch {
	fd, err := unix.PidfdOpen(pid, 0) // close-on-exec, as every pidfd is
	if err != nil {
		return &exitWatch{fd: -1}
	}
	if again, err := processStart(pid); err != nil || again != start {
		unix.Close(fd)
		return &exitWatch{fd: -1, exited: true}
	}
	return &exitWatch{fd: fd}
}

// close releases the pidfd.
func (w *exitWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// pause waits up to d, less if the process exits, and reports whether it has exited (as
// far as the watch tells: false after a plain sleep, or a wait a signal ended early).
func (w *exitWatch) pause(d time.Duration) bool {
	switch {
	case w.exited:
		return true
	case w.fd < 0:
		pace.Pause(d)
		return false
	}
	return pace.Until(w.fd, d)
}

// exitedWithin reports whether the process started at start is gone or a zombie, or
// becomes one within d.
func (w *exitWatch) exitedWithin(pid int, start string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if again, err := processStart(pid); err != nil || again != start {
			return true
		}
		if st, err := readStatus(pid); err != nil || st.state == "Z" || st.state == "X" {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		// With a pidfd one wait is enough but for a signal ending it early; without,
		// a look every millisecond.
		if w.fd < 0 {
			left = min(left, time.Millisecond)
		}
		if w.pause(left) {
			return true
		}
	}
}

// processStart is the start time of pid (field 22 of /proc/PID/stat), which tells a
// process from a later one with the same pid.
func processStart(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", errors.New("malformed stat")
	}
	return f[19], nil
}
