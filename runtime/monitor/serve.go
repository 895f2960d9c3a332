package monitor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
	"github.com/yoroi-runtime/yoroi/runtime/internal/quiet"
)

// Run runs a container's monitor in a process of its own until no process of the
// container is left: config is its configuration (JSON), listener its bound socket.
func Run(config io.Reader, listener *os.File) error {
	var mc Config
	if err := json.NewDecoder(config).Decode(&mc); err != nil {
		return fmt.Errorf("monitor configuration: %w", err)
	}
	m, err := New(mc)
	if err != nil {
		return err
	}
	fl, err := net.FileListener(listener)
	listener.Close()
	if err != nil {
		return err
	}
	ln, ok := fl.(*net.UnixListener)
	if !ok {
		return fmt.Errorf("monitor: descriptor 3 is not a unix socket")
	}
	m.Serve(ln, nil)
	return nil
}

// New is the monitor mc configures.
func New(mc Config) (*Monitor, error) {
	if mc.Version != ConfigVersion {
		return nil, fmt.Errorf("monitor configuration version %d, this monitor takes %d", mc.Version, ConfigVersion)
	}
	insns, err := Instructions(mc.Filter)
	if err != nil {
		return nil, fmt.Errorf("monitor configuration: filter: %w", err)
	}
	return &Monitor{
		cfg: mc, filter: insns, log: audit.At(mc.AuditPath),
		denials: newBudget(200, 50, "seccomp-denied-suppressed", "denials beyond the audit budget, by syscall"),
		execs:   newBudget(1000, 200, "execve-suppressed", "execs beyond the audit budget, by program"),
		idle:    make(chan struct{}, 1),
	}, nil
}

// Serve accepts the container's processes on ln and serves their listeners until none is
// left, then writes what it counted. Once stop is closed (never, if nil), it also ends
// when nothing connected at all.
func (m *Monitor) Serve(ln *net.UnixListener, stop <-chan struct{}) {
	go m.accept(ln)
	m.wait(stop)
	ln.Close()
	m.flushSuppressed()
}

const firstConnWait = time.Minute

// budget bounds what a workload can make the monitor write: one event each up to a
// burst, then at a steady rate; the others are counted, by key, and reported together,
// so that a loop of denied syscalls or of execs cannot fill the host's disk.
type budget struct {
	burst, perSec float64
	tokens        float64
	refilled      time.Time
	suppressed    map[string]int
	event, what   string
}

func newBudget(burst, perSec float64, event, what string) *budget {
	return &budget{burst: burst, perSec: perSec, tokens: burst, refilled: time.Now(), suppressed: map[string]int{}, event: event, what: what}
}

// take spends a token, if there is one. The caller holds the monitor's lock.
func (b *budget) take() bool {
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.refilled).Seconds()*b.perSec)
	b.refilled = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// summary is the event reporting what was counted (nil: nothing), which it resets.
func (b *budget) summary(id string) *audit.Event {
	if len(b.suppressed) == 0 {
		return nil
	}
	keys := make([]string, 0, len(b.suppressed))
	total := 0
	for k, c := range b.suppressed {
		keys = append(keys, k+"="+strconv.Itoa(c))
		total += c
	}
	b.suppressed = map[string]int{}
	slices.Sort(keys)
	return &audit.Event{Event: b.event, ID: id, Count: total, Detail: b.what + ": " + strings.Join(keys, ",")}
}

// Monitor is one container's monitor.
type Monitor struct {
	cfg    Config
	filter []unix.SockFilter
	log    *audit.Log

	mu sync.Mutex
	// active counts connections that have not yet sent a listener and listeners with
	// processes under them; the monitor ends when it drops to zero.
	active, seen int
	idle         chan struct{}
	// What may be written, one event each.
	denials, execs *budget
	// uidMap is the container's uid map as the host reads it, parsed (read once).
	uidMap idMap
}

func (m *Monitor) add(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active += n
	if n > 0 {
		m.seen++
	}
	if m.active == 0 {
		select {
		case m.idle <- struct{}{}:
		default:
		}
	}
}

// wait returns once every process of the container is gone: a connection was made and
// nothing is active any more (or nothing connected at all within firstConnWait, or
// before stop was closed).
func (m *Monitor) wait(stop <-chan struct{}) {
	timeout := time.After(firstConnWait)
	for {
		select {
		case <-m.idle:
		case <-timeout:
		case <-stop:
			stop = nil // receiving from a nil channel blocks: looked at once
		}
		m.mu.Lock()
		done := m.active == 0
		m.mu.Unlock()
		if done {
			return
		}
	}
}

func (m *Monitor) accept(ln *net.UnixListener) {
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		m.add(1)
		go m.receive(conn)
	}
}

// receive takes the listener of the process of the container at the other end of conn,
// and serves it.
func (m *Monitor) receive(conn *net.UnixConn) {
	fd, err := takeListener(conn)
	conn.Close()
	if err != nil {
		// The process ended (or failed) before installing its filter.
		m.add(-1)
		return
	}
	defer m.add(-1)
	l, err := NewListener(fd)
	if err != nil {
		m.write(audit.Event{Event: "monitor-error", ID: m.cfg.ID, Error: err.Error()})
		return // closed: the processes' notified syscalls fail (ENOSYS)
	}
	defer l.Close()
	// The notifying thread wakes the monitor as a synchronous waker (the poller's epoll
	// passes it on as such: the monitor's thread is placed on its CPU when it can be),
	// and the answer wakes the thread on the monitor's CPU (Linux ≥ 6.6): a denied
	// syscall's round trip stays on one CPU. Older kernels: as is.
	_ = unix.IoctlSetInt(fd, unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	// One goroutine serves the listener and looks at the execs it let through
	// (execWatch): a look is the deadline of the wait for the next notification, not
	// another goroutine that sleeps, so that an audited exec wakes the monitor as few
	// times as it can.
	watch := &execWatch{}
	for {
		req, err := l.Next(watch.wait(time.Now()))
		if err != nil {
			watch.drain(m)
			return
		}
		if req != nil {
			m.handle(fd, req, watch)
		}
		watch.run(m, time.Now())
	}
}

// listenerWait bounds the wait for a launcher to install the filter it offered.
const listenerWait = 10 * time.Second

// listenerLooks space the looks for a launcher's listener: 50 µs doubling to 1 ms.
var listenerLooks = pace.Backoff{First: 50 * time.Microsecond, Fast: time.Millisecond, Slow: time.Millisecond}

// takeListener takes the seccomp listener a launcher offers (launcher.c's
// offer_listener): a pidfd of the launcher and the number the listener will have in it.
// The monitor takes it from the process once it is there (a seccomp listener at that
// number), then acknowledges, so that the launcher makes no syscall the filter could
// send to a monitor that does not hold the listener yet. It looks when the launcher
// says the filter is installed (announce_filter: a byte), and also every so often
// (listenerLooks), for a launcher that does not announce (where its filter does not
// allow the announcement; an older launcher).
func takeListener(conn *net.UnixConn) (int, error) {
	buf := make([]byte, 4)
	n, pidfd, err := receiveFD(conn, buf)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pidfd)
	if n != 4 {
		return -1, fmt.Errorf("bad offer (%d bytes)", n)
	}
	number := int(binary.NativeEndian.Uint32(buf))
	deadline := time.Now().Add(listenerWait)
	// The filter is installed a moment after the offer (about 0.2 ms); on a busy host,
	// much later: the looks back off to a millisecond apart.
	wait := listenerLooks.First
	announced := false
	for {
		fd, err := unix.PidfdGetfd(pidfd, number, 0)
		if err == nil {
			if isSeccompListener(fd) {
				if _, err := conn.Write([]byte{1}); err != nil {
					unix.Close(fd)
					return -1, err
				}
				return fd, nil
			}
			unix.Close(fd)
		} else if err == unix.ESRCH {
			return -1, err
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("no seccomp listener at descriptor %d after %s", number, listenerWait)
		}
		if announced {
			pace.Pause(wait)
		} else {
			announced = awaitAnnouncement(conn, wait)
		}
		wait = listenerLooks.Next(wait, 0)
	}
}

// AnnounceAllowed reports whether filter (the launcher's program, without its header)
// lets the launcher's announcement run as it is (launcher.c's announce_filter: a send of
// one byte on descriptor fd, MSG_NOSIGNAL): allowed, neither denied, notified, logged nor
// a kill. The runtime has the launcher announce only then (its "announce" setting), so
// that the announcement is never an audited denial, nor the end of the launcher, under a
// profile that does not allow it.
func AnnounceAllowed(filter []byte, fd int) bool {
	insns, err := Instructions(filter)
	native, ok := execSyscalls[runtime.GOARCH]
	if err != nil || !ok {
		return false
	}
	d := SeccompData{Nr: int32(unix.SYS_SENDTO), Arch: native.audit, Args: [6]uint64{uint64(fd), 0, 1, unix.MSG_NOSIGNAL}}
	act, err := RunFilter(insns, &d)
	return err == nil && act == retAllow
}

// awaitAnnouncement waits up to d for the launcher's announcement that its filter is
// installed, and reports whether the wait is over: the announcement came, or the
// connection ended or failed (the launcher gone, or one that does not announce: the
// looks go on by pauses). It waits in the kernel for d exactly (pace.Until), so that a
// launcher that does not announce (its filter does not allow the send; an older
// launcher) is looked at as often as before, not at Go's timer granularity.
func awaitAnnouncement(conn *net.UnixConn, d time.Duration) bool {
	raw, err := conn.SyscallConn()
	if err != nil {
		return true
	}
	over := true
	if raw.Control(func(fd uintptr) {
		if !pace.Until(int(fd), d) {
			over = false // d passed, or a signal ended the wait early
			return
		}
		var b [1]byte
		_, _ = unix.Read(int(fd), b[:]) // the announcement, or the end of the connection
	}) != nil {
		return true
	}
	return over
}

func isSeccompListener(fd int) bool {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return err == nil && target == "anon_inode:seccomp notify"
}

// handle answers one notification as the container's own filter would, and audits it.
func (m *Monitor) handle(fd int, req *SeccompNotif, watch *execWatch) {
	n, ok := m.classify(fd, req)
	if !ok || m.answerUnaudited(fd, req, n) {
		return
	}
	proc, exec, ok := m.readCaller(fd, req, n)
	if !ok {
		return // gone, or interrupted: what was read may be another process'
	}
	if exec != nil {
		defer exec.release()
	}
	ev := proc.event(m.cfg.ID)
	ev.Syscall, ev.Arch = n.name, archName(req.Arch)
	switch n.act & retActionFull {
	case retAllow, retLog:
		// Only execs reach the monitor with an action that allows them (the prologue).
		m.continueExec(fd, req, exec, ev, watch)
	case retErrno:
		m.deny(fd, req, n, exec, ev, watch)
	default:
		m.kill(fd, req, n.act, proc, exec, ev)
	}
}

// notification is what the container's filter makes of a notification.
type notification struct {
	act  uint32
	name string
	// exec: an exec the monitor audits; complains: a denial complain mode lets through.
	exec, complains bool
}

// classify runs the container's filter on req. When it cannot, it fails the syscall
// (ENOSYS), audits why and returns false.
func (m *Monitor) classify(fd int, req *SeccompNotif) (notification, bool) {
	d := SeccompData{Nr: req.Nr, Arch: req.Arch, IP: req.IP, Args: req.Args}
	act, err := RunFilter(m.filter, &d)
	if err != nil {
		Answer(fd, req.ID, false, uint32(unix.ENOSYS))
		m.write(audit.Event{Event: "monitor-error", ID: m.cfg.ID, Error: err.Error()})
		return notification{}, false
	}
	n := notification{act: act, name: SyscallName(req.Arch, req.Nr)}
	n.exec = m.cfg.Plan.Exec && IsExecSyscall(req.Arch, uint32(req.Nr))
	n.complains = act&retActionFull == retErrno && m.cfg.Plan.Complain && !slices.Contains(m.cfg.Plan.ComplainNever, n.name)
	return n, true
}

// answerUnaudited answers at once, without reading the caller, what is beyond the
// audit's budget: a denial, counted by syscall, or an exec let through, counted by path.
// It reports whether it answered.
func (m *Monitor) answerUnaudited(fd int, req *SeccompNotif, n notification) bool {
	denied := n.act&retActionFull == retErrno
	switch {
	case denied && !n.complains && !n.exec && !m.take(m.denials):
		if Answer(fd, req.ID, false, n.act&retData) {
			m.count(m.denials, n.name)
		}
		return true
	case n.exec && !denied && !m.take(m.execs):
		path := m.execPath(req)
		if Answer(fd, req.ID, true, 0) {
			m.count(m.execs, path)
		}
		return true
	}
	return false
}

// readCaller reads what the audit says of the notifying process and, for an exec, what
// it executes. It returns false once the notification is no longer valid.
func (m *Monitor) readCaller(fd int, req *SeccompNotif, n notification) (procInfo, *execCall, bool) {
	// An exec's process is read once more below (its stat, which its watch keeps): the
	// caller's name comes from there. The executable of an exec let through is read once
	// it is known whether it ran (execWatch).
	isExec := n.exec
	letThrough := isExec && (n.act&retActionFull == retAllow || n.act&retActionFull == retLog)
	proc := m.readProc(int(req.Pid), !isExec, !letThrough)
	if !notificationValid(fd, req.ID) {
		return proc, nil, false
	}
	if !isExec {
		return proc, nil, true
	}
	exec := readExecCall(proc, req)
	if exec.stat != nil && proc.tgid == proc.pid {
		proc.comm = exec.before.comm
	} else {
		proc.readComm()
	}
	if !notificationValid(fd, req.ID) {
		exec.release()
		return proc, nil, false
	}
	return proc, exec, true
}

// deny fails a syscall the filter denies with its errno, or lets it run in complain mode,
// and audits it.
func (m *Monitor) deny(fd int, req *SeccompNotif, n notification, exec *execCall, ev audit.Event, watch *execWatch) {
	errno := n.act & retData
	if n.complains {
		if m.continueExec(fd, req, exec, ev, watch) {
			ev.Event, ev.Errno = "seccomp-complain", int(errno)
			ev.Detail = "allowed in complain mode (seccomp.complain); the filter would deny it"
			m.write(ev)
		}
		return
	}
	if !Answer(fd, req.ID, false, errno) {
		return // interrupted: it comes again
	}
	if m.cfg.Plan.Denials || m.cfg.Plan.Complain {
		ev.Event, ev.Errno = "seccomp-denied", int(errno)
		m.flushSuppressed()
		m.write(ev)
	}
	if exec != nil {
		m.write(exec.event(ev, "denied by seccomp"))
	}
}

// kill carries out a kill or trap action on an exec the prologue sent.
func (m *Monitor) kill(fd int, req *SeccompNotif, act uint32, proc procInfo, exec *execCall, ev audit.Event) {
	Answer(fd, req.ID, false, uint32(unix.EPERM))
	sig := unix.SIGKILL
	if act&retActionFull == retTrap {
		sig = unix.SIGSYS
	}
	if proc.tgid > 0 {
		_ = quiet.Kill(proc.tgid, sig)
	}
	if exec != nil {
		m.write(exec.event(ev, "killed by seccomp"))
	}
}

// continueExec lets the syscall run; for an exec, it has watch audit it once its result
// is known. It reports whether the syscall was let through (not interrupted).
func (m *Monitor) continueExec(fd int, req *SeccompNotif, exec *execCall, ev audit.Event, watch *execWatch) bool {
	if !Answer(fd, req.ID, true, 0) {
		return false
	}
	if exec != nil {
		m.watchExec(exec, ev, watch)
	}
	return true
}

// watchExec has watch audit an exec let through once its result is known; when its
// process' stat could not be opened (the monitor out of descriptors, say), it audits the
// exec now, its result unknown, rather than not at all.
func (m *Monitor) watchExec(exec *execCall, ev audit.Event, watch *execWatch) {
	if exec.stat == nil {
		m.write(exec.event(ev, execResultUnknown))
		return
	}
	watch.add(exec, ev, time.Now())
}

// execResultUnknown is the result of an exec let through whose process could not be
// watched.
const execResultUnknown = "unknown"

// take spends a token of budget b, if there is one.
func (m *Monitor) take(b *budget) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return b.take()
}

// count counts key in budget b, to be reported in its summary.
func (m *Monitor) count(b *budget, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.suppressed[key]++
}

// flushSuppressed reports the denials and execs counted but not audited one by one.
func (m *Monitor) flushSuppressed() {
	m.mu.Lock()
	var out []audit.Event
	for _, b := range []*budget{m.denials, m.execs} {
		if ev := b.summary(m.cfg.ID); ev != nil {
			out = append(out, *ev)
		}
	}
	m.mu.Unlock()
	for _, ev := range out {
		m.write(ev)
	}
}

func (m *Monitor) write(ev audit.Event) {
	// The monitor has no one to tell of a failed write but its stderr (/dev/null): the
	// audit log's own failures are the host's to watch.
	_ = m.log.Write(ev)
}

// procInfo is what the monitor reads of a notifying process.
type procInfo struct {
	pid, tgid    int
	uid, hostUID *uint32
	exe, comm    string
}

// readProc reads what the audit says of process pid: its thread group, uid and command
// name (if comm), and its executable (if exe: an exec's event names the executable the
// exec ran, read once it has); the uid as the container sees it comes from the
// container's id map, read once (no process of a container is in another user namespace:
// the filter denies creating one). The process waits meanwhile: the ids come from its
// pidfd where the kernel tells them (threadInfo), from its status elsewhere.
func (m *Monitor) readProc(pid int, comm, exe bool) procInfo {
	p := procInfo{pid: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	if info, ok := threadInfo(pid); ok {
		p.tgid = int(info.Tgid)
		h := info.Euid
		p.hostUID = &h
		if comm {
			p.readComm()
		}
	} else {
		p.readStatus(dir)
	}
	m.mu.Lock()
	if m.uidMap == nil {
		if data, err := readProcFile(dir + "/uid_map"); err == nil {
			m.uidMap = parseIDMap(string(data))
		}
	}
	ids := m.uidMap
	m.mu.Unlock()
	if p.hostUID != nil {
		p.uid = ids.toInside(*p.hostUID)
	}
	if exe {
		p.readExe()
	}
	return p
}

// readExe reads the process' executable.
func (p *procInfo) readExe() { p.exe = exePath(p.pid) }

// exePath is the executable process pid runs ("" if it cannot be read: gone, a zombie).
func exePath(pid int) string {
	exe, _ := quiet.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return exe
}

// readComm reads the thread's command name, unless its status gave it.
func (p *procInfo) readComm() {
	if p.comm != "" {
		return
	}
	if data, err := readProcFile("/proc/" + strconv.Itoa(p.pid) + "/comm"); err == nil {
		p.comm = strings.TrimSuffix(string(data), "\n")
	}
}

// readStatus reads the thread group, effective uid and command name from the process'
// status.
func (p *procInfo) readStatus(dir string) {
	data, err := readProcFile(dir + "/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, val, _ := strings.Cut(line, ":")
		fields := strings.Fields(val)
		switch {
		case key == "Name":
			p.comm = strings.TrimSpace(val)
		case key == "Tgid" && len(fields) > 0:
			p.tgid, _ = strconv.Atoi(fields[0])
		case key == "Uid" && len(fields) > 1:
			if v, err := strconv.ParseUint(fields[1], 10, 32); err == nil {
				h := uint32(v)
				p.hostUID = &h
			}
		}
	}
}

// idMap is a user namespace's id map as read from the host: inside, outside and count of
// each line.
type idMap [][3]uint64

// parseIDMap parses a uid_map or gid_map; a malformed line is left out.
func parseIDMap(text string) idMap {
	out := idMap{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(f[0], 10, 32)
		outside, err2 := strconv.ParseUint(f[1], 10, 32)
		count, err3 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, [3]uint64{inside, outside, count})
	}
	return out
}

// toInside maps a host id to the id it is inside; nil if the map does not cover it.
func (m idMap) toInside(host uint32) *uint32 {
	for _, r := range m {
		if inside, outside, count := r[0], r[1], r[2]; uint64(host) >= outside && uint64(host) < outside+count {
			v := uint32(inside + uint64(host) - outside)
			return &v
		}
	}
	return nil
}

func (p procInfo) event(id string) audit.Event {
	return audit.Event{ID: id, Pid: p.pid, UID: p.uid, HostUID: p.hostUID, Exe: p.exe, Comm: p.comm}
}

// execPath is the path an exec notification asks for, for counting (read without the
// checks an audited exec gets).
func (m *Monitor) execPath(req *SeccompNotif) string {
	addr, _ := execPointers(req)
	p, _ := readString(int(req.Pid), addr)
	return p
}

// execPointers are the addresses of an exec notification's path and argv: execve(path, argv,
// envp), execveat(dirfd, path, argv, envp, flags).
func execPointers(req *SeccompNotif) (path, argv uint64) {
	if nr := uint32(req.Nr) &^ X32SyscallBit; nr == 322 || nr == 545 || nr == 358 || nr == 281 {
		return req.Args[1], req.Args[2]
	}
	return req.Args[0], req.Args[1]
}

// procImage is what identifies the program a process runs: the start of its code and of
// its stack, which an execve replaces (at addresses that differ from the old ones:
// address space layout randomization), and its command name, which a zombie keeps.
// noMemory: the kernel shows no address space (zeros): the process is exiting, past
// releasing its memory but not yet a zombie.
type procImage struct {
	image, comm      string
	zombie, noMemory bool
}

// procStat reads one process' /proc/PID/stat through a descriptor: one pread a look, no
// path lookup, and never another process once this one is reaped (ESRCH).
type procStat struct {
	fd, pid int
	buf     []byte
}

func openProcStat(pid int) (*procStat, error) {
	fd, err := quiet.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return &procStat{fd: fd, pid: pid, buf: make([]byte, 1024)}, nil
}

func (p *procStat) close() { quiet.Close(p.fd) }

// image is what the process runs now; false once it is gone.
func (p *procStat) image() (procImage, bool) {
	n, err := quiet.Pread(p.fd, p.buf, 0)
	if err != nil || n <= 0 {
		return procImage{}, false
	}
	return parseStatImage(p.buf[:n])
}

func parseStatImage(data []byte) (procImage, bool) {
	// The command name is in parentheses and may hold anything.
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procImage{}, false
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state); 26 is startcode, 28 startstack (proc(5)).
	if len(f) < 26 {
		return procImage{}, false
	}
	return procImage{image: f[23] + " " + f[25], comm: string(data[open+1 : end]),
		zombie: f[0] == "Z" || f[0] == "X", noMemory: f[23] == "0" && f[25] == "0"}, true
}

// readProcFile reads a small /proc file with quiet system calls (os.ReadFile would also
// try to register it with Go's poller: five more calls while a syscall waits).
func readProcFile(path string) ([]byte, error) {
	fd, err := quiet.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer quiet.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := quiet.Read(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// execLooks space the looks at an exec'ing process after the exec was let through.
var execLooks = pace.Backoff{First: 250 * time.Microsecond, Fast: time.Millisecond, Quick: 5 * time.Millisecond, Slow: 50 * time.Millisecond}

// execOutcome tells an exec's result from one look at the process (ok: it could be
// read), or that it cannot be told yet.
func execOutcome(before, now procImage, ok bool, newComm string) (result string, done bool) {
	switch {
	case !ok:
		return "exited", true
	case now.zombie && now.comm != before.comm:
		return "executed", true
	case now.zombie && newComm != before.comm:
		return "failed", true
	case now.zombie:
		return "exited", true
	case now.noMemory && now.comm != before.comm:
		// Exiting, its memory gone before it is a zombie, under the name the exec gave.
		return "executed", true
	case now.noMemory:
		// Exiting under its old name: a failed exec, or one of a program of the same
		// name. Look again: the zombie or its absence tells.
		return "", false
	case now.image != before.image:
		return "executed", true
	}
	return "", false
}

// IsExecSyscall: nr is execve or execveat on arch.
func IsExecSyscall(arch, nr uint32) bool {
	for _, e := range execSyscalls {
		if e.audit == arch && slices.Contains(e.nrs, nr) {
			return true
		}
	}
	return false
}

func archName(arch uint32) string {
	switch arch {
	case AuditArchX8664:
		return "x86_64"
	case AuditArchI386:
		return "x86"
	case AuditArchAarch64:
		return "aarch64"
	}
	return fmt.Sprintf("%#x", arch)
}
