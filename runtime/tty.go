package runtime

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
)

// stdio wires a container process to yoroi's own stdio, a pseudo-terminal, or a
// caller's console socket, and tears it down afterwards.
type stdio struct {
	epoller     *console.Epoller
	console     *console.EpollConsole
	hostConsole console.Console
	closers     []io.Closer
	postStart   []io.Closer
	wg          sync.WaitGroup
	consoleC    chan error
}

func (t *stdio) copyIO(w io.Writer, r io.ReadCloser) {
	defer t.wg.Done()
	_, _ = io.Copy(w, r)
	_ = r.Close()
}

// setupIO prepares process for the requested terminal mode (see runc's tty handling).
func setupIO(process *libcontainer.Process, c *libcontainer.Container, createTTY, detach bool, sockpath string) (_ *stdio, retErr error) {
	if createTTY {
		process.Stdin, process.Stdout, process.Stderr = nil, nil, nil
		t := &stdio{}
		if !detach {
			if err := t.initHostConsole(); err != nil {
				return nil, err
			}
			parent, child, err := utils.NewSockPair("console")
			if err != nil {
				return nil, err
			}
			process.ConsoleSocket = child
			t.postStart = append(t.postStart, parent, child)
			t.consoleC = make(chan error, 1)
			go func() { t.consoleC <- t.recvtty(parent) }()
			return t, nil
		}
		// The caller receives the console master over its socket.
		conn, err := net.Dial("unix", sockpath)
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		defer func() {
			if retErr != nil {
				conn.Close()
			}
		}()
		t.postStart = append(t.postStart, conn)
		socket, err := conn.(*net.UnixConn).File()
		if err != nil {
			return nil, err
		}
		t.postStart = append(t.postStart, socket)
		process.ConsoleSocket = socket
		return t, nil
	}
	if detach {
		// The caller hands the container its stdio through ours.
		process.Stdin, process.Stdout, process.Stderr = os.Stdin, os.Stdout, os.Stderr
		return &stdio{}, nil
	}
	cfg := c.Config()
	rootuid, err := cfg.HostRootUID()
	if err != nil {
		return nil, err
	}
	rootgid, err := cfg.HostRootGID()
	if err != nil {
		return nil, err
	}
	return setupProcessPipes(process, rootuid, rootgid)
}

// setupProcessPipes gives the process pipes owned by the container's root and copies
// them to and from yoroi's stdio.
func setupProcessPipes(p *libcontainer.Process, rootuid, rootgid int) (*stdio, error) {
	i, err := p.InitializeIO(rootuid, rootgid)
	if err != nil {
		return nil, err
	}
	t := &stdio{closers: []io.Closer{i.Stdin, i.Stdout, i.Stderr}}
	for _, cc := range []any{p.Stdin, p.Stdout, p.Stderr} {
		if c, ok := cc.(io.Closer); ok {
			t.postStart = append(t.postStart, c)
		}
	}
	go func() {
		_, _ = io.Copy(i.Stdin, os.Stdin)
		_ = i.Stdin.Close()
	}()
	t.wg.Add(2)
	go t.copyIO(os.Stdout, i.Stdout)
	go t.copyIO(os.Stderr, i.Stderr)
	return t, nil
}

func (t *stdio) initHostConsole() error {
	for _, s := range []*os.File{os.Stderr, os.Stdout, os.Stdin} {
		c, err := console.ConsoleFromFile(s)
		if err == nil {
			t.hostConsole = c
			return nil
		}
		if !errors.Is(err, console.ErrNotAConsole) {
			return fmt.Errorf("unable to get console: %w", err)
		}
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("a terminal was requested but yoroi has none: %w", err)
	}
	c, err := console.ConsoleFromFile(tty)
	if err != nil {
		return fmt.Errorf("unable to get console: %w", err)
	}
	t.hostConsole = c
	return nil
}

func (t *stdio) recvtty(socket *os.File) (retErr error) {
	f, err := utils.RecvFile(socket) //nolint:staticcheck // the runc-internal replacement is not importable.
	if err != nil {
		return err
	}
	cons, err := console.ConsoleFromFile(f)
	if err != nil {
		return err
	}
	if err := console.ClearONLCR(cons.Fd()); err != nil {
		return err
	}
	epoller, err := console.NewEpoller()
	if err != nil {
		return err
	}
	epollConsole, err := epoller.Add(cons)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = epollConsole.Close()
		}
	}()
	go func() { _ = epoller.Wait() }()
	go func() { _, _ = io.Copy(epollConsole, os.Stdin) }()
	t.wg.Add(1)
	go t.copyIO(os.Stdout, epollConsole)
	// In raw mode ^C reaches the container as a byte; a SIGINT sent to yoroi itself is
	// forwarded to the container like any other signal (signalHandler), and the terminal
	// is restored by Close once the container is gone, after yoroi's cleanup.
	if err := t.hostConsole.SetRaw(); err != nil {
		return fmt.Errorf("failed to set the terminal from the stdin: %w", err)
	}
	t.epoller = epoller
	t.console = epollConsole
	t.closers = []io.Closer{epollConsole}
	return nil
}

func (t *stdio) waitConsole() error {
	if t.consoleC != nil {
		return <-t.consoleC
	}
	return nil
}

// closePostStart closes our copies of descriptors handed to the container.
func (t *stdio) closePostStart() {
	for _, c := range t.postStart {
		_ = c.Close()
	}
}

// Close waits for copied output and restores the host terminal.
func (t *stdio) Close() {
	t.closePostStart()
	if t.console != nil && t.epoller != nil {
		_ = t.console.Shutdown(t.epoller.CloseConsole)
	}
	t.wg.Wait()
	for _, c := range t.closers {
		_ = c.Close()
	}
	if t.hostConsole != nil {
		_ = t.hostConsole.Reset()
	}
}

func (t *stdio) resize() error {
	if t.console == nil || t.hostConsole == nil {
		return nil
	}
	return t.console.ResizeFrom(t.hostConsole)
}
