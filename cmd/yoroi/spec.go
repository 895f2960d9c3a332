package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func specCommand() *cli.Command {
	return &cli.Command{
		Name:  "spec",
		Usage: "write a config.json template into the bundle",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: current directory)"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0, 0); err != nil {
				return err
			}
			return runtime.WriteExampleSpec(c.String("bundle"))
		},
	}
}
