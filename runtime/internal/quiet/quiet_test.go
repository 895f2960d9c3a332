package quiet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Each call does what its usual form does, errors included.
func TestCalls(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")

	fd, err := Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("Open: descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
	for _, s := range []string{"one\n", "two\n"} {
		if err := Write(fd, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	Close(fd)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("Open made %v, %v: want mode 0600", st, err)
	}

	fd, err = Open(path, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := Read(fd, buf); err != nil || string(buf[:n]) != "one\ntwo\n" {
		t.Errorf("Read: %q, %v", buf[:n], err)
	}
	if n, err := Pread(fd, buf, 4); err != nil || string(buf[:n]) != "two\n" {
		t.Errorf("Pread at 4: %q, %v", buf[:n], err)
	}
	if err := Write(fd, []byte("x")); err != unix.EBADF {
		t.Errorf("Write to a read-only descriptor: %v, want EBADF", err)
	}
	Close(fd)

	link := filepath.Join(dir, "l")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if got, err := Readlink(link); err != nil || got != path {
		t.Errorf("Readlink: %q, %v", got, err)
	}
	long := "/" + strings.Repeat("d/", 300) + "target" // longer than the first buffer
	if err := os.Symlink(long, filepath.Join(dir, "long")); err != nil {
		t.Fatal(err)
	}
	if got, err := Readlink(filepath.Join(dir, "long")); err != nil || got != long {
		t.Errorf("Readlink of a %d-byte target: %d bytes, %v", len(long), len(got), err)
	}
	if _, err := Open(link, unix.O_RDONLY|unix.O_NOFOLLOW, 0); err != unix.ELOOP {
		t.Errorf("Open O_NOFOLLOW of a symlink: %v, want ELOOP", err)
	}
	if _, err := Open(filepath.Join(dir, "none"), unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("Open of nothing: %v, want ENOENT", err)
	}
	if _, err := Readlink(path); err != unix.EINVAL {
		t.Errorf("Readlink of a file: %v, want EINVAL", err)
	}
}

// Poll reports what is pending now, without waiting; Ioctl passes its argument.
func TestPollAndIoctl(t *testing.T) {
	p := pipe(t)
	if ev, err := Poll(p[0], unix.POLLIN); err != nil || ev != 0 {
		t.Errorf("Poll of an empty pipe: %#x, %v", ev, err)
	}
	if _, err := unix.Write(p[1], []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if ev, err := Poll(p[0], unix.POLLIN); err != nil || ev&unix.POLLIN == 0 {
		t.Errorf("Poll of a pipe holding bytes: %#x, %v", ev, err)
	}
	var n int32
	if err := Ioctl(p[0], unix.TIOCINQ, &n); err != nil || n != 3 {
		t.Errorf("TIOCINQ (FIONREAD): %d, %v", n, err)
	}
	unix.Close(p[1])
	p[1] = -1
	if ev, err := Poll(p[0], unix.POLLIN); err != nil || ev&unix.POLLIN == 0 {
		t.Errorf("Poll after the writer closed: %#x, %v", ev, err)
	}
}

// ProcessVMReadv reads another address; PidfdOpen and Kill reach a process.
func TestProcessCalls(t *testing.T) {
	src := []byte("in this process' memory")
	dst := make([]byte, len(src))
	local := []unix.Iovec{{Base: &dst[0]}}
	local[0].SetLen(len(dst))
	remote := []unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&src[0])), Len: len(src)}}
	if n, err := ProcessVMReadv(os.Getpid(), local, remote); err != nil || n != len(src) || string(dst) != string(src) {
		t.Errorf("ProcessVMReadv: %d %q, %v", n, dst, err)
	}
	fd, err := PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Fatal(err)
	}
	Close(fd)
	if err := Kill(os.Getpid(), 0); err != nil {
		t.Errorf("Kill(self, 0): %v", err)
	}
	if _, err := PidfdOpen(-1, 0); err != unix.EINVAL {
		t.Errorf("PidfdOpen(-1): %v, want EINVAL", err)
	}
}

// PollFor waits up to its duration: it returns the events that come, or none once the
// duration passes. A signal may end a wait early with none (Go preempts a goroutine that
// ran 10 ms, which a busy machine makes likely), but a preempted goroutine's time starts
// again: of a few waits in a row, one lasts its whole duration.
func TestPollFor(t *testing.T) {
	p := pipe(t)
	var waits []time.Duration
	for len(waits) < 5 && (len(waits) == 0 || waits[len(waits)-1] < 2*time.Millisecond) {
		start := time.Now()
		if ev, err := PollFor(p[0], unix.POLLIN, 2*time.Millisecond); err != nil || ev != 0 {
			t.Errorf("PollFor of an empty pipe: %#x, %v", ev, err)
		}
		waits = append(waits, time.Since(start))
	}
	if waits[len(waits)-1] < 2*time.Millisecond {
		t.Errorf("PollFor returned before its duration %d times in a row: %v", len(waits), waits)
	}
	// The writer is waited for before the pipe is closed: its descriptor's number is the
	// next test's to reuse.
	written := make(chan struct{})
	defer func() { <-written }()
	go func() {
		defer close(written)
		time.Sleep(time.Millisecond)
		unix.Write(p[1], []byte("x"))
	}()
	var ev int16
	var err error
	for deadline := time.Now().Add(5 * time.Second); err == nil && ev == 0 && time.Now().Before(deadline); {
		ev, err = PollFor(p[0], unix.POLLIN, time.Until(deadline))
	}
	if err != nil || ev&unix.POLLIN == 0 {
		t.Errorf("PollFor of a pipe written to: %#x, %v", ev, err)
	}
}

// pipe is a pipe closed at the end of the test (a side set to -1 is not).
func pipe(t *testing.T) *[2]int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, fd := range p {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	})
	return &p
}
