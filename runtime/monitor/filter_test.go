package monitor

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Every ALU and jump instruction, with a constant and with X as the operand, agrees with
// golang.org/x/net/bpf's (libseccomp's programs use few of them): the accumulator holds
// the syscall number, X the operand; division by zero in X ends the program with 0, and
// a program both refuse (a constant divisor of zero, a constant shift of 32 or more, as
// the kernel does) is an error. (A shift by X of 32 or more is left out: the kernel's
// JITs take the count modulo 32, as runFilter does; x/net/bpf gives 0.)
func TestRunFilterInstructions(t *testing.T) {
	const ldNr, ldxImm, retA, retK = 0x20, 0x01, 0x16, 0x06
	ops := []uint16{0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0}
	jumps := []uint16{0x10, 0x20, 0x30, 0x40}
	var progs [][]bpf.RawInstruction
	for _, operand := range []uint32{0, 1, 3, 31, 0x80000000} {
		for _, src := range []uint16{0x00, 0x08} {
			for _, op := range ops {
				if op == 0x80 && src == 0x08 || (op == 0x60 || op == 0x70) && src == 0x08 && operand >= 32 {
					continue // neg has no operand; see above for shifts
				}
				progs = append(progs, []bpf.RawInstruction{{Op: ldNr}, {Op: ldxImm, K: operand},
					{Op: 0x04 | op | src, K: operand}, {Op: retA}})
			}
			for _, op := range jumps {
				progs = append(progs, []bpf.RawInstruction{{Op: ldNr}, {Op: ldxImm, K: operand},
					{Op: 0x05 | op | src, Jt: 1, K: operand}, {Op: retK, K: 1}, {Op: retK, K: 2}})
			}
		}
		progs = append(progs, []bpf.RawInstruction{{Op: 0x05, K: 1}, {Op: retK, K: 1}, {Op: retK, K: 2}})
	}
	for _, raw := range progs {
		var insns []unix.SockFilter
		var dis []bpf.Instruction
		for _, in := range raw {
			insns = append(insns, unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K})
			dis = append(dis, in.Disassemble())
		}
		if in := raw[2]; len(raw) == 4 && in.Op&0x0f == 0x04 && // an ALU instruction, constant operand
			((in.Op == 0x34 || in.Op == 0x94) && in.K == 0 || (in.Op == 0x64 || in.Op == 0x74) && in.K >= 32) {
			if _, err := RunFilter(insns, &SeccompData{}); err == nil {
				t.Fatalf("%v: the kernel refuses it, runFilter runs it", raw)
			}
			continue
		}
		vm, err := bpf.NewVM(dis)
		if err != nil {
			t.Fatalf("%v: %v", raw, err)
		}
		for _, nr := range []int32{0, 1, 7, 100, -1, 0x7fffffff} {
			d := SeccompData{Nr: nr, Arch: AuditArchX8664}
			got, err := RunFilter(insns, &d)
			if err != nil {
				t.Fatalf("%v: %v", raw, err)
			}
			want, err := vm.Run(bigEndianWords(&d))
			if raw[2].Op == 0x84 {
				want, err = int(-uint32(nr)), nil // x/net/bpf's VM does not run neg
			}
			if err != nil {
				t.Fatalf("%v: %v", raw, err)
			}
			if got != uint32(want) {
				t.Fatalf("%v with nr %d: %#x, x/net/bpf %#x", raw, nr, got, uint32(want))
			}
		}
	}
}

// bigEndianWords is seccomp_data as x/net/bpf reads it: each 32-bit word big-endian, at
// the offset the kernel's native layout has it.
func bigEndianWords(d *SeccompData) []byte {
	out := make([]byte, seccompDataSize)
	for off := uint32(0); off < seccompDataSize; off += 4 {
		w, _ := d.Word(off)
		binary.BigEndian.PutUint32(out[off:], w)
	}
	return out
}

func TestMapToInside(t *testing.T) {
	m := "         0 1000000000      65536\n     65536 2000000000 10\n"
	for host, want := range map[uint32]int64{1000000000: 0, 1000001000: 1000, 2000000005: 65541, 5: -1} {
		got := parseIDMap(m).toInside(host)
		if want < 0 && got != nil || want >= 0 && (got == nil || int64(*got) != want) {
			t.Errorf("host %d: %v, want %d", host, got, want)
		}
	}
}
