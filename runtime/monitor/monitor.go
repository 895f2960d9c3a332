// Package monitor is a container's monitor: a seccomp user-notification listener for the
// container's filter, outside the container, which answers each notification as the
// container's own filter would (or lets the call run, in complain mode) and writes what
// it saw to the audit log (filter.go says what reaches it).
//
// Every process of the container (init, and each exec) runs under the Landlock launcher,
// which installs the filter with a new listener and sends the listener, over a connection
// to the monitor's socket that the runtime hands it as a descriptor, to the monitor; then
// it closes that descriptor and executes the workload. A monitor serves one container
// until no process of it is left. The runtime runs it in a process of its own (Run), in
// an attached `yoroi run` (New, Serve), or hands it to yoroi's containerd shim, which
// serves the monitors of its containers. The package uses no cgo, so that the shim, built
// without it as containerd builds its shims, can.
//
// If the monitor is gone while the container runs, what would have reached it fails
// (ENOSYS): a denial stays a denial, an execve fails, and an exec into the container is
// refused. Nothing is allowed by its absence.
package monitor

import "github.com/yoroi-runtime/yoroi/hardening"

// ConfigVersion is the version of Config this package reads: a monitor hosted by another
// binary (the shim) than the runtime that configures it refuses any other, and the
// runtime then starts its own.
const ConfigVersion = 1

// Config is a monitor's configuration.
type Config struct {
	Version   int    `json:"version"`
	ID        string `json:"id"`
	AuditPath string `json:"auditPath"`
	// Filter is the container's filter as compiled, its instructions (struct
	// sock_filter, native byte order): what the monitor answers by.
	Filter []byte                `json:"filter"`
	Plan   hardening.MonitorPlan `json:"plan"`
}
