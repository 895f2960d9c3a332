package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The monitor's filter is the container's compiled filter with two changes, made on the
// BPF program itself so that allowed syscalls take the same path through the same
// instructions as before:
//   - every "return ERRNO(n)" becomes "return USER_NOTIF" (when denials are audited or
//     the filter complains; ERRNO(ENOSYS) only when it complains, see
//     MonitorPlan.NotifiesErrno): the monitor learns of the call and answers it, with -n
//     (it runs the original program on the call to find n) or by letting it run;
//   - a prologue sends execve and execveat of the admitted architectures to the monitor
//     (when execs are audited), which runs the original program on them too.
// Kill and trap actions stay as they are: the kernel carries them out, unreported.

// Classic BPF as seccomp uses it (linux/bpf_common.h, linux/seccomp.h).
const (
	bpfLD       = 0x00
	bpfLDX      = 0x01
	bpfST       = 0x02
	bpfSTX      = 0x03
	bpfALU      = 0x04
	bpfJMP      = 0x05
	bpfRET      = 0x06
	bpfMISC     = 0x07
	bpfW        = 0x00
	bpfIMM      = 0x00
	bpfABS      = 0x20
	bpfMEM      = 0x60
	bpfLEN      = 0x80
	bpfK        = 0x00
	bpfX        = 0x08
	bpfA        = 0x10
	bpfJA       = 0x00
	bpfJEQ      = 0x10
	bpfJGT      = 0x20
	bpfJGE      = 0x30
	bpfJSET     = 0x40
	bpfADD      = 0x00
	bpfSUB      = 0x10
	bpfMUL      = 0x20
	bpfDIV      = 0x30
	bpfOR       = 0x40
	bpfAND      = 0x50
	bpfLSH      = 0x60
	bpfRSH      = 0x70
	bpfNEG      = 0x80
	bpfMOD      = 0x90
	bpfXOR      = 0xa0
	bpfTAX      = 0x00
	bpfTXA      = 0x80
	bpfMemWords = 16

	retActionFull = 0xffff0000
	retData       = 0x0000ffff
	retKillProc   = 0x80000000
	retKillThread = 0x00000000
	retTrap       = 0x00030000
	retErrno      = 0x00050000
	retUserNotif  = 0x7fc00000
	retTrace      = 0x7ff00000
	retLog        = 0x7ffc0000
	retAllow      = 0x7fff0000

	seccompDataSize = 64
)

// auditArch values (linux/audit.h) and the execve family's numbers on each.
const (
	AuditArchX8664   = 0xc000003e
	AuditArchI386    = 0x40000003
	AuditArchAarch64 = 0xc00000b7
	X32SyscallBit    = 0x40000000
)

// execSyscalls are the execve and execveat numbers of each architecture a filter of this
// host may admit, by libcontainer's architecture name.
var execSyscalls = map[string]struct {
	audit uint32
	nrs   []uint32
}{
	"amd64": {AuditArchX8664, []uint32{59, 322}},
	"x32":   {AuditArchX8664, []uint32{X32SyscallBit | 520, X32SyscallBit | 545}},
	"x86":   {AuditArchI386, []uint32{11, 358}},
	"arm64": {AuditArchAarch64, []uint32{221, 281}},
}

// Instructions views raw as the struct sock_filter array it holds (native byte order).
func Instructions(raw []byte) ([]unix.SockFilter, error) {
	if len(raw) == 0 || len(raw)%8 != 0 {
		return nil, fmt.Errorf("seccomp filter: %d bytes is not a whole number of instructions", len(raw))
	}
	out := make([]unix.SockFilter, len(raw)/8)
	for i := range out {
		b := raw[8*i:]
		out[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:2]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:8]),
		}
	}
	return out, nil
}

// Raw is insns as the kernel takes them (struct sock_filter, native byte order).
func Raw(insns []unix.SockFilter) []byte {
	if len(insns) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&insns[0])), len(insns)*int(unsafe.Sizeof(insns[0])))
}

// Rewrite is a container's filter rewritten for its monitor m: see above. archs are the
// libseccomp names of the architectures the filter admits.
func Rewrite(insns []unix.SockFilter, m *hardening.MonitorPlan, archs []string) ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, 0, len(insns)+16)
	if m.Exec {
		pro, err := execPrologue(archs)
		if err != nil {
			return nil, err
		}
		out = append(out, pro...)
	}
	for _, in := range insns {
		if in.Code == bpfRET|bpfA {
			return nil, errors.New("seccomp filter returns a computed action: cannot hand its denials to the monitor")
		}
		if in.Code == bpfRET|bpfK && in.K&retActionFull == retErrno && m.NotifiesErrno(in.K&retData) {
			in.K = retUserNotif
		}
		out = append(out, in)
	}
	return out, nil
}

// execPrologue notifies execve and execveat of each admitted architecture and falls
// through to the program otherwise:
//
//	ld [arch]; jeq ARCH, 0, NEXT; ld [nr]; jeq NR1, NOTIFY, 0; ...; ja MAIN
//	NEXT: (the next architecture) ... NOTIFY: ret USER_NOTIF; MAIN: the program
func execPrologue(archs []string) ([]unix.SockFilter, error) {
	type block struct {
		audit uint32
		nrs   []uint32
	}
	var blocks []block
	for _, a := range archs {
		e, ok := execSyscalls[a]
		if !ok {
			continue
		}
		merged := false
		for i := range blocks {
			if blocks[i].audit == e.audit {
				blocks[i].nrs = append(blocks[i].nrs, e.nrs...)
				merged = true
			}
		}
		if !merged {
			blocks = append(blocks, block{e.audit, append([]uint32(nil), e.nrs...)})
		}
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("no execve number known for the filter's architectures %v", archs)
	}
	size := 1 // NOTIFY
	for _, b := range blocks {
		size += 4 + len(b.nrs)
	}
	notify := size - 1 // index of NOTIFY; MAIN follows it
	var out []unix.SockFilter
	for i, b := range blocks {
		start := len(out)
		next := start + 4 + len(b.nrs) // the next architecture's block
		if i == len(blocks)-1 {
			next = notify + 1 // none of them: the program
		}
		out = append(out,
			unix.SockFilter{Code: bpfLD | bpfW | bpfABS, K: 4},
			unix.SockFilter{Code: bpfJMP | bpfJEQ | bpfK, K: b.audit, Jf: jump(start+1, next)},
			unix.SockFilter{Code: bpfLD | bpfW | bpfABS, K: 0})
		for _, nr := range b.nrs {
			out = append(out, unix.SockFilter{Code: bpfJMP | bpfJEQ | bpfK, K: nr, Jt: jump(len(out), notify)})
		}
		out = append(out, unix.SockFilter{Code: bpfJMP | bpfJA, K: uint32(notify + 1 - (len(out) + 1))})
	}
	out = append(out, unix.SockFilter{Code: bpfRET | bpfK, K: retUserNotif})
	return out, nil
}

// jump is the offset of a conditional jump at from to to.
func jump(from, to int) uint8 { return uint8(to - from - 1) }

// SeccompData is the kernel's struct seccomp_data, as the filter reads it.
type SeccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// Word is the 32-bit word of d at byte offset off, as a filter's load reads it (false:
// not an aligned offset within seccomp_data).
func (d *SeccompData) Word(off uint32) (uint32, bool) {
	if off%4 != 0 || off+4 > seccompDataSize {
		return 0, false
	}
	b := (*[seccompDataSize]byte)(unsafe.Pointer(d))
	return binary.NativeEndian.Uint32(b[off : off+4]), true
}

// load is what a load instruction (to the accumulator or the index register) reads: a
// word of the input, the constant, a scratch word or the input's length.
func load(in unix.SockFilter, d *SeccompData, mem *[bpfMemWords]uint32) (uint32, error) {
	switch in.Code &^ 0x07 {
	case bpfW | bpfABS:
		if in.Code&0x07 != bpfLD {
			break // the index register has no absolute load
		}
		w, ok := d.Word(in.K)
		if !ok {
			return 0, fmt.Errorf("load of offset %d", in.K)
		}
		return w, nil
	case bpfW | bpfIMM:
		return in.K, nil
	case bpfW | bpfMEM:
		if in.K >= bpfMemWords {
			return 0, fmt.Errorf("scratch word %d", in.K)
		}
		return mem[in.K], nil
	case bpfW | bpfLEN:
		return seccompDataSize, nil
	}
	return 0, fmt.Errorf("instruction %#x", in.Code)
}

// RunFilter runs a seccomp program on d as the kernel does and returns its action. A
// program the kernel would have refused to load is an error.
func RunFilter(insns []unix.SockFilter, d *SeccompData) (uint32, error) {
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		src := in.K
		if in.Code&bpfX != 0 {
			src = x
		}
		switch in.Code & 0x07 {
		case bpfLD, bpfLDX:
			v, err := load(in, d, &mem)
			if err != nil {
				return 0, err
			}
			if in.Code&0x07 == bpfLD {
				a = v
			} else {
				x = v
			}
		case bpfST, bpfSTX:
			if in.K >= bpfMemWords {
				return 0, fmt.Errorf("scratch word %d", in.K)
			}
			if in.Code&0x07 == bpfST {
				mem[in.K] = a
			} else {
				mem[in.K] = x
			}
		case bpfALU:
			v, ok, err := alu(in.Code, a, src)
			if err != nil || !ok {
				return 0, err // a division by zero ends the program with 0, as the kernel's does
			}
			a = v
		case bpfJMP:
			skip, err := jumpSkip(in, a, src)
			if err != nil {
				return 0, err
			}
			pc += skip
		case bpfRET:
			if in.Code&0x18 == bpfA {
				return a, nil
			}
			return in.K, nil
		case bpfMISC:
			if in.Code&0xf8 == bpfTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, errors.New("program ends without returning")
}

// alu is the accumulator after the ALU instruction code with operand src; not ok for a
// division by zero (X). A constant the kernel refuses to load (a division by zero, a
// shift by 32 or more) is an error.
func alu(code uint16, a, src uint32) (_ uint32, ok bool, _ error) {
	op := code & 0xf0
	if code&bpfX == 0 && ((op == bpfDIV || op == bpfMOD) && src == 0 || (op == bpfLSH || op == bpfRSH) && src >= 32) {
		return 0, false, fmt.Errorf("instruction %#x with constant %d", code, src)
	}
	switch op {
	case bpfADD:
		return a + src, true, nil
	case bpfSUB:
		return a - src, true, nil
	case bpfMUL:
		return a * src, true, nil
	case bpfDIV:
		if src == 0 {
			return 0, false, nil
		}
		return a / src, true, nil
	case bpfMOD:
		if src == 0 {
			return 0, false, nil
		}
		return a % src, true, nil
	case bpfOR:
		return a | src, true, nil
	case bpfAND:
		return a & src, true, nil
	case bpfXOR:
		return a ^ src, true, nil
	case bpfLSH:
		return a << (src & 31), true, nil
	case bpfRSH:
		return a >> (src & 31), true, nil
	case bpfNEG:
		return -a, true, nil
	}
	return 0, false, fmt.Errorf("instruction %#x", code)
}

// jumpSkip is how many instructions the jump in skips, given the accumulator a and
// operand src.
func jumpSkip(in unix.SockFilter, a, src uint32) (int, error) {
	var taken bool
	switch in.Code & 0xf0 {
	case bpfJA:
		return int(in.K), nil
	case bpfJEQ:
		taken = a == src
	case bpfJGT:
		taken = a > src
	case bpfJGE:
		taken = a >= src
	case bpfJSET:
		taken = a&src != 0
	default:
		return 0, fmt.Errorf("instruction %#x", in.Code)
	}
	if taken {
		return int(in.Jt), nil
	}
	return int(in.Jf), nil
}
