package main

import (
	"time"

	"github.com/urfave/cli/v2"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print container events (stats, OOM) as JSON",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "print the container's stats once and exit"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, 1); err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return rt.Events(c.Args().First(), c.Duration("interval"), c.Bool("stats"), c.App.Writer)
	},
}
