// Package pace is how yoroi's polling loops wait: short pauses that do not wait for Go's
// timer granularity, and backoffs that spread many loops' looks out.
package pace

import (
	"time"

	"golang.org/x/sys/unix"
)

// Pause sleeps for d. Go's timers wake an idle program no sooner than a millisecond
// later (its poller waits in whole milliseconds): a 50 µs time.Sleep takes about 1.1 ms.
// The short waits of a start (the monitor taking a launcher's listener, the posture
// check waiting for the workload's execve) are on its critical path, so below a
// millisecond the calling thread sleeps in the kernel instead.
func Pause(d time.Duration) {
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

// Until waits up to d, as Pause does in the kernel (the thread blocked the usual way, its
// P handed back), or less if fd becomes readable or hangs up first, and reports whether
// it did. A signal that ends the wait early (Go's preemption) reports false, as if d had
// passed.
func Until(fd int, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	ts := unix.NsecToTimespec(max(d, 0).Nanoseconds())
	n, err := unix.Ppoll(fds, &ts, nil)
	return err == nil && n > 0
}

// Backoff spaces the looks of a polling loop: each pause doubles from First, up to Fast
// while the loop has waited less than Quick in all, then up to Slow. Close looks at first
// see a quick change soon; spaced out later, many loops at once leave the CPU to what
// they wait for.
type Backoff struct {
	First, Fast, Quick, Slow time.Duration
}

// Next is the pause after one of waiting, the loop having waited waited in all.
func (b Backoff) Next(waiting, waited time.Duration) time.Duration {
	if waited < b.Quick {
		return min(2*waiting, b.Fast)
	}
	return min(2*waiting, b.Slow)
}
