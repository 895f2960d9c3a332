//go:build seccomp

package runtime

import (
	"encoding/binary"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// compileFilter builds the program with libcontainer's unexported functions, linked by
// name (seccomp_filter.go): if runc changes one of them, this test fails before any
// container runs. It runs the compiled program for a few system calls and checks what
// the kernel would decide (the integration test TestSeccompFilterMatchesRunc compares
// the whole program with the one runc loads).
func TestCompiledFilterBehaves(t *testing.T) {
	if hostArch != "amd64" {
		t.Skip("the system call numbers below are x86_64's")
	}
	eperm, eacces := uint(unix.EPERM), uint(unix.EACCES)
	cfg := &configs.Seccomp{
		DefaultAction:   configs.Errno,
		DefaultErrnoRet: &eperm,
		Architectures:   []string{"amd64"},
		Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow},
		Syscalls: []*configs.Syscall{
			{Name: "getpid", Action: configs.Allow},
			{Name: "mkdir", Action: configs.Errno, ErrnoRet: &eacces},
		},
	}
	prog, err := compileFilter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := launcher.CheckFilter(prog); err != nil {
		t.Fatal(err)
	}
	if flags := launcher.FilterFlags(prog); flags != unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW {
		t.Errorf("filter flags %#x, want SPEC_ALLOW (%#x)", flags, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	}
	var insns []bpf.Instruction
	for raw := prog[launcher.FilterHeaderSize:]; len(raw) > 0; raw = raw[8:] {
		insns = append(insns, bpf.RawInstruction{
			Op: binary.NativeEndian.Uint16(raw[0:2]), Jt: raw[2], Jf: raw[3], K: binary.NativeEndian.Uint32(raw[4:8]),
		}.Disassemble())
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("the compiled program is not classic BPF: %v", err)
	}
	// seccomp_data as the filter reads it: x/net/bpf loads words big-endian, so each
	// 32-bit word is written so, at the offset the kernel's native layout has it.
	data := func(nr int, arch uint32) []byte {
		b := make([]byte, 64)
		binary.BigEndian.PutUint32(b[0:], uint32(nr))
		binary.BigEndian.PutUint32(b[4:], arch)
		return b
	}
	for _, tc := range []struct {
		name string
		nr   int
		arch uint32
		want uint32
	}{
		{"allowed", unix.SYS_GETPID, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ALLOW},
		{"its own errno", unix.SYS_MKDIR, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)},
		{"the default action", unix.SYS_UNAME, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{"newer than the profile: ENOSYS (the -ENOSYS stub)", 1000, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
	} {
		got, err := vm.Run(data(tc.nr, tc.arch))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != tc.want {
			t.Errorf("%s (syscall %d): %#x, want %#x", tc.name, tc.nr, uint32(got), tc.want)
		}
	}
	// Another architecture never gets through.
	if got, _ := vm.Run(data(unix.SYS_GETPID, unix.AUDIT_ARCH_I386)); uint32(got) == unix.SECCOMP_RET_ALLOW {
		t.Error("an i386 system call is allowed by an amd64-only filter")
	}
}
