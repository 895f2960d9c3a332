package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/internal/pace"
)

// filteredThread runs on a thread of its own, under a filter that sends getppid to a new
// listener: it returns the listener, a channel that makes the thread call getppid and
// answers with the call's errno, and one that ends the thread (the filter's last user).
func filteredThread(t *testing.T) (fd int, call chan<- struct{}, result <-chan syscall.Errno, end chan<- struct{}) {
	t.Helper()
	calls, results, ends := make(chan struct{}), make(chan syscall.Errno), make(chan struct{})
	fds := make(chan int)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		insns := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_GETPPID},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		}
		prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fds <- -1
			return
		}
		r, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&prog)))
		if e != 0 {
			fds <- -1
			return
		}
		fds <- int(r)
		for {
			select {
			case <-calls:
				_, _, e := syscall.Syscall(unix.SYS_GETPPID, 0, 0, 0) // releases its P while it waits
				results <- e
			case <-ends:
				return
			}
		}
	}()
	fd = <-fds
	if fd < 0 {
		t.Skip("this kernel gives no seccomp listener to this process")
	}
	return fd, calls, results, ends
}

// A Listener returns nothing when its timeout passes, a notification when a filtered
// call is made (answered as the monitor answers it), and errListenerGone once no thread
// is left under the filter: waiting hot (right after a notification) and parked (after a
// quiet spell, or always when the program runs on one P).
func TestListener(t *testing.T) {
	for _, procs := range []int{runtime.GOMAXPROCS(0), 1} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			testListener(t)
		})
	}
}

func testListener(t *testing.T) {
	fd, call, result, end := filteredThread(t)
	l, err := NewListener(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	start := time.Now()
	if req, err := l.Next(20 * time.Millisecond); req != nil || err != nil {
		t.Fatalf("Next with nothing pending: %+v, %v", req, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("Next returned after %s, before its timeout", d)
	}

	for i, errno := range []syscall.Errno{unix.EPERM, unix.ENOSYS, unix.EACCES} {
		if i == 2 {
			time.Sleep(2 * hotWindow) // parked again
		}
		call <- struct{}{}
		req, err := l.Next(-1)
		if err != nil || req == nil {
			t.Fatalf("Next: %+v, %v", req, err)
		}
		if req.Nr != unix.SYS_GETPPID || req.Arch != AuditArchX8664 && runtime.GOARCH == "amd64" {
			t.Errorf("notification for syscall %d arch %#x, want getppid", req.Nr, req.Arch)
		}
		if !notificationValid(l.FD(), req.ID) {
			t.Error("a pending notification is not valid")
		}
		if !Answer(l.FD(), req.ID, false, uint32(errno)) {
			t.Error("the answer did not reach the call")
		}
		if got := <-result; got != errno {
			t.Errorf("the call got errno %v, want %v", got, errno)
		}
		if notificationValid(l.FD(), req.ID) {
			t.Error("an answered notification is still valid")
		}
	}

	call <- struct{}{}
	req, err := l.Next(time.Second)
	if err != nil || req == nil {
		t.Fatalf("Next: %+v, %v", req, err)
	}
	Answer(l.FD(), req.ID, true, 0)
	if got := <-result; got != 0 {
		t.Errorf("a continued getppid failed: %v", got)
	}

	close(end)
	if req, err := l.Next(5 * time.Second); !errors.Is(err, errListenerGone) {
		t.Errorf("Next after the filter's last thread ended: %+v, %v; want errListenerGone", req, err)
	}
}

// offerListener plays a launcher's part up to its filter (launcher.c's offer_listener):
// it offers the listener at descriptor number, where something else is for now, over a
// connection whose monitor end it returns, and returns its own end.
func offerListener(t *testing.T, number int) (*net.UnixConn, int) {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(pair[0]), "monitor-end")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); unix.Close(pair[1]) })
	self, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Skipf("no pidfd: %v", err)
	}
	defer unix.Close(self)
	msg := binary.NativeEndian.AppendUint32(nil, uint32(number))
	if err := unix.Sendmsg(pair[1], msg, unix.UnixRights(self), nil, 0); err != nil {
		t.Fatal(err)
	}
	return c.(*net.UnixConn), pair[1]
}

// The monitor takes an offered listener once it is at its number: at once when the
// launcher announces its filter, not at the next of its looks (here made a minute
// apart); and, from a launcher that does not announce, at a look.
func TestTakeListener(t *testing.T) {
	listener, _, _, end := filteredThread(t)
	defer close(end)
	looks := listenerLooks
	defer func() { listenerLooks = looks }()
	for _, announce := range []bool{true, false} {
		listenerLooks = looks
		if announce {
			listenerLooks = pace.Backoff{First: time.Minute, Fast: time.Minute, Slow: time.Minute}
		}
		placeholder, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		conn, launcher := offerListener(t, placeholder)
		go func() {
			time.Sleep(20 * time.Millisecond)
			// The filter installed: the listener at the number offered.
			_ = unix.Dup3(listener, placeholder, unix.O_CLOEXEC)
			if announce {
				_, _ = unix.Write(launcher, []byte{1})
			}
		}()
		began := time.Now()
		fd, err := takeListener(conn)
		if err != nil {
			t.Fatalf("announce %v: %v", announce, err)
		}
		if !isSeccompListener(fd) {
			t.Errorf("announce %v: took descriptor %d, not a seccomp listener", announce, fd)
		}
		if announce && time.Since(began) >= time.Minute {
			t.Errorf("announced: taken after %v, at a look rather than at the announcement", time.Since(began))
		}
		ack := make([]byte, 1)
		if n, err := unix.Read(launcher, ack); n != 1 || err != nil {
			t.Errorf("announce %v: no acknowledgement (%d, %v)", announce, n, err)
		}
		unix.Close(fd)
		unix.Close(placeholder)
	}
}

// The launcher announces its filter only where the filter allows the announcement (a
// send on the monitor's descriptor) as it is: not where it denies, notifies, logs or
// kills it, nor where it allows it on another descriptor only.
func TestAnnounceAllowed(t *testing.T) {
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	onSendto := func(k uint32) []unix.SockFilter {
		return []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_SENDTO},
			ret(k),
			ret(unix.SECCOMP_RET_ALLOW),
		}
	}
	onFD5 := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 16}, // args[0], low word
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: 5},
		ret(unix.SECCOMP_RET_ALLOW),
		ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)),
	}
	for _, tc := range []struct {
		name  string
		prog  []unix.SockFilter
		fd    int
		allow bool
	}{
		{"allowed", onSendto(unix.SECCOMP_RET_ALLOW), 5, true},
		{"denied", onSendto(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)), 5, false},
		{"notified", onSendto(unix.SECCOMP_RET_USER_NOTIF), 5, false},
		{"logged", onSendto(unix.SECCOMP_RET_LOG), 5, false},
		{"killed", onSendto(unix.SECCOMP_RET_KILL_PROCESS), 5, false},
		{"allowed on its descriptor", onFD5, 5, true},
		{"allowed on another descriptor only", onFD5, 6, false},
	} {
		raw := make([]byte, 0, 8*len(tc.prog))
		for _, in := range tc.prog {
			raw = binary.NativeEndian.AppendUint16(raw, in.Code)
			raw = append(raw, in.Jt, in.Jf)
			raw = binary.NativeEndian.AppendUint32(raw, in.K)
		}
		if got := AnnounceAllowed(raw, tc.fd); got != tc.allow {
			t.Errorf("%s: AnnounceAllowed %v, want %v", tc.name, got, tc.allow)
		}
	}
	if AnnounceAllowed([]byte{1, 2, 3}, 5) {
		t.Error("a malformed program allows the announcement")
	}
}
