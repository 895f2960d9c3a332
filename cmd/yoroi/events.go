package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:      "events",
		Usage:     "print container events (stats, OOM) as JSON",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "stats collection interval"},
			&cli.BoolFlag{Name: "stats", Usage: "print the container's stats once and exit"},
		},
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return rt.Events(c.Args().First(), c.Duration("interval"), c.Bool("stats"), c.App.Writer)
		}),
	}
}
