package main

import "github.com/urfave/cli/v2"

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:            "restore",
		Usage:           "restore a container from a checkpoint (not supported: refused)",
		ArgsUsage:       "<container-id>",
		SkipFlagParsing: true,
		Action:          refuseCRIU,
	}
}
