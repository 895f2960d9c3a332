package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start the user process of a created container",
		ArgsUsage: "<container-id>",
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return rt.Start(c.Args().First(), os.Getenv("NOTIFY_SOCKET"))
		}),
	}
}
