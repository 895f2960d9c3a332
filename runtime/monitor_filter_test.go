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
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
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

// bigEndianWords is seccomp_data as x/net/bpf reads it: each 32-bit word big-endian, at
// the offset the kernel's native layout has it.
func bigEndianWords(d *monitor.SeccompData) []byte {
	out := make([]byte, 64)
	for off := uint32(0); off < uint32(len(out)); off += 4 {
		w, _ := d.Word(off)
		binary.BigEndian.PutUint32(out[off:], w)
	}
	return out
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
	for _, arch := range []uint32{monitor.AuditArchX8664, monitor.AuditArchI386, monitor.AuditArchAarch64} {
		for nr := int32(0); nr < 600; nr++ {
			for _, args := range [][6]uint64{{}, {0x10000000, 1, 2}, {1, 3}, {40, 2, 0}, {0xffffffff00000001}} {
				d := monitor.SeccompData{Nr: nr, Arch: arch, Args: args}
				got, err := monitor.RunFilter(insns, &d)
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
		for _, arch := range []uint32{monitor.AuditArchX8664, monitor.AuditArchI386, monitor.AuditArchAarch64} {
			for nr := int32(0); nr < 600; nr++ {
				d := monitor.SeccompData{Nr: nr, Arch: arch}
				was, _ := monitor.RunFilter(orig, &d)
				is, err := monitor.RunFilter(rewritten, &d)
				if err != nil {
					t.Fatal(err)
				}
				want := was
				if m.Notifies() && was&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO && (m.Complain || was&unix.SECCOMP_RET_DATA != uint32(unix.ENOSYS)) {
					want = unix.SECCOMP_RET_USER_NOTIF
				}
				if m.Exec && monitor.IsExecSyscall(arch, uint32(nr)) && arch != monitor.AuditArchAarch64 {
					want = unix.SECCOMP_RET_USER_NOTIF
				}
				if is != want {
					t.Errorf("%+v arch %#x nr %d: %#x, want %#x (was %#x)", m, arch, nr, is, want, was)
				}
				if was == unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) && !monitor.IsExecSyscall(arch, uint32(nr)) {
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
	for _, d := range []monitor.SeccompData{{Nr: 59, Arch: monitor.AuditArchX8664}, {Nr: 322, Arch: monitor.AuditArchX8664}, {Nr: 11, Arch: monitor.AuditArchI386}, {Nr: monitor.X32SyscallBit | 520, Arch: monitor.AuditArchX8664}} {
		if got, _ := monitor.RunFilter(rewritten, &d); got != unix.SECCOMP_RET_USER_NOTIF {
			t.Errorf("exec %+v: %#x", d, got)
		}
	}
}

func TestMonitorFilterRefusesComputedReturns(t *testing.T) {
	prog, err := launcher.EncodeFilter(0, monitor.Raw([]unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, {Code: unix.BPF_RET | unix.BPF_A}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitorFilter(prog, &hardening.MonitorPlan{Denials: true}, []string{"amd64"}); err == nil {
		t.Error("a program returning its accumulator was rewritten")
	}
}
