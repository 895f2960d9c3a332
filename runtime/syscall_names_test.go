//go:build seccomp

package runtime

import (
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// The monitor names the calls it audits from its own tables (it runs in yoroi's shim too,
// which is built without cgo): they agree with libseccomp, the runtime's own names for the
// filters, for every number libseccomp names on each architecture a filter may admit.
// Newer calls than libseccomp's tables know keep the monitor's names.
func TestSyscallNamesAgreeWithLibseccomp(t *testing.T) {
	arches := []struct {
		audit uint32
		arch  libseccomp.ScmpArch
		bit   int32
	}{
		{monitor.AuditArchX8664, libseccomp.ArchAMD64, 0},
		{monitor.AuditArchX8664, libseccomp.ArchX32, monitor.X32SyscallBit},
		{monitor.AuditArchI386, libseccomp.ArchX86, 0},
		{monitor.AuditArchAarch64, libseccomp.ArchARM64, 0},
	}
	named := 0
	for _, a := range arches {
		for nr := int32(0); nr < 1024; nr++ {
			want, err := libseccomp.ScmpSyscall(nr | a.bit).GetNameByArch(a.arch)
			if err != nil || want == "" {
				continue
			}
			named++
			if got := monitor.SyscallName(a.audit, nr|a.bit); got != want {
				t.Errorf("%s %d: the monitor says %q, libseccomp %q", a.arch, nr, got, want)
			}
		}
	}
	if named < 1000 {
		t.Fatalf("libseccomp named only %d calls", named)
	}
}
