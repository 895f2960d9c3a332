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

const signalBufferSize = 2048

// signalHandler forwards signals yoroi receives to the container process, resizes the
// terminal on SIGWINCH and reaps children on SIGCHLD.
type signalHandler struct {
	signals      chan os.Signal
	notifySocket *notifySocket
}

// newSignalHandler registers for signals before the container starts so that none is lost.
func newSignalHandler(enableSubreaper bool, n *notifySocket) chan *signalHandler {
	if enableSubreaper {
		if err := system.SetSubreaper(1); err != nil {
			logrus.Warn(err)
		}
	}
	handler := make(chan *signalHandler)
	s := make(chan os.Signal, signalBufferSize)
	// SIGCHLD first and synchronously; the full (expensive) registration runs meanwhile.
	signal.Notify(s, unix.SIGCHLD)
	go func() {
		signal.Notify(s)
		handler <- &signalHandler{signals: s, notifySocket: n}
	}()
	return handler
}

// forward runs until the container process exits and returns its exit status.
func (h *signalHandler) forward(process *libcontainer.Process, tty *stdio, detach bool) (int, error) {
	if detach && h.notifySocket == nil {
		return 0, nil
	}
	pid1, err := process.Pid()
	if err != nil {
		return -1, err
	}
	if h.notifySocket != nil {
		if detach {
			_ = h.notifySocket.run(pid1)
			return 0, nil
		}
		// READY= is relayed once; a container that exits without it does not hold
		// yoroi up (runc waits on its own pid here, forever for such a container).
		_ = h.notifySocket.run(pid1)
	}
	_ = tty.resize()
	for s := range h.signals {
		switch s {
		case unix.SIGWINCH:
			_ = tty.resize()
		case unix.SIGCHLD:
			for _, e := range reap() {
				if e.pid == pid1 {
					// Wait flushes libcontainer's pipes before we return.
					_, _ = process.Wait()
					return e.status, nil
				}
			}
		case unix.SIGURG:
			// Go's runtime preemption signal: never forwarded.
		default:
			if err := process.Signal(s); err != nil {
				logrus.Debugf("forward %v: %v", s, err)
			}
		}
	}
	return -1, nil
}

type exit struct{ pid, status int }

// reap collects every exited child without blocking.
func reap() []exit {
	var exits []exit
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return exits
		}
		exits = append(exits, exit{pid: pid, status: utils.ExitStatus(ws)})
	}
}
