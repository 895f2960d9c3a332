package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "print the host's readiness for yoroi; exit non-zero when yoroi would refuse containers",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		},
		Action: withRuntime(0, 0, func(c *cli.Context, rt *runtime.Runtime) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			items, err := rt.Check()
			if err != nil {
				return err
			}
			ready := true
			for _, it := range items {
				if it.Required && !it.OK {
					ready = false
				}
			}
			w := c.App.Writer
			if format == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"ready": ready, "checks": items}); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				for _, it := range items {
					mark := "ok"
					switch {
					case !it.OK && it.Required:
						mark = "FAIL"
					case !it.OK:
						mark = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Name, mark, it.Detail)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if !ready {
				return errors.New("this host cannot run yoroi containers (see the FAIL lines)")
			}
			return nil
		}),
	}
}
