package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// A container's monitor (package monitor) is started at create and gone once no process
// of the container is left: in a process of yoroi's own; in an attached run, which lives
// as long as the container (see startMonitor); or in yoroi's containerd shim, when the
// shim offers to host it.

// MonitorCommand is the hidden verb that runs a monitor: the runtime starts its own
// binary as `BINARY monitor ID`, its configuration on stdin and its listening socket as
// descriptor 3.
const MonitorCommand = "monitor"

// monitorLabel marks a container that has a monitor (its socket is derived from the id).
const monitorLabel = "org.yoroi.monitor"

// monitorSocket is where the monitor of container id listens. Its name is a digest of
// the id: a socket path must fit in 108 bytes, which containerd's ids (64 characters)
// under its state roots would not.
func (r *Runtime) monitorSocket(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(r.root, yoroiDir, "monitor", hex.EncodeToString(sum[:10]))
}

// filterArchs are libcontainer's names of the architectures a filter admits: the native
// one and those it lists.
func filterArchs(cfg *configs.Seccomp) []string {
	out := []string{goruntime.GOARCH}
	for _, a := range cfg.Architectures {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// setupMonitor gives a container whose plan wants a monitor the monitor's filter in
// place of its own (prog, as compiled from cfg) and starts the monitor, in this process
// when local. It returns the filter for the launcher, a connection to the monitor for the
// container's init, and the monitor's handle. The caller removes the socket when the
// container is not created.
func (r *Runtime) setupMonitor(id string, m *hardening.MonitorPlan, config *configs.Config, cfg *configs.Seccomp, prog []byte, local bool) (_ []byte, _ *os.File, _ *monitorHandle, err error) {
	mprog, key, err := r.monitorProgram(cfg, prog, m)
	if err != nil {
		return nil, nil, nil, err
	}
	rcfg, err := r.config()
	if err != nil {
		return nil, nil, nil, err
	}
	mc := monitor.Config{Version: monitor.ConfigVersion, ID: id, AuditPath: rcfg.Audit.Path, Filter: prog[launcher.FilterHeaderSize:], Plan: *m}
	h, err := r.startMonitor(mc, local)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting the container's monitor: %w", err)
	}
	defer func() {
		if err != nil {
			h.stop()
		}
	}()
	conn, err := r.dialMonitor(id)
	if err != nil {
		return nil, nil, nil, err
	}
	// Processes exec'd into the container get the monitor's filter too.
	config.Labels = slices.DeleteFunc(config.Labels, func(l string) bool {
		return isMonitorLabel(l) || strings.HasPrefix(l, seccompFilterLabel+"=")
	})
	config.Labels = append(config.Labels, monitorLabel+"=1", seccompFilterLabel+"="+key)
	return mprog, conn, h, nil
}

func isMonitorLabel(l string) bool { return strings.HasPrefix(l, monitorLabel+"=") }

// monitorProgram is prog rewritten for m, cached beside the filters under a key of its
// own, which it returns. The cache outlives a yoroi upgrade (it is under the state root):
// the key's version names monitorFilter's rewrite, and changes whenever what it makes of
// a program does (v2: ENOSYS answers stay in the kernel).
func (r *Runtime) monitorProgram(cfg *configs.Seccomp, prog []byte, m *hardening.MonitorPlan) ([]byte, string, error) {
	base, err := filterKey(cfg)
	if err != nil {
		return nil, "", err
	}
	archs := filterArchs(cfg)
	h := sha256.New()
	fmt.Fprintf(h, "yoroi-monitor-filter v2\x00%s\x00%t %t %t\x00%s", base, m.Denials, m.Complain, m.Exec, strings.Join(archs, ","))
	key := hex.EncodeToString(h.Sum(nil))
	if cached, err := r.readFilter(key); err == nil {
		return cached, key, nil
	}
	mprog, err := monitorFilter(prog, m, archs)
	if err != nil {
		return nil, "", err
	}
	return mprog, key, r.writeFilter(key, mprog)
}

// monitorHandle is a started monitor.
type monitorHandle struct {
	// started says how the start went: a monitor process' fork and execve go on in the
	// background.
	started <-chan error
	// end, for a monitor this process serves (nil: a process of its own, which ends by
	// itself), ends it once the container's processes are gone and waits for its last
	// writes.
	end func()
}

// stop ends a monitor this process serves (see end); it may be called more than once.
func (h *monitorHandle) stop() {
	if h != nil && h.end != nil {
		h.end()
	}
}

// localMonitorEnd bounds the wait for a monitor this process serves to see the last of the
// container's processes go (they are gone when it is asked to end: a moment).
const localMonitorEnd = 2 * time.Second

// startMonitor starts the monitor: its socket is bound here, before anything can connect
// to it. A local monitor is served by this process (an attached run, which lives as long
// as its container: a monitor process would cost every such start a Go process' start and
// exit). Otherwise the socket is handed to the process that hosts this command's
// monitors, yoroi's containerd shim (handOrStart), or to a monitor process, which runs in
// a session of its own with no descriptor of ours but its configuration (a memfd on
// stdin) and the socket, so that it outlives this command and holds nothing an engine
// waits on; either goes on in the background (the monitor process' fork and execve take
// about a millisecond of every create here). The socket is bound when startMonitor
// returns, so the container's processes may connect at once.
func (r *Runtime) startMonitor(mc monitor.Config, local bool) (*monitorHandle, error) {
	sock := r.monitorSocket(mc.ID)
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(sock)
	var ln *net.UnixListener
	err := monitor.WithSocketPath(sock, func(addr string) (err error) {
		ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	if local {
		return serveLocal(mc, ln)
	}
	lnFile, err := ln.File()
	ln.Close()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		defer lnFile.Close()
		done <- handOrStart(mc, lnFile)
	}()
	return &monitorHandle{started: done}, nil
}

// handOrStart hands the monitor to the process that hosts this command's monitors (yoroi's
// shim, which names itself in monitor.HostEnv), or, with none or if it fails to take it,
// starts a monitor process.
func handOrStart(mc monitor.Config, lnFile *os.File) error {
	if host := os.Getenv(monitor.HostEnv); host != "" {
		err := monitor.Hand(host, mc, lnFile)
		if err == nil {
			return nil
		}
		logrus.Warnf("the monitor host %s did not take container %s's monitor (%v): starting a monitor process", host, mc.ID, err)
	}
	cmd, config, err := monitorCommand(mc, lnFile)
	if err != nil {
		return err
	}
	defer config.Close()
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// serveLocal serves the container's monitor on ln from this process.
func serveLocal(mc monitor.Config, ln *net.UnixListener) (*monitorHandle, error) {
	m, err := monitor.New(mc)
	if err != nil {
		ln.Close()
		return nil, err
	}
	stop, served := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(served)
		m.Serve(ln, stop)
	}()
	started := make(chan error, 1)
	started <- nil
	var once sync.Once
	end := func() {
		once.Do(func() {
			close(stop)
			select {
			case <-served:
			case <-time.After(localMonitorEnd):
			}
		})
	}
	return &monitorHandle{started: started, end: end}, nil
}

// monitorCommand is the monitor's command, with its configuration in a memfd (returned,
// for the caller to close once the monitor is started) on its stdin and the socket
// listener as its descriptor 3.
func monitorCommand(mc monitor.Config, listener *os.File) (*exec.Cmd, *os.File, error) {
	data, err := json.Marshal(mc)
	if err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	fd, err := unix.MemfdCreate("yoroi-monitor-config", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, err
	}
	config := os.NewFile(uintptr(fd), "monitor-config")
	if _, err := config.Write(data); err != nil {
		config.Close()
		return nil, nil, err
	}
	if _, err := config.Seek(0, 0); err != nil {
		config.Close()
		return nil, nil, err
	}
	cmd := exec.Command(exe, MonitorCommand, mc.ID)
	cmd.Stdin = config
	cmd.ExtraFiles = []*os.File{listener}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	return cmd, config, nil
}

// dialMonitor connects to container id's monitor, for a process of the container to send
// it its listener.
func (r *Runtime) dialMonitor(id string) (*os.File, error) {
	var conn *net.UnixConn
	err := monitor.WithSocketPath(r.monitorSocket(id), func(addr string) (err error) {
		conn, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: addr, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the container's monitor: %w", err)
	}
	defer conn.Close()
	return conn.File()
}

// execMonitor is a connection to the monitor of container c for a process exec'd into
// it, nil if c has none.
func (r *Runtime) execMonitor(c *libcontainer.Container) (*os.File, error) {
	if _, ok := utils.SearchLabels(c.Config().Labels, monitorLabel); !ok {
		return nil, nil
	}
	f, err := r.dialMonitor(c.ID())
	if err != nil {
		return nil, errors.New("the container's monitor is not running (every process of the container reports to it)")
	}
	return f, nil
}

// removeMonitorSocket removes the monitor's socket (the monitor exits by itself once no
// process of the container is left).
func (r *Runtime) removeMonitorSocket(id string) error {
	if err := os.Remove(r.monitorSocket(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// withMonitorConn hands the launcher of p its connection to the monitor, as the last of
// the descriptors p inherits, and has it announce its filter's install there when prog
// (the launcher's filter, header and program) allows that call.
func withMonitorConn(p *libcontainer.Process, conn *os.File, prog []byte) {
	p.ExtraFiles = append(p.ExtraFiles, conn)
	n := 3 + len(p.ExtraFiles) - 1
	settings := []string{"notify-fd=" + strconv.Itoa(n)}
	if len(prog) > launcher.FilterHeaderSize && monitor.AnnounceAllowed(prog[launcher.FilterHeaderSize:], n) {
		settings = append(settings, "announce")
	}
	p.Args = slices.Insert(slices.Clone(p.Args), 2, settings...)
}
