package runtime

import (
	"errors"
	"fmt"
)

// ExitStatus is returned when yoroi itself must exit with a container process' status
// (run, exec, create of a process that already exited). It is not a failure to report.
type ExitStatus struct{ Code int }

func (e *ExitStatus) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// CodeOf returns the exit code yoroi should exit with for err: 0 for nil, the container's
// own status for *ExitStatus, 1 for everything else.
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	var es *ExitStatus
	if errors.As(err, &es) {
		return es.Code
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return 1
}

// IsExitStatus reports whether err only carries a container's exit status.
func IsExitStatus(err error) bool {
	var es *ExitStatus
	return errors.As(err, &es)
}

// codedError is a failure that must make yoroi exit with a specific code (runc exits 255
// when exec itself fails, to tell it apart from the exec'd process' own status).
type codedError struct {
	err  error
	code int
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

var errEmptyID = errors.New("container id cannot be empty")
