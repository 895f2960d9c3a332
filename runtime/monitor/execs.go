package monitor

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
)

// execWatch holds the execs a listener's monitor let through whose result is not known
// yet: it looks at each process' stat, closely at first, until the image it runs changed
// (executed), the exec plainly failed, or the process is gone. The thread that serves the
// listener runs the looks between notifications (run), and waits for the next one no
// longer than the next look is due (wait).
type execWatch struct {
	pending []*pendingExec
}

// pendingExec is one exec let through, and when to look at it next.
type pendingExec struct {
	stat    *procStat
	before  procImage
	newComm string
	exec    *execCall
	ev      audit.Event
	start   time.Time
	due     time.Time
	delay   time.Duration
}

// execWaitLimit: an exec whose process still runs its old image this long after it was let
// through failed.
const execWaitLimit = 2 * time.Second

// add watches exec, let through at now; it takes the process' stat, opened before the
// exec, from exec.
func (w *execWatch) add(exec *execCall, ev audit.Event, now time.Time) {
	newComm := filepath.Base(exec.path)
	if len(newComm) > 15 {
		newComm = newComm[:15]
	}
	w.pending = append(w.pending, &pendingExec{stat: exec.stat, before: exec.before, newComm: newComm, exec: exec, ev: ev,
		start: now, due: now.Add(execLooks.First), delay: execLooks.Next(execLooks.First, execLooks.First)})
	exec.stat = nil
}

// wait is how long the listener's thread may wait for a notification before a look is
// due: negative when nothing is watched.
func (w *execWatch) wait(now time.Time) time.Duration {
	if len(w.pending) == 0 {
		return -1
	}
	next := w.pending[0].due
	for _, p := range w.pending[1:] {
		if p.due.Before(next) {
			next = p.due
		}
	}
	return max(0, next.Sub(now))
}

// run takes the looks due at now, and audits each exec whose result it learns.
func (w *execWatch) run(m *Monitor, now time.Time) {
	w.pending = slices.DeleteFunc(w.pending, func(p *pendingExec) bool {
		if now.Before(p.due) {
			return false
		}
		result, exe, done := p.look(now)
		if !done {
			return false
		}
		p.stat.close()
		out := p.exec.event(p.ev, result)
		if exe != "" {
			out.Exe = exe
		}
		m.flushSuppressed()
		m.write(out)
		return true
	})
}

// drain takes the remaining looks as they fall due: the listener is gone (no process is
// left under the filter), but an exec's last process may still be read (a zombie).
func (w *execWatch) drain(m *Monitor) {
	for len(w.pending) > 0 {
		pace.Pause(w.wait(time.Now()))
		w.run(m, time.Now())
	}
}

// look reads the process once: its exec's result if that can be told (with the
// executable it runs now, if it executed and still runs), or else when to look again.
// Closely at first: a short-lived program may be gone (and reaped) a millisecond later.
// Each look is a read of its stat, and a wake-up on a CPU the program may need: the first
// 250 µs after the exec was let through (an execve takes about that; a look at once would
// only keep the CPU from the exec, which the answer woke on the monitor's CPU), and the
// pause doubles, to a millisecond for the first 5 ms and to 50 ms after.
func (p *pendingExec) look(now time.Time) (result, exe string, done bool) {
	cur, ok := p.stat.image()
	if result, done := execOutcome(p.before, cur, ok, p.newComm); done {
		if result == "executed" && !cur.zombie {
			exe = exePath(p.stat.pid)
		}
		return result, exe, true
	}
	waited := now.Sub(p.start)
	if waited >= execWaitLimit {
		// Still its old image: the executable it runs is the one that asked.
		return "failed", exePath(p.stat.pid), true
	}
	p.due = now.Add(p.delay)
	p.delay = execLooks.Next(p.delay, waited)
	return "", "", false
}
