package shim

import (
	"os"
	"path/filepath"

	"github.com/containerd/log"

	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// monitorSocket is the name of the socket the shim hosts its containers' monitors on, in
// its working directory: the bundle of the task it was started for (containerd removes
// it with the bundle).
const monitorSocket = "yoroi-monitors.sock"

// hostMonitors makes this shim the host of its containers' monitors (package monitor):
// yoroi's create, run by the task service with this process' environment, hands each
// container's monitor here rather than starting a process for it, so a container the shim
// runs costs no process beside the shim's own. The shim lives as long as its containers,
// as a monitor must. Without the socket, yoroi starts monitor processes as under any
// other caller.
func hostMonitors() {
	cwd, err := os.Getwd()
	if err != nil {
		log.L.WithError(err).Warn("yoroi shim: not hosting monitors")
		return
	}
	path := filepath.Join(cwd, monitorSocket)
	_ = os.Remove(path)
	ln, err := monitor.ListenHost(path)
	if err != nil {
		log.L.WithError(err).Warn("yoroi shim: not hosting monitors")
		return
	}
	if err := os.Setenv(monitor.HostEnv, path); err != nil {
		ln.Close()
		log.L.WithError(err).Warn("yoroi shim: not hosting monitors")
		return
	}
	go monitor.Host(ln)
}
