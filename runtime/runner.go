package runtime

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

type action uint8

const (
	actCreate action = iota + 1
	actRun
)

// runner starts one process (a container's init or an exec'd process) and, unless
// detached, supervises it until it exits.
type runner struct {
	init            bool
	enableSubreaper bool
	shouldDestroy   bool
	detach          bool
	listenFDs       []*os.File
	preserveFDs     int
	pidFile         string
	consoleSocket   string
	pidfdSocket     string
	// seccomp is the compiled filter the Landlock launcher installs (nil: libcontainer's);
	// the caller closes it.
	seccomp []byte
	// monitor is the process' connection to the container's monitor, which its launcher
	// sends the filter's listener over (nil: none). The runner closes it.
	monitor        *os.File
	container      *libcontainer.Container
	action         action
	notifySocket   *notifySocket
	subCgroupPaths map[string]string
	// cleanup runs with destroy (yoroi's host-side resources of the container).
	cleanup func()
	// prepared runs once the container's init is created, before its workload starts.
	prepared func() error
	// started runs once libcontainer has written the container's state.
	started func()
	// posture checks the started process (run and exec: start checks a created one).
	// An error stops the process, and for init removes the container. gone is closed once
	// the process has exited, when the check runs beside the wait for it.
	posture func(pid int, p *libcontainer.Process, gone <-chan struct{}) error
}

func (r *runner) run(config *specs.Process) (status int, retErr error) {
	if r.monitor != nil {
		// The process holds its own copy from its start on.
		defer r.monitor.Close()
	}
	defer func() {
		if retErr != nil {
			r.destroy()
		}
	}()
	if err := r.checkTerminal(config); err != nil {
		return -1, err
	}
	process, err := r.newProcess(config)
	if err != nil {
		return -1, err
	}
	detach := r.detach || r.action == actCreate
	signals := relaySignals(r.enableSubreaper, r.notifySocket)
	stdio, err := openStreams(process, r.container, config.Terminal, detach, r.consoleSocket)
	if err != nil {
		return -1, err
	}
	defer stdio.close()
	if r.pidfdSocket != "" {
		closeConn, err := setupPidfdSocket(process, r.pidfdSocket)
		if err != nil {
			return -1, err
		}
		defer closeConn()
	}
	if err := r.start(process); err != nil {
		return -1, err
	}
	check := r.checkBeside(process, detach)
	if err := r.afterStart(process, stdio, check == nil); err != nil {
		r.terminate(process)
		return -1, err
	}
	waited := timed(r.container.ID(), "wait")
	status, err = signals.until(process, stdio, detach, check.failed())
	waited()
	if err != nil {
		r.terminate(process)
	}
	if cerr := check.wait(); cerr != nil {
		r.postureFailed()
		return -1, cerr
	}
	if detach {
		return 0, nil
	}
	if err == nil {
		r.destroy()
	}
	return status, err
}

// newProcess is the libcontainer process for config, with the descriptors it inherits
// (socket activation's, --preserve-fds) and the filter its launcher installs.
func (r *runner) newProcess(config *specs.Process) (*libcontainer.Process, error) {
	process, err := newProcess(config)
	if err != nil {
		return nil, err
	}
	process.LogLevel = strconv.Itoa(int(logrus.GetLevel()))
	process.Init = r.init
	process.SubCgroupPaths = r.subCgroupPaths
	if len(r.listenFDs) > 0 {
		process.Env = append(process.Env, "LISTEN_FDS="+strconv.Itoa(len(r.listenFDs)), "LISTEN_PID=1")
		process.ExtraFiles = append(process.ExtraFiles, r.listenFDs...)
	}
	baseFd := 3 + len(process.ExtraFiles)
	for i := baseFd; i < baseFd+r.preserveFDs; i++ {
		if _, err := unix.FcntlInt(uintptr(i), unix.F_GETFD, 0); err != nil {
			return nil, fmt.Errorf("unable to use preserved fd %d (of %d): %w", i-baseFd, r.preserveFDs, err)
		}
		process.ExtraFiles = append(process.ExtraFiles, os.NewFile(uintptr(i), "PreserveFD:"+strconv.Itoa(i)))
	}
	if r.seccomp != nil {
		withLauncherFilter(process, r.seccomp)
	}
	if r.monitor != nil {
		withMonitorConn(process, r.monitor, r.seccomp)
	}
	return process, nil
}

// start has libcontainer start the process. Run is Start and, for a container's init,
// Exec: the steps between them see the container created and its workload not yet
// started.
func (r *runner) start(process *libcontainer.Process) error {
	id := r.container.ID()
	done := timed(id, "libcontainer: start process")
	err := r.container.Start(process)
	done()
	if err == nil && r.prepared != nil {
		err = r.prepared()
	}
	if err == nil && r.action == actRun && process.Init {
		done := timed(id, "libcontainer: exec")
		err = r.container.Exec()
		done()
	}
	if err == nil && r.started != nil {
		r.started()
	}
	return err
}

// checkBeside starts the posture check of a foreground process beside the wait for it
// (nil: the check, if any, is made before). The workload runs from its execve on either
// way; waiting for the check first would only add the check's length to a short
// process's run. A detached process, one whose pid file or READY= tells a supervisor it
// runs, is checked before yoroi says so.
func (r *runner) checkBeside(process *libcontainer.Process, detach bool) *postureCheck {
	if r.posture == nil || r.action != actRun || detach || r.pidFile != "" || r.notifySocket != nil {
		return nil
	}
	pid, err := process.Pid()
	id := r.container.ID()
	return startPostureCheck(func(gone <-chan struct{}) error {
		defer timed(id, "posture check")()
		if err != nil {
			return err
		}
		return r.posture(pid, process, gone)
	})
}

// postureFailed marks a container whose process failed its posture check for removal.
func (r *runner) postureFailed() {
	if r.init {
		r.shouldDestroy = true
	}
}

// afterStart checks a running process' posture (unless it is checked beside the wait,
// check false), then hands over its console and writes its pid file. An error means the
// process must be stopped (and for init, the container removed).
func (r *runner) afterStart(process *libcontainer.Process, stdio *streams, check bool) error {
	if check && r.posture != nil && r.action == actRun {
		defer timed(r.container.ID(), "posture check")()
		pid, err := process.Pid()
		if err == nil {
			err = r.posture(pid, process, nil)
		}
		if err != nil {
			r.postureFailed()
			return err
		}
	}
	if err := stdio.terminalReady(); err != nil {
		return err
	}
	stdio.started()
	if r.pidFile != "" {
		return writePidFile(r.pidFile, process)
	}
	return nil
}

func (r *runner) destroy() {
	if !r.shouldDestroy {
		return
	}
	done := timed(r.container.ID(), "libcontainer: destroy")
	if err := r.container.Destroy(); err != nil {
		logrus.Warn(err)
	}
	done()
	if r.cleanup != nil {
		defer timed(r.container.ID(), "undo host settings")()
		r.cleanup()
	}
}

func (r *runner) terminate(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

func (r *runner) checkTerminal(config *specs.Process) error {
	detach := r.detach || r.action == actCreate
	if detach && config.Terminal && r.consoleSocket == "" {
		return errors.New("cannot allocate tty if yoroi will detach without setting console socket")
	}
	if (!detach || !config.Terminal) && r.consoleSocket != "" {
		return errors.New("cannot use console socket if yoroi will not detach or allocate tty")
	}
	return nil
}

// writePidFile writes the pid atomically (temporary file, then rename) so a reader never
// sees a partial pid, and never truncates an existing file in place.
func writePidFile(path string, process *libcontainer.Process) error {
	pid, err := process.Pid()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".yoroi")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_SYNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(pid))
	f.Close()
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func setupPidfdSocket(process *libcontainer.Process, sockpath string) (func(), error) {
	conn, err := net.Dial("unix", sockpath)
	if err != nil {
		return nil, fmt.Errorf("pidfd socket %s: %w", sockpath, err)
	}
	socket, err := conn.(*net.UnixConn).File()
	if err != nil {
		conn.Close()
		return nil, err
	}
	process.PidfdSocket = socket
	return func() {
		socket.Close()
		conn.Close()
	}, nil
}

// activationFiles returns the sockets systemd passed for socket activation, if they are ours.
func activationFiles() []*os.File {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil
	}
	files := make([]*os.File, 0, n)
	for fd := 3; fd < 3+n; fd++ {
		unix.CloseOnExec(fd)
		files = append(files, os.NewFile(uintptr(fd), "LISTEN_FD_"+strconv.Itoa(fd)))
	}
	return files
}

// postureCheck is a posture check running beside the wait for the process it checks.
type postureCheck struct {
	gone     chan struct{} // closed once the process has exited
	failing  chan struct{} // closed when the check has failed (err is set)
	finished chan struct{} // closed when the check has returned (err is set)
	err      error
}

func startPostureCheck(check func(gone <-chan struct{}) error) *postureCheck {
	c := &postureCheck{gone: make(chan struct{}), failing: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(c.finished)
		if c.err = check(c.gone); c.err != nil {
			close(c.failing)
		}
	}()
	return c
}

// failed is closed when the check fails, so that the wait kills the process (nil, never,
// without a check).
func (c *postureCheck) failed() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.failing
}

// wait tells the check the process has exited and returns its outcome.
func (c *postureCheck) wait() error {
	if c == nil {
		return nil
	}
	close(c.gone)
	<-c.finished
	return c.err
}
