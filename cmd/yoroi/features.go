package main

import (
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the supported features as OCI features JSON",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, 0); err != nil {
			return err
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "    ")
		return enc.Encode(runtime.Features(c.App.Version))
	},
}
