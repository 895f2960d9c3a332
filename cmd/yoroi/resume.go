package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func resumeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resume",
		Usage:     "thaw a paused container",
		ArgsUsage: "<container-id>",
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return rt.Resume(c.Args().First())
		}),
	}
}
