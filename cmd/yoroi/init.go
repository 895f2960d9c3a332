package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// initCommand is libcontainer's container init. It is handled before main runs (see
// runtime.MaybeInit); reaching this action means it was invoked by hand.
func initCommand() *cli.Command {
	return &cli.Command{
		Name:   "init",
		Usage:  "internal: initialize a container (run by yoroi itself)",
		Hidden: true,
		Action: func(*cli.Context) error {
			return errors.New("init is internal to yoroi and cannot be run directly")
		},
	}
}
