package monitor

import (
	"os"
	goruntime "runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary's main goroutine keeps the leader thread (as yoroi's binaries' does), so
// that a goroutine locked to a thread below runs on another.
func init() { goruntime.LockOSThread() }

// threadInfo names a thread's process and effective uid, for the group leader and for
// another thread, as the monitor's status parsing does.
func TestThreadInfo(t *testing.T) {
	var uname unix.Utsname
	_ = unix.Uname(&uname)
	info, ok := threadInfo(os.Getpid())
	if !ok {
		t.Skipf("no PIDFD_GET_INFO with PIDFD_THREAD on this kernel (%s; Linux 6.13 has both): the monitor reads /proc/PID/status", unix.ByteSliceToString(uname.Release[:]))
	}
	var status procInfo
	status.readStatus("/proc/" + strconv.Itoa(os.Getpid()))
	if int(info.Tgid) != os.Getpid() || int(info.Tgid) != status.tgid || status.hostUID == nil || info.Euid != *status.hostUID || int(info.Euid) != os.Geteuid() {
		t.Errorf("leader: pidfd says tgid %d euid %d, status %d %v, process %d %d", info.Tgid, info.Euid, status.tgid, status.hostUID, os.Getpid(), os.Geteuid())
	}
	tids := make(chan int)
	done := make(chan struct{})
	go func() {
		goruntime.LockOSThread() // this thread is not reused while the test reads it
		tids <- unix.Gettid()
		<-done
	}()
	tid := <-tids
	defer close(done)
	if tid == os.Getpid() {
		t.Fatal("the goroutine runs on the leader thread")
	}
	info, ok = threadInfo(tid)
	if !ok || int(info.Tgid) != os.Getpid() || int(info.Pid) != tid {
		t.Errorf("thread %d: pidfd says %+v (ok %v), want tgid %d", tid, info, ok, os.Getpid())
	}
	if _, ok := threadInfo(1 << 22); ok {
		t.Error("a thread that does not exist has info")
	}
}
