package integration

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompProgram reads the seccomp filter installed in process pid (the kernel's copy,
// through PTRACE_SECCOMP_GET_FILTER) and returns its instructions, once the process runs
// the workload: until then it can still be libcontainer's init or the launcher, which
// installs the filter right before it executes the workload.
func seccompProgram(t *testing.T, pid int, workload string) []byte {
	t.Helper()
	for i := 0; ; i++ {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.HasPrefix(cmdline, []byte(workload+"\x00")) {
			break
		}
		if i == 500 {
			t.Fatalf("process %d: not running %s after 5s (%q, %v)", pid, workload, cmdline, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	goruntime.LockOSThread() // ptrace requests must come from the tracing thread
	defer goruntime.UnlockOSThread()
	if err := unix.PtraceSeize(pid); err != nil {
		t.Fatalf("ptrace seize %d: %v", pid, err)
	}
	defer func() { _ = unix.PtraceDetach(pid) }()
	if err := unix.PtraceInterrupt(pid); err != nil {
		t.Fatalf("ptrace interrupt %d: %v", pid, err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		t.Fatalf("wait %d: %v", pid, err)
	}
	n, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 0, 0, 0, 0)
	if e != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER %d: %v", pid, e)
	}
	// Only the innermost filter (index 0) is read: there must be exactly one.
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 1, 0, 0, 0); e != unix.ENOENT {
		t.Fatalf("process %d has more than one seccomp filter (%v)", pid, e)
	}
	prog := make([]unix.SockFilter, n)
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 0, uintptr(unsafe.Pointer(&prog[0])), 0, 0); e != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER %d: %v", pid, e)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0])))
}

// TestSeccompFilterMatchesRunc: yoroi compiles a container's seccomp profile once, caches
// the program, and has the Landlock launcher install it, instead of letting libcontainer
// compile it in every container's init. The program in the kernel must be exactly the one
// libcontainer loads: the same profile run by the newest runc (the same libcontainer)
// must show the same instructions, for the container's process and for an exec'd one, on
// the first create (compiled) and the second (cached). A filter name planted in the
// spec's annotations is ignored.
func TestSeccompFilterMatchesRunc(t *testing.T) {
	runc := os.Getenv("RUNC_NEWEST")
	if runc == "" {
		t.Fatal("RUNC_NEWEST is not set: run the integration tests with make integration")
	}
	e := newEnv(t)
	b := e.newBundle("sleep", "60")
	var ex struct {
		Spec *specs.Spec `json:"spec"`
	}
	if err := json.Unmarshal([]byte(e.ok("policy", "explain", "--format", "json", "--bundle", b.dir)), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Spec == nil || ex.Spec.Linux.Seccomp == nil {
		t.Fatalf("explain shows no seccomp profile: %+v", ex.Spec)
	}

	// The reference: runc with Docker's default spec and yoroi's profile.
	rb := fixtureBundle(t, "docker-default")
	rb.spec.Process.Args = []string{"sleep", "60"}
	rb.spec.Root.Path = rootfsTemplate
	rb.spec.Root.Readonly = true
	rb.spec.Mounts = slicesWithout(rb.spec.Mounts, func(m specs.Mount) bool { return m.Type == "bind" })
	rb.spec.Linux.Seccomp = ex.Spec.Linux.Seccomp
	rb.save(t)
	runcRoot := filepath.Join(privateDir(t), "runc")
	rid := uniqueID("filter-runc")
	// The container's stdio is /dev/null: a pipe would stay open for as long as it runs.
	if err := exec.Command(runc, "--root", runcRoot, "run", "--detach", "--bundle", rb.dir, rid).Run(); err != nil {
		t.Fatalf("runc run: %v", err)
	}
	t.Cleanup(func() { _, _ = runClient(runc, "--root", runcRoot, "delete", "--force", rid) })
	out, err := runClient(runc, "--root", runcRoot, "state", rid)
	if err != nil {
		t.Fatalf("runc state: %v: %s", err, out)
	}
	var rs specs.State
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	want := seccompProgram(t, rs.Pid, "sleep")
	if len(want) < 8*100 {
		t.Fatalf("runc's filter has only %d instructions", len(want)/8)
	}

	// Without the monitor, whose filter is this one rewritten (monitor_filter.go, checked
	// instruction by instruction in the runtime package's TestMonitorFilter).
	e.writeConfig(e.baseConfig() + telemetryProfiles)
	b.edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.yoroi.seccomp.filter": strings.Repeat("0", 64), hardening.ProfileAnnotation: "test-no-telemetry"}
	})
	for i, what := range []string{"compiled", "cached"} {
		id := uniqueID("filter-" + what)
		e.ok("run", "--detach", "--bundle", b.dir, id)
		got := seccompProgram(t, e.state(id).Pid, "sleep")
		if diff := programDiff(t, got, want); diff != "" {
			t.Errorf("%s filter (create %d): %s", what, i+1, diff)
		}
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		e.ok("exec", "--detach", "--pid-file", pidFile, id, "sleep", "60")
		data, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := programDiff(t, seccompProgram(t, pid, "sleep"), want); diff != "" {
			t.Errorf("%s filter of an exec'd process: %s", what, diff)
		}
		e.ok("delete", "--force", id)
		e.assertNoLeftovers(id)
	}
	ents, err := os.ReadDir(filepath.Join(e.root, ".yoroi", "seccomp"))
	if err != nil || len(ents) != 1 {
		t.Errorf("filter cache: %v %v, want one compiled filter", ents, err)
	}
}

// programDiff compares two seccomp programs by what they return: libcontainer's -ENOSYS
// stub checks the architectures in Go map order, so two compilations of one profile can
// differ in instruction order. Both run, in a BPF interpreter, on every syscall number of
// x86_64, i386 and x32 with argument sets the profile's conditions look at; the result is
// "" or the first inputs where they differ. The programs must also be as long.
func programDiff(t *testing.T, got, want []byte) string {
	t.Helper()
	if len(got) != len(want) {
		return fmt.Sprintf("%d instructions, runc's %d", len(got)/8, len(want)/8)
	}
	vmGot, vmWant := bpfVM(t, got), bpfVM(t, want)
	const auditX86_64, auditI386, x32Bit = 0xc000003e, 0x40000003, 0x40000000
	args := [][6]uint64{
		{},
		{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)},
		{unix.CLONE_NEWUSER}, {unix.CLONE_NEWNS | unix.CLONE_NEWPID}, {unix.AF_VSOCK}, {unix.AF_INET, unix.SOCK_RAW},
		{0x8}, {0xffffffff}, {0, unix.CLONE_NEWUSER},
	}
	var diffs []string
	for _, arch := range []struct {
		audit uint32
		base  uint32
	}{{auditX86_64, 0}, {auditI386, 0}, {auditX86_64, x32Bit}, {0xdeadbeef, 0}} {
		for nr := uint32(0); nr < 1100; nr++ {
			for _, a := range args {
				in := seccompData(arch.base+nr, arch.audit, a)
				g, errG := vmGot.Run(in)
				w, errW := vmWant.Run(in)
				if g != w || (errG == nil) != (errW == nil) {
					diffs = append(diffs, fmt.Sprintf("arch %#x nr %d args %x: %#x (%v), runc's %#x (%v)", arch.audit, arch.base+nr, a, g, errG, w, errW))
				}
			}
		}
	}
	if len(diffs) > 0 {
		return fmt.Sprintf("%d inputs differ, e.g. %s", len(diffs), strings.Join(diffs[:min(len(diffs), 3)], "; "))
	}
	return ""
}

func bpfVM(t *testing.T, prog []byte) *bpf.VM {
	t.Helper()
	raw := make([]bpf.RawInstruction, len(prog)/8)
	for i := range raw {
		b := prog[8*i:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("cannot disassemble the seccomp program")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("BPF interpreter: %v", err)
	}
	return vm
}

// seccompData lays out struct seccomp_data for the interpreter, which loads words big
// endian (it is a packet filter): each 32-bit word goes where the kernel's little-endian
// layout has it, stored big endian, so that a load reads the value the kernel would.
func seccompData(nr, arch uint32, args [6]uint64) []byte {
	in := make([]byte, 64)
	binary.BigEndian.PutUint32(in[0:], nr)
	binary.BigEndian.PutUint32(in[4:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(in[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(in[20+8*i:], uint32(a>>32))
	}
	return in
}
