package main

import (
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func featuresCommand() *cli.Command {
	return &cli.Command{
		Name:  "features",
		Usage: "print the supported features as OCI features JSON, and the hardening in force (org.yoroi.* annotations)",
		Action: withRuntime(0, 0, func(c *cli.Context, rt *runtime.Runtime) error {
			f, err := rt.Features(c.App.Version)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(c.App.Writer)
			enc.SetIndent("", "    ")
			return enc.Encode(f)
		}),
	}
}
