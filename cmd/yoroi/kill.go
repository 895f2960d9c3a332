package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal (default SIGTERM) to the container's init",
		ArgsUsage: "<container-id> [signal]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "do not fail when the container is not running (containerd compatibility)"},
		},
		Action: withRuntime(1, 2, func(c *cli.Context, rt *runtime.Runtime) error {
			sig, err := runtime.ParseSignal(c.Args().Get(1))
			if err != nil {
				return err
			}
			return rt.Kill(c.Args().First(), sig, c.Bool("all"))
		}),
	}
}
