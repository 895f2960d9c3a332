//go:build seccomp

package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/configs"
	// The functions linked below live in these packages.
	_ "github.com/opencontainers/runc/libcontainer/seccomp"
	_ "github.com/opencontainers/runc/libcontainer/seccomp/patchbpf"
	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	// Debian's static libseccomp calls glibc's fortified fprintf, which musl lacks.
	_ "github.com/yoroi-runtime/yoroi/runtime/internal/libccompat"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// The filter is built by libcontainer's own functions, step for step as its InitSeccomp
// does, so that the program yoroi caches is the one libcontainer would have loaded:
// libseccomp's rules (getAction, setFlag, matchCall), then the -ENOSYS stub for syscalls
// newer than the profile (enosysPatchFilter) and the filter flags (filterFlags).
// libcontainer exports only "compile and load into this thread", so they are linked by
// name; TestSeccompFilterMatchesRunc compares the result with runc's loaded filter.

//go:linkname lcGetAction github.com/opencontainers/runc/libcontainer/seccomp.getAction
func lcGetAction(act configs.Action, errnoRet *uint) (libseccomp.ScmpAction, error)

//go:linkname lcSetFlag github.com/opencontainers/runc/libcontainer/seccomp.setFlag
func lcSetFlag(filter *libseccomp.ScmpFilter, flag specs.LinuxSeccompFlag) error

//go:linkname lcMatchCall github.com/opencontainers/runc/libcontainer/seccomp.matchCall
func lcMatchCall(filter *libseccomp.ScmpFilter, call *configs.Syscall, defAct libseccomp.ScmpAction) error

//go:linkname lcEnosysPatchFilter github.com/opencontainers/runc/libcontainer/seccomp/patchbpf.enosysPatchFilter
func lcEnosysPatchFilter(config *configs.Seccomp, filter *libseccomp.ScmpFilter) ([]unix.SockFilter, error)

//go:linkname lcFilterFlags github.com/opencontainers/runc/libcontainer/seccomp/patchbpf.filterFlags
func lcFilterFlags(config *configs.Seccomp, filter *libseccomp.ScmpFilter) (flags uint, noNewPrivs bool, err error)

// compileFilter builds cfg into the launcher's format: a header (flags, instruction
// count, native endianness) and the BPF program.
func compileFilter(cfg *configs.Seccomp) ([]byte, error) {
	defAct, err := lcGetAction(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, errors.New("seccomp: invalid default action")
	}
	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("seccomp: creating filter: %w", err)
	}
	defer filter.Release()
	for _, name := range cfg.Architectures {
		arch, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return nil, fmt.Errorf("seccomp: architecture %s: %w", name, err)
		}
		if err := filter.AddArch(arch); err != nil {
			return nil, fmt.Errorf("seccomp: architecture %s: %w", name, err)
		}
	}
	for _, flag := range cfg.Flags {
		if err := lcSetFlag(filter, flag); err != nil {
			return nil, err
		}
	}
	if len(cfg.Syscalls) > 32 {
		// Not fatal: an older libseccomp has no binary tree (libcontainer's threshold).
		_ = filter.SetOptimize(2)
	}
	if err := filter.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	for _, call := range cfg.Syscalls {
		if call == nil {
			return nil, errors.New("seccomp: nil syscall rule")
		}
		if err := lcMatchCall(filter, call, defAct); err != nil {
			return nil, err
		}
	}
	prog, err := lcEnosysPatchFilter(cfg, filter)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	if admitsI386(cfg) {
		if prog, err = withSocketcallGuard(prog); err != nil {
			return nil, err
		}
	}
	flags, _, err := lcFilterFlags(cfg, filter)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	var insns []byte
	if len(prog) > 0 {
		insns = unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0])))
	}
	return launcher.EncodeFilter(uint32(flags), insns)
}

// launcherCanInstall reports whether the launcher can install cfg: a filter with notify
// actions needs libcontainer, which hands the listener to the seccomp agent.
func launcherCanInstall(cfg *configs.Seccomp) bool {
	if cfg == nil || cfg.DefaultAction == configs.Notify || cfg.ListenerPath != "" {
		return false
	}
	for _, call := range cfg.Syscalls {
		if call != nil && call.Action == configs.Notify {
			return false
		}
	}
	return true
}

// filterKey names a compiled filter: the profile and everything that turns it into BPF.
func filterKey(cfg *configs.Seccomp) (string, error) {
	data := appendSeccomp(nil, cfg)
	major, minor, patch := libseccomp.GetLibraryVersion()
	h := sha256.New()
	fmt.Fprintf(h, "yoroi-seccomp-filter v3\x00%s\x00%d.%d.%d\x00%s\x00", libcontainerVersion(), major, minor, patch, hostArch)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}
