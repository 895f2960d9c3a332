package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func deleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a container and everything yoroi holds for it",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container (SIGKILL) if it is still running"},
		},
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return rt.Delete(c.Args().First(), c.Bool("force"))
		}),
	}
}
