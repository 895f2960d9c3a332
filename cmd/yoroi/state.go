package main

import (
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func stateCommand() *cli.Command {
	return &cli.Command{
		Name:      "state",
		Usage:     "print the state of a container as JSON",
		ArgsUsage: "<container-id>",
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			st, err := rt.State(c.Args().First())
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(st, "", "  ")
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(append(data, '\n'))
			return err
		}),
	}
}
