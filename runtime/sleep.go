package runtime

import (
	"time"

	"golang.org/x/sys/unix"
)

// pause sleeps for d. Go's timers wake an idle program no sooner than a millisecond
// later (its poller waits in whole milliseconds): a 50 µs time.Sleep takes about 1.1 ms.
// The short waits of a start (the monitor taking a launcher's listener, the posture
// check waiting for the workload's execve) are on its critical path, so below a
// millisecond the calling thread sleeps in the kernel instead.
func pause(d time.Duration) {
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	for {
		err := unix.Nanosleep(&ts, &ts)
		if err != unix.EINTR {
			return
		}
	}
}

// backoff spaces the looks of a polling loop: each pause doubles from first, up to fast
// while the loop has waited less than quick in all, then up to slow. Close looks at first
// see a quick change soon; spaced out later, many loops at once leave the CPU to what
// they wait for.
type backoff struct {
	first, fast, quick, slow time.Duration
}

// next is the pause after one of waiting, the loop having waited waited in all.
func (b backoff) next(waiting, waited time.Duration) time.Duration {
	if waited < b.quick {
		return min(2*waiting, b.fast)
	}
	return min(2*waiting, b.slow)
}
