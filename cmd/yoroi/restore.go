package main

import "github.com/urfave/cli/v2"

var restoreCommand = &cli.Command{
	Name:            "restore",
	Usage:           "restore a container from a checkpoint (not supported: refused)",
	ArgsUsage:       "<container-id>",
	SkipFlagParsing: true,
	Action:          refuseCRIU,
}
