package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// Kill sends sig to the container's init (to every process when the container has no
// pid namespace of its own). With all, a container that is not running is not an error
// (what containerd's `runc kill --all` expects).
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	err = c.Signal(sig)
	if err == nil {
		r.auditBestEffort(audit.Event{Event: "kill", ID: id, Detail: unix.SignalName(sig)})
	}
	if errors.Is(err, libcontainer.ErrNotRunning) {
		if all {
			return nil
		}
		// runc's words ("container not running"): containerd's shim reads them to treat
		// the kill of an exited task as done.
		return fmt.Errorf("container %q: %w", id, libcontainer.ErrNotRunning)
	}
	return err
}

// ParseSignal accepts a number (0 too: it only checks that the process exists, as with
// runc), a name ("KILL") or a full name ("SIGKILL").
func ParseSignal(raw string) (unix.Signal, error) {
	if raw == "" {
		return unix.SIGTERM, nil
	}
	if n, err := strconv.Atoi(raw); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(raw)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	s := unix.SignalNum(name)
	if s == 0 {
		return 0, fmt.Errorf("unknown signal %q", raw)
	}
	return s, nil
}
