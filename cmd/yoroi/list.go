package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the containers under the state root",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print container ids only"},
		},
		Action: withRuntime(0, 0, func(c *cli.Context, rt *runtime.Runtime) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			states, err := rt.List(func(err error) { logrus.Warn(err) })
			if err != nil {
				return err
			}
			w := c.App.Writer
			if c.Bool("quiet") {
				for _, s := range states {
					fmt.Fprintln(w, s.ID)
				}
				return nil
			}
			if format == "json" {
				if states == nil {
					// runc prints null for no containers; keep that for compatibility.
					_, err := fmt.Fprintln(w, "null")
					return err
				}
				return json.NewEncoder(w).Encode(states)
			}
			tw := tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)
			fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.InitProcessPid, s.Status, s.Bundle,
					s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return tw.Flush()
		}),
	}
}
