package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

// monitorCommand is a container's monitor, which yoroi starts itself at create (see
// runtime/monitor.go). It is handled before main runs (see runtime.MaybeInit); reaching
// this action means it was invoked by hand.
func monitorCommand() *cli.Command {
	return &cli.Command{
		Name:   runtime.MonitorCommand,
		Usage:  "internal: a container's seccomp and exec monitor (run by yoroi itself)",
		Hidden: true,
		Action: func(*cli.Context) error {
			return errors.New("monitor is internal to yoroi and cannot be run directly")
		},
	}
}
