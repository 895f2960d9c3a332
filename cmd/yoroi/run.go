package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "create and start a container, wait for it and delete it",
		ArgsUsage: "<container-id>",
		Flags: append(createFlags(),
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
			&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
			&cli.BoolFlag{Name: "no-subreaper", Usage: "do not become a subreaper for the container's orphans"},
		),
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			o := createOptions(c)
			o.Detach = c.Bool("detach")
			o.Keep = c.Bool("keep")
			o.NoSubreaper = c.Bool("no-subreaper")
			status, err := rt.Run(o)
			if err != nil {
				return startFailed(c, err)
			}
			// The container's exit status becomes yoroi's.
			return &runtime.ExitStatus{Code: status}
		}),
	}
}
