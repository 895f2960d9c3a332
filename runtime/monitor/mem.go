package monitor

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/audit"
	"github.com/yoroi-runtime/yoroi/runtime/internal/quiet"
)

// execCall is an execve as the monitor read it from the process' memory.
type execCall struct {
	tgid int
	path string
	argv []string
	at   time.Time
	// stat is the process' stat, opened before the exec (nil if it could not be): it
	// keeps reading this process (never a later one given the same pid) and fails once
	// it is reaped; before is what it read then.
	stat   *procStat
	before procImage
}

// Limits of what is read of an execve's arguments.
const (
	maxExecArgs     = 1024
	maxExecArgBytes = 4096
	maxExecBytes    = 64 << 10
)

// memPage is the unit the reads below never cross within one remote iovec: a page that
// is not mapped then fails its own iovec and no other (4 KiB divides every page size).
const memPage = 4096

// argPeek is how much of each argument the batched read takes at first: most arguments
// end within it; a longer one is read on from there.
const argPeek = 256

// argBatch is how many arguments one process_vm_readv reads (at most argBatch*argPeek
// bytes, well under IOV_MAX iovecs).
const argBatch = 128

// readExecCall reads an exec notification's path and argv from the blocked process'
// memory, and opens its stat. The process waits for the answer meanwhile, so the reads
// take few calls: the argv array a page at a time, the arguments a batch at a time (see
// readArgStrings).
func readExecCall(p procInfo, req *SeccompNotif) *execCall {
	pid := p.pid
	e := &execCall{tgid: pid, at: time.Now().UTC()}
	if p.tgid > 0 {
		e.tgid = p.tgid
	}
	ptr := 8
	if req.Arch == AuditArchI386 || req.Arch == AuditArchX8664 && uint32(req.Nr)&X32SyscallBit != 0 {
		ptr = 4
	}
	pathArg, argvArg := execPointers(req)
	e.path, _ = readString(pid, pathArg)
	if argvArg != 0 {
		e.argv = readArgStrings(pid, readArgPointers(pid, argvArg, ptr))
	}
	if stat, err := openProcStat(e.tgid); err == nil {
		e.stat = stat
		e.before, _ = stat.image()
	}
	return e
}

// release closes the process' stat, unless a watch took it.
func (e *execCall) release() {
	if e.stat != nil {
		e.stat.close()
		e.stat = nil
	}
}

// event is the audit event of the exec, with its result.
func (e *execCall) event(base audit.Event, result string) audit.Event {
	base.Event, base.Time = "execve", e.at
	base.Path, base.Args, base.Result = e.path, e.argv, result
	base.Errno = 0
	return base
}

// readArgPointers reads a NULL-terminated array of ptr-byte pointers at addr (at most
// maxExecArgs of them), up to the end of a page per read; it stops at the NULL or at the
// first pointer it cannot read.
func readArgPointers(pid int, addr uint64, ptr int) []uint64 {
	var out []uint64
	for len(out) < maxExecArgs {
		n := memPage - int(addr%memPage)
		n -= n % ptr
		if n == 0 {
			n = ptr // a pointer across a page boundary: read on its own
		}
		n = min(n, (maxExecArgs-len(out))*ptr)
		buf := make([]byte, n)
		if !readMem(pid, addr, buf) {
			return out
		}
		for off := 0; off < n; off += ptr {
			var p uint64
			if ptr == 4 {
				p = uint64(binary.NativeEndian.Uint32(buf[off:]))
			} else {
				p = binary.NativeEndian.Uint64(buf[off:])
			}
			if p == 0 {
				return out
			}
			out = append(out, p)
		}
		addr += uint64(n)
	}
	return out
}

// argSpan bounds the one read of readSpan.
const argSpan = 64 << 10

// readArgStrings reads the strings at ptrs: in one read of the memory they lie in, when
// they lie close together (readSpan), or else a batch at a time (readBatches). An
// argument that cannot be read is what could be read of it (possibly ""); once the
// arguments exceed maxExecBytes, "..." ends the list.
func readArgStrings(pid int, ptrs []uint64) []string {
	var l argList
	if !l.readSpan(pid, ptrs) {
		l.readBatches(pid, ptrs)
	}
	return l.args
}

// argList collects an exec's arguments.
type argList struct {
	args  []string
	total int
}

// add appends s; false once the arguments exceed maxExecBytes ("..." ends them then).
func (l *argList) add(s string) bool {
	l.total += len(s)
	if l.total > maxExecBytes {
		l.args = append(l.args, "...")
		return false
	}
	l.args = append(l.args, s)
	return true
}

// readSpan reads the arguments from one copy of the memory from the lowest of them to the
// end of the page of the highest, when that is at most argSpan (a shell's or a Go
// program's argv lies close together): one process_vm_readv, its pages pinned once each,
// where a remote iovec per argument pins each argument's page anew. An argument that
// runs past the copy is read on from there. False, having added nothing, when the
// arguments lie further apart or that memory is not all mapped.
func (l *argList) readSpan(pid int, ptrs []uint64) bool {
	if len(ptrs) < 2 {
		return false
	}
	lo, hi := slices.Min(ptrs), slices.Max(ptrs)
	end := hi - hi%memPage + memPage
	if end < hi || end-lo > argSpan {
		return false
	}
	buf := make([]byte, end-lo)
	if !readMem(pid, lo, buf) {
		return false
	}
	for _, p := range ptrs {
		b := buf[p-lo:]
		s, ok := stringAt(b)
		if !ok {
			s, _ = readStringFrom(pid, p+uint64(len(b)), b)
		}
		if !l.add(s) {
			break
		}
	}
	return true
}

// readBatches reads each argument's first bytes (argPeek, never across a page) for a
// batch of arguments in one process_vm_readv, and reads on an argument that does not end
// there.
func (l *argList) readBatches(pid int, ptrs []uint64) {
	for len(ptrs) > 0 {
		batch := ptrs[:min(len(ptrs), argBatch)]
		peeks, read := peekStrings(pid, batch)
		if read == 0 {
			// The first cannot be read at its start: what readString makes of it (nil).
			read = 1
		}
		for i := range read {
			var s string
			var ok bool
			if peeks[i] != nil {
				s, ok = stringAt(peeks[i])
			}
			if !ok {
				s, _ = readStringFrom(pid, batch[i]+uint64(len(peeks[i])), peeks[i])
			}
			if !l.add(s) {
				return
			}
		}
		ptrs = ptrs[read:]
	}
}

// stringAt is the string at the start of b as readString reads it from memory that holds
// b there: up to its NUL, at most maxExecArgBytes. False when b holds neither its end nor
// maxExecArgBytes of it (more must be read).
func stringAt(b []byte) (string, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:min(i, maxExecArgBytes)]), true
	}
	if len(b) >= maxExecArgBytes {
		return string(b[:maxExecArgBytes]), true
	}
	return "", false
}

// peekStrings reads the first bytes of each string at addrs with one process_vm_readv,
// one remote iovec each (up to argPeek bytes, never across a page). The kernel copies the
// iovecs in order and stops at the first it cannot read: read is how many were read in
// full, and peeks[i] holds string i's bytes for i < read.
func peekStrings(pid int, addrs []uint64) (peeks [][]byte, read int) {
	lens := make([]int, len(addrs))
	size := 0
	remote := make([]unix.RemoteIovec, len(addrs))
	for i, a := range addrs {
		lens[i] = min(argPeek, memPage-int(a%memPage))
		remote[i] = unix.RemoteIovec{Base: uintptr(a), Len: lens[i]}
		size += lens[i]
	}
	buf := make([]byte, size)
	local := []unix.Iovec{{Base: unsafe.SliceData(buf)}}
	local[0].SetLen(size)
	n, err := quiet.ProcessVMReadv(pid, local, remote)
	if err != nil {
		n = 0
	}
	peeks = make([][]byte, len(addrs))
	off := 0
	for i, l := range lens {
		if off+l > n {
			break
		}
		peeks[i] = buf[off : off+l : off+l]
		off += l
		read++
	}
	return peeks, read
}

func readMem(pid int, addr uint64, buf []byte) bool {
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := quiet.ProcessVMReadv(pid, local, remote)
	return err == nil && n == len(buf)
}

// readString reads a NUL-terminated string at addr, up to maxExecArgBytes; it reads in
// chunks that never cross a page, so that a string ending before an unmapped page reads.
func readString(pid int, addr uint64) (string, bool) {
	return readStringFrom(pid, addr, nil)
}

// readStringFrom goes on reading a string at addr of which out was already read.
func readStringFrom(pid int, addr uint64, out []byte) (string, bool) {
	for len(out) < maxExecArgBytes {
		n := memPage - int(addr%memPage)
		buf := make([]byte, n)
		if !readMem(pid, addr, buf) {
			return string(out), false
		}
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			out = append(out, buf[:i]...)
			if len(out) > maxExecArgBytes {
				return string(out[:maxExecArgBytes]), false
			}
			return string(out), true
		}
		out = append(out, buf...)
		addr += uint64(n)
	}
	return string(out[:maxExecArgBytes]), false
}
