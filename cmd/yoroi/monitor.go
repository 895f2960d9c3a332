package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

// monitorCommand is a container's monitor, which yoroi starts itself at create (see
// runtime/monitor.go): its configuration on stdin, its socket as descriptor 3. The
// container id it is given only names it in ps.
var monitorCommand = &cli.Command{
	Name:      runtime.MonitorCommand,
	Usage:     "internal: a container's seccomp and exec monitor (run by yoroi itself)",
	ArgsUsage: "<container-id>",
	Hidden:    true,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, 1); err != nil {
			return err
		}
		return runtime.ServeMonitor(os.Stdin, os.NewFile(3, "monitor-socket"))
	},
}
