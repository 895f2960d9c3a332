package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "freeze every process of a container",
		ArgsUsage: "<container-id>",
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return rt.Pause(c.Args().First())
		}),
	}
}
