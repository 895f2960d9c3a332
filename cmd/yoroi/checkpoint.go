package main

import (
	"errors"
	"slices"

	"github.com/urfave/cli/v2"
)

// errNoCRIU is what checkpoint and restore answer: runc hands both to CRIU, which would
// rebuild a container's processes, mounts and namespaces from image files outside the
// checks yoroi applies to a bundle.
var errNoCRIU = errors.New("checkpoint/restore is not supported: CRIU would rebuild the container from images that yoroi's policy has not checked")

func checkpointCommand() *cli.Command {
	return &cli.Command{
		Name:      "checkpoint",
		Usage:     "checkpoint a running container (not supported: refused)",
		ArgsUsage: "<container-id>",
		// runc's flags (--image-path, --leave-running, ...) are accepted and refused with the
		// verb, so that an engine sees this reason rather than a flag error.
		SkipFlagParsing: true,
		Action:          refuseCRIU,
	}
}

// refuseCRIU shows the verb's help when asked (flag parsing is skipped), and refuses.
func refuseCRIU(c *cli.Context) error {
	if args := c.Args().Slice(); slices.Contains(args, "-h") || slices.Contains(args, "--help") {
		return cli.ShowCommandHelp(c.Lineage()[1], c.Command.Name)
	}
	return errNoCRIU
}
