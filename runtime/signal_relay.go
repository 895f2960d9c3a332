package runtime

import (
	"os"
	"os/signal"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/system"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// signalRelay is what yoroi does with the signals it receives while a foreground process
// runs: a terminal resize goes to the process's pty, SIGCHLD reaps the exited children
// (the process among them ends the relay), Go's preemption signal stays Go's, and every
// other signal is sent on to the process.
type signalRelay struct {
	received chan os.Signal
	notify   *notifySocket
	// ready is closed once every signal is being received.
	ready chan struct{}
}

// relaySignals starts receiving signals before the process starts, so that none is lost,
// and makes yoroi the subreaper of the container's processes when asked.
func relaySignals(subreaper bool, n *notifySocket) *signalRelay {
	if subreaper {
		if err := system.SetSubreaper(1); err != nil {
			logrus.Warn(err)
		}
	}
	r := &signalRelay{received: make(chan os.Signal, 2048), notify: n, ready: make(chan struct{})}
	// SIGCHLD at once, so that no exit is missed; the others (registering every signal
	// takes about 3 ms) while the container starts.
	signal.Notify(r.received, unix.SIGCHLD)
	go func() {
		signal.Notify(r.received)
		close(r.ready)
	}()
	return r
}

// until relays signals to p until it exits and returns its exit status. A detached
// process is left to itself once its READY= (if the caller asked for one) is relayed.
// When failed is closed (its posture check failed) p is killed: by the loop that reaps
// it, so that the signal cannot reach a later process with its pid.
func (r *signalRelay) until(p *libcontainer.Process, stdio *streams, detach bool, failed <-chan struct{}) (int, error) {
	if detach && r.notify == nil {
		return 0, nil
	}
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	if r.notify != nil {
		// READY= is relayed once; a process that exits without it does not hold yoroi
		// up (runc waits on its own pid here, forever for such a container).
		_ = r.notify.run(pid)
		if detach {
			return 0, nil
		}
	}
	<-r.ready
	_ = stdio.resize()
	for {
		var sig os.Signal
		select {
		case sig = <-r.received:
		case <-failed:
			failed = nil
			if err := p.Signal(unix.SIGKILL); err != nil {
				logrus.Debugf("kill after the failed posture check: %v", err)
			}
			continue
		}
		switch sig {
		case unix.SIGWINCH:
			_ = stdio.resize()
		case unix.SIGCHLD:
			if status, exited := reapChildren(pid); exited {
				// Wait flushes libcontainer's copies of the process's output.
				_, _ = p.Wait()
				return status, nil
			}
		case unix.SIGURG:
			// Go's runtime preempts goroutines with it: never the process's.
		default:
			if err := p.Signal(sig); err != nil {
				logrus.Debugf("forward %v: %v", sig, err)
			}
		}
	}
}

// reapChildren collects every exited child without blocking, and says whether pid was
// among them, with its exit status.
func reapChildren(pid int) (status int, exited bool) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || got <= 0 {
			return status, exited
		}
		if got == pid {
			status, exited = utils.ExitStatus(ws), true
		}
	}
}
