package runtime

import (
	"time"

	"github.com/sirupsen/logrus"
)

// timed starts the clock on one step of a container's life and returns what stops it:
// at debug level the step's duration is logged ("timing", with the container id, the
// step and microseconds), which is how `make bench` attributes a start (--debug
// --log-format json). It costs a clock read when debug logging is off.
func timed(id, step string) func() {
	if !logrus.IsLevelEnabled(logrus.DebugLevel) {
		return func() {}
	}
	start := time.Now()
	return func() {
		logrus.WithFields(logrus.Fields{"id": id, "step": step, "us": time.Since(start).Microseconds()}).Debug("timing")
	}
}
