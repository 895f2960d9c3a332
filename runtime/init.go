package runtime

import (
	"fmt"
	"os"

	//nolint:revive // registers the cgroup device controller used by the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter's cgo constructor joins namespaces before the Go runtime starts in `yoroi init`.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	// The cgroup warm-up's cgo constructor starts the grace period of libcontainer's
	// cgroup move at the start of `create`, `run` and `exec`.
	_ "github.com/yoroi-runtime/yoroi/runtime/cgroupwarm"
	// The Landlock launcher's cgo constructor takes over `/proc/self/exe __yoroi_landlock`.
	_ "github.com/yoroi-runtime/yoroi/runtime/launcher"
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// InitArg is the hidden first argument with which libcontainer re-executes the runtime
// binary inside a new container ("yoroi init").
const InitArg = "init"

// IsInit reports whether this process was started by libcontainer as a container's init.
func IsInit(args []string) bool {
	return len(args) > 1 && args[1] == InitArg
}

// MaybeInit runs what the runtime starts its own binary as: libcontainer's container
// init (it never returns then), or a container's monitor ("BINARY monitor ID", see
// monitor.go), after which it returns done and the exit code for the caller to exit with.
// Call it from an init() function of every binary that creates containers, including
// test binaries, and exit when it is done.
func MaybeInit() (done bool, code int) {
	switch {
	case IsInit(os.Args):
		libcontainer.Init()
	case len(os.Args) == 3 && os.Args[1] == MonitorCommand:
		if err := monitor.Run(os.Stdin, os.NewFile(3, "monitor-socket")); err != nil {
			fmt.Fprintln(os.Stderr, "yoroi monitor:", err)
			return true, 1
		}
		return true, 0
	}
	return false, 0
}
