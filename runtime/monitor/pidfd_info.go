package monitor

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/internal/quiet"
)

// pidfdInfo is the kernel's struct pidfd_info as PIDFD_GET_INFO (Linux 6.13) fills it:
// its first version, 64 bytes. Ids are as the caller's namespaces see them.
type pidfdInfo struct {
	Mask, CgroupID                                                    uint64
	Pid, Tgid, Ppid, Ruid, Rgid, Euid, Egid, Suid, Sgid, Fsuid, Fsgid uint32
	ExitCode                                                          int32
}

var _ [64 - unsafe.Sizeof(pidfdInfo{})]byte // the size the ioctl's number encodes
var _ [unsafe.Sizeof(pidfdInfo{}) - 64]byte

const (
	pidfdGetInfo   = 0xC040FF0B // _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info)
	pidfdInfoPid   = 1 << 0
	pidfdInfoCreds = 1 << 1
	pidfdThread    = unix.O_EXCL // PIDFD_THREAD (Linux 6.9): tid may name any thread
)

// threadInfo asks the kernel for the thread group and credentials of thread tid: a pidfd
// and one ioctl, where /proc/TID/status has the kernel format some forty lines (and the
// monitor parse them) while the thread waits for the monitor's answer. False on a kernel
// without PIDFD_GET_INFO or PIDFD_THREAD, or when the thread is gone.
func threadInfo(tid int) (pidfdInfo, bool) {
	fd, err := quiet.PidfdOpen(tid, pidfdThread)
	if err != nil {
		return pidfdInfo{}, false
	}
	defer quiet.Close(fd)
	info := pidfdInfo{Mask: pidfdInfoPid | pidfdInfoCreds}
	if quiet.Ioctl(fd, pidfdGetInfo, &info) != nil {
		return pidfdInfo{}, false
	}
	want := uint64(pidfdInfoPid | pidfdInfoCreds)
	return info, info.Mask&want == want && info.Tgid != 0
}
