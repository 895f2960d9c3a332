//go:build seccomp

package runtime

import (
	"encoding/binary"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// builtinFilter compiles yoroi's built-in profile (with the compat architectures, whose
// socketcall guard and argument rules exercise most of what libseccomp emits).
func builtinFilter(t *testing.T) (*configs.Seccomp, []byte) {
	t.Helper()
	if hostArch != "amd64" {
		t.Skip("the system call numbers below are x86_64's")
	}
	spec := hardening.BuiltinSeccomp("amd64", true)
	cfg, err := specconv.SetupSeccomp(spec)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compileFilter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, prog
}

// The monitor runs the container's filter to answer as it would: its interpreter agrees
// with golang.org/x/net/bpf's on every syscall number of both architectures, with and
// without arguments.
func TestRunFilterAgrees(t *testing.T) {
	_, prog := builtinFilter(t)
	insns, err := sockFilters(prog)
	if err != nil {
		t.Fatal(err)
	}
	var raw []bpf.Instruction
	for _, in := range insns {
		raw = append(raw, bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble())
	}
	vm, err := bpf.NewVM(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []uint32{auditArchX8664, auditArchI386, auditArchAarch64} {
		for nr := int32(0); nr < 600; nr++ {
			for _, args := range [][6]uint64{{}, {0x10000000, 1, 2}, {1, 3}, {40, 2, 0}, {0xffffffff00000001}} {
				d := seccompData{Nr: nr, Arch: arch, Args: args}
				got, err := runFilter(insns, &d)
				if err != nil {
					t.Fatal(err)
				}
				want, err := vm.Run(bigEndianWords(&d))
				if err != nil {
					t.Fatal(err)
				}
				if got != uint32(want) {
					t.Fatalf("arch %#x nr %d args %v: %#x, x/net/bpf %#x", arch, nr, args, got, uint32(want))
				}
			}
		}
	}
}

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
			if _, err := runFilter(insns, &seccompData{}); err == nil {
				t.Fatalf("%v: the kernel refuses it, runFilter runs it", raw)
			}
			continue
		}
		vm, err := bpf.NewVM(dis)
		if err != nil {
			t.Fatalf("%v: %v", raw, err)
		}
		for _, nr := range []int32{0, 1, 7, 100, -1, 0x7fffffff} {
			d := seccompData{Nr: nr, Arch: auditArchX8664}
			got, err := runFilter(insns, &d)
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
func bigEndianWords(d *seccompData) []byte {
	out := make([]byte, seccompDataSize)
	for off := uint32(0); off < seccompDataSize; off += 4 {
		w, _ := d.word(off)
		binary.BigEndian.PutUint32(out[off:], w)
	}
	return out
}

// The monitor's filter notifies exactly what the container's filter denies with an errno
// (with ENOSYS only in complain mode), and execs; everything else (allowed, killed, ENOSYS
// otherwise) is decided as before.
func TestMonitorFilter(t *testing.T) {
	cfg, prog := builtinFilter(t)
	orig, _ := sockFilters(prog)
	for _, m := range []hardening.MonitorPlan{{Denials: true}, {Exec: true}, {Denials: true, Exec: true}, {Complain: true, Exec: true}} {
		mprog, err := monitorFilter(prog, &m, filterArchs(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if launcher.FilterFlags(mprog)&seccompFilterFlagNewListener == 0 {
			t.Errorf("%+v: no new listener flag", m)
		}
		rewritten, _ := sockFilters(mprog)
		enosys := 0
		for _, arch := range []uint32{auditArchX8664, auditArchI386, auditArchAarch64} {
			for nr := int32(0); nr < 600; nr++ {
				d := seccompData{Nr: nr, Arch: arch}
				was, _ := runFilter(orig, &d)
				is, err := runFilter(rewritten, &d)
				if err != nil {
					t.Fatal(err)
				}
				want := was
				if m.Notifies() && was&retActionFull == retErrno && (m.Complain || was&retData != uint32(unix.ENOSYS)) {
					want = retUserNotif
				}
				if m.Exec && isExecSyscall(arch, uint32(nr)) && arch != auditArchAarch64 {
					want = retUserNotif
				}
				if is != want {
					t.Errorf("%+v arch %#x nr %d: %#x, want %#x (was %#x)", m, arch, nr, is, want, was)
				}
				if was == retErrno|uint32(unix.ENOSYS) && !isExecSyscall(arch, uint32(nr)) {
					enosys++
				}
			}
		}
		// clone3 (435 on x86_64 and aarch64, i386 too) and the numbers beyond the profile.
		if enosys < 3 {
			t.Errorf("%+v: the built-in filter answers ENOSYS to %d calls only", m, enosys)
		}
	}
	// execve of x86_64 and i386, and x32's, reach the monitor.
	m := hardening.MonitorPlan{Exec: true}
	mprog, _ := monitorFilter(prog, &m, filterArchs(cfg))
	rewritten, _ := sockFilters(mprog)
	for _, d := range []seccompData{{Nr: 59, Arch: auditArchX8664}, {Nr: 322, Arch: auditArchX8664}, {Nr: 11, Arch: auditArchI386}, {Nr: x32SyscallBit | 520, Arch: auditArchX8664}} {
		if got, _ := runFilter(rewritten, &d); got != retUserNotif {
			t.Errorf("exec %+v: %#x", d, got)
		}
	}
}

func TestMonitorFilterRefusesComputedReturns(t *testing.T) {
	prog, err := encodeSockFilters(0, []unix.SockFilter{{Code: bpfLD | bpfW | bpfABS, K: 0}, {Code: bpfRET | bpfA}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitorFilter(prog, &hardening.MonitorPlan{Denials: true}, []string{"amd64"}); err == nil {
		t.Error("a program returning its accumulator was rewritten")
	}
}

func TestMapToInside(t *testing.T) {
	m := "         0 1000000000      65536\n     65536 2000000000 10\n"
	for host, want := range map[uint32]int64{1000000000: 0, 1000001000: 1000, 2000000005: 65541, 5: -1} {
		got := mapToInside(m, host)
		if want < 0 && got != nil || want >= 0 && (got == nil || int64(*got) != want) {
			t.Errorf("host %d: %v, want %d", host, got, want)
		}
	}
}
