//go:build seccomp

package runtime

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"

	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// syscallNames lists every syscall libseccomp knows on the native architecture.
func syscallNames() ([]string, error) {
	arch, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, err
	}
	var out []string
	for nr := 0; nr < 1024; nr++ {
		if name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(arch); err == nil && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// recorder is a seccomp agent: libcontainer sends it the container's notify fd over
// a unix socket; it lets every notified syscall continue and remembers its name.
type recorder struct {
	ln   *net.UnixListener
	mu   sync.Mutex
	seen map[string]bool
	done chan struct{}
	err  error
}

func newRecorder(path string) (*recorder, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	r := &recorder{ln: ln, seen: map[string]bool{}, done: make(chan struct{})}
	go r.serve()
	return r, nil
}

func (r *recorder) serve() {
	defer close(r.done)
	conn, err := r.ln.AcceptUnix()
	if err != nil {
		r.err = err
		return
	}
	defer conn.Close()
	fd, err := monitor.ReceiveListener(conn)
	if err != nil {
		r.err = fmt.Errorf("seccomp agent: %w", err)
		return
	}
	r.loop(fd)
}

func (r *recorder) loop(fd int) {
	l, err := monitor.NewListener(fd)
	if err != nil {
		r.err = fmt.Errorf("seccomp agent: %w", err)
		return
	}
	defer l.Close()
	arch, _ := libseccomp.GetNativeArch()
	for {
		req, err := l.Next(-1)
		if err != nil {
			return
		}
		if name, err := libseccomp.ScmpSyscall(req.Nr).GetNameByArch(arch); err == nil {
			r.mu.Lock()
			r.seen[name] = true
			r.mu.Unlock()
		}
		_ = monitor.Answer(l.FD(), req.ID, true, 0)
	}
}

// recorded stops the agent and returns the sorted syscall names it saw.
func (r *recorder) recorded() ([]string, error) {
	r.ln.Close()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		if r.err != nil {
			return nil, fmt.Errorf("seccomp agent: %w", r.err)
		}
		return nil, errors.New("seccomp agent: no syscall recorded")
	}
	out := make([]string, 0, len(r.seen))
	for n := range r.seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
