package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

var profileCommand = &cli.Command{
	Name:  "profile",
	Usage: "seccomp profiles",
	Subcommands: []*cli.Command{
		{
			Name:      "record",
			Usage:     "run a container and write a deny-by-default seccomp profile of the syscalls it made",
			ArgsUsage: "<container-id>",
			Description: `Runs the bundle like "yoroi run", with every other rule applied, under a filter that
sends each syscall to a recording agent (seccomp user notification) which lets it run.
The deny floor stays denied during the recording. The profile written to --output works
with docker run --security-opt seccomp=FILE and Kubernetes Localhost profiles.`,
			Flags: append(createFlags(),
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "where to write the profile (JSON)"},
			),
			Action: func(c *cli.Context) error {
				if err := checkArgs(c, 1, 1); err != nil {
					return err
				}
				rt, err := newRuntime(c)
				if err != nil {
					return err
				}
				status, err := rt.Record(createOptions(c), c.String("output"))
				if err != nil {
					return err
				}
				return &runtime.ExitStatus{Code: status}
			},
		},
	},
}
