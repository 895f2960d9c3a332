package runtime

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// seccompFilterFlagNewListener is SECCOMP_FILTER_FLAG_NEW_LISTENER.
const seccompFilterFlagNewListener = 1 << 3

// sockFilters views a program of the launcher's format (header, then instructions).
func sockFilters(prog []byte) ([]unix.SockFilter, error) {
	if err := launcher.CheckFilter(prog); err != nil {
		return nil, err
	}
	return monitor.Instructions(prog[launcher.FilterHeaderSize:])
}

// monitorFilter is prog (launcher format) rewritten for the monitor m (monitor.Rewrite).
// archs are the libseccomp names of the architectures the filter admits.
func monitorFilter(prog []byte, m *hardening.MonitorPlan, archs []string) ([]byte, error) {
	insns, err := sockFilters(prog)
	if err != nil {
		return nil, err
	}
	out, err := monitor.Rewrite(insns, m, archs)
	if err != nil {
		return nil, err
	}
	if len(out) > launcher.MaxFilterInsns {
		return nil, fmt.Errorf("seccomp filter: %d instructions with the monitor's, above the kernel's %d", len(out), launcher.MaxFilterInsns)
	}
	return launcher.EncodeFilter(launcher.FilterFlags(prog)|seccompFilterFlagNewListener, monitor.Raw(out))
}
