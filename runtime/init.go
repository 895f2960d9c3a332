package runtime

import (
	"os"

	//nolint:revive // registers the cgroup device controller used by the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter's cgo constructor joins namespaces before the Go runtime starts in `yoroi init`.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	// The Landlock launcher's cgo constructor takes over `/proc/self/exe __yoroi_landlock`.
	_ "github.com/yoroi-runtime/yoroi/runtime/launcher"
)

// InitArg is the hidden first argument with which libcontainer re-executes the runtime
// binary inside a new container ("yoroi init").
const InitArg = "init"

// IsInit reports whether this process was started by libcontainer as a container's init.
func IsInit(args []string) bool {
	return len(args) > 1 && args[1] == InitArg
}

// MaybeInit runs libcontainer's container init when args ask for it; it never returns in
// that case. Call it from an init() function of every binary that creates containers,
// including test binaries.
func MaybeInit() {
	if IsInit(os.Args) {
		libcontainer.Init()
	}
}
