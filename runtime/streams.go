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

// streams are a process's standard streams, wired one of the four ways runc's command
// line offers (its callers rely on each):
//   - foreground with a terminal: the process gets a pty, which yoroi relays to its own
//     terminal, put in raw mode;
//   - detached with a terminal: the pty's master goes to the caller's console socket;
//   - foreground without a terminal: pipes owned by the container's root, copied to and
//     from yoroi's own streams;
//   - detached without a terminal: the process inherits yoroi's streams.
type streams struct {
	// handedOver are yoroi's copies of what the process was given: closed once it runs.
	handedOver []io.Closer
	// owned are closed last, once the output is copied.
	owned   []io.Closer
	copying sync.WaitGroup
	// pty is the relayed terminal (foreground with a terminal), nil otherwise.
	pty *relayedTerminal
}

// relayedTerminal is a process's pty relayed to yoroi's terminal.
type relayedTerminal struct {
	host    console.Console
	master  *console.EpollConsole
	epoller *console.Epoller
	// received reports the master's arrival from libcontainer's console socket.
	received chan error
}

// openStreams wires p's streams for its terminal mode.
func openStreams(p *libcontainer.Process, c *libcontainer.Container, terminal, detach bool, consoleSocket string) (*streams, error) {
	switch {
	case terminal && !detach:
		return relayTerminal(p)
	case terminal:
		return handToConsoleSocket(p, consoleSocket)
	case !detach:
		return pipeStreams(p, c)
	}
	p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
	return &streams{}, nil
}

// relayTerminal has libcontainer send the pty's master over a socket pair, and relays it
// to yoroi's terminal once it arrives.
func relayTerminal(p *libcontainer.Process) (*streams, error) {
	host, err := hostTerminal()
	if err != nil {
		return nil, err
	}
	parent, child, err := utils.NewSockPair("console")
	if err != nil {
		return nil, err
	}
	p.Stdin, p.Stdout, p.Stderr = nil, nil, nil
	p.ConsoleSocket = child
	s := &streams{handedOver: []io.Closer{parent, child}, pty: &relayedTerminal{host: host, received: make(chan error, 1)}}
	go func() { s.pty.received <- s.relay(parent) }()
	return s, nil
}

// hostTerminal is the terminal yoroi runs in: one of its streams, or else /dev/tty.
func hostTerminal() (console.Console, error) {
	for _, f := range []*os.File{os.Stderr, os.Stdout, os.Stdin} {
		c, err := console.ConsoleFromFile(f)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, console.ErrNotAConsole) {
			return nil, fmt.Errorf("unable to get console: %w", err)
		}
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return nil, fmt.Errorf("a terminal was requested but yoroi has none: %w", err)
	}
	c, err := console.ConsoleFromFile(tty)
	if err != nil {
		return nil, fmt.Errorf("unable to get console: %w", err)
	}
	return c, nil
}

// relay receives the pty's master and copies between it and yoroi's streams. In raw mode
// ^C reaches the process as a byte; a SIGINT sent to yoroi itself goes to the process
// like any other signal (signalRelay), and the terminal is restored by close.
func (s *streams) relay(socket *os.File) (retErr error) {
	f, err := utils.RecvFile(socket) //nolint:staticcheck // the runc-internal replacement is not importable.
	if err != nil {
		return err
	}
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		return err
	}
	if err := console.ClearONLCR(master.Fd()); err != nil {
		return err
	}
	epoller, err := console.NewEpoller()
	if err != nil {
		return err
	}
	relayed, err := epoller.Add(master)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = relayed.Close()
		}
	}()
	go func() { _ = epoller.Wait() }()
	go func() { _, _ = io.Copy(relayed, os.Stdin) }()
	s.copyOut(os.Stdout, relayed)
	if err := s.pty.host.SetRaw(); err != nil {
		return fmt.Errorf("failed to set the terminal from the stdin: %w", err)
	}
	s.pty.master, s.pty.epoller = relayed, epoller
	s.owned = []io.Closer{relayed}
	return nil
}

// handToConsoleSocket sends the pty's master to the caller's console socket (libcontainer
// does, over a descriptor of the connection).
func handToConsoleSocket(p *libcontainer.Process, path string) (_ *streams, retErr error) {
	p.Stdin, p.Stdout, p.Stderr = nil, nil, nil
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	defer func() {
		if retErr != nil {
			conn.Close()
		}
	}()
	socket, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, err
	}
	p.ConsoleSocket = socket
	return &streams{handedOver: []io.Closer{conn, socket}}, nil
}

// pipeStreams gives p pipes owned by the container's root and copies them to and from
// yoroi's streams.
func pipeStreams(p *libcontainer.Process, c *libcontainer.Container) (*streams, error) {
	cfg := c.Config()
	uid, err := cfg.HostRootUID()
	if err != nil {
		return nil, err
	}
	gid, err := cfg.HostRootGID()
	if err != nil {
		return nil, err
	}
	pipes, err := p.InitializeIO(uid, gid)
	if err != nil {
		return nil, err
	}
	s := &streams{owned: []io.Closer{pipes.Stdin, pipes.Stdout, pipes.Stderr}}
	for _, end := range []any{p.Stdin, p.Stdout, p.Stderr} {
		if c, ok := end.(io.Closer); ok {
			s.handedOver = append(s.handedOver, c)
		}
	}
	go func() {
		_, _ = io.Copy(pipes.Stdin, os.Stdin)
		_ = pipes.Stdin.Close()
	}()
	s.copyOut(os.Stdout, pipes.Stdout)
	s.copyOut(os.Stderr, pipes.Stderr)
	return s, nil
}

// copyOut copies the process's output r to w until it ends; close waits for it.
func (s *streams) copyOut(w io.Writer, r io.ReadCloser) {
	s.copying.Add(1)
	go func() {
		defer s.copying.Done()
		_, _ = io.Copy(w, r)
		_ = r.Close()
	}()
}

// terminalReady waits for the relayed pty's master (when there is one).
func (s *streams) terminalReady() error {
	if s.pty == nil {
		return nil
	}
	return <-s.pty.received
}

// started closes yoroi's copies of what the process was handed.
func (s *streams) started() {
	for _, c := range s.handedOver {
		_ = c.Close()
	}
	s.handedOver = nil
}

// close waits for the process's output and restores yoroi's terminal.
func (s *streams) close() {
	s.started()
	if s.pty != nil && s.pty.master != nil {
		_ = s.pty.master.Shutdown(s.pty.epoller.CloseConsole)
	}
	s.copying.Wait()
	for _, c := range s.owned {
		_ = c.Close()
	}
	if s.pty != nil {
		_ = s.pty.host.Reset()
	}
}

// resize gives the relayed pty the size of yoroi's terminal.
func (s *streams) resize() error {
	if s.pty == nil || s.pty.master == nil {
		return nil
	}
	return s.pty.master.ResizeFrom(s.pty.host)
}
