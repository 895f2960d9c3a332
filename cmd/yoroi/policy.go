package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"github.com/yoroi-runtime/yoroi/runtime"
)

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:  "policy",
		Usage: "inspect yoroi's security policy",
		Subcommands: []*cli.Command{
			{
				Name:  "explain",
				Usage: "show what create would enforce on a bundle, rule by rule, without creating anything",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: current directory)"},
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
					&cli.BoolFlag{Name: "no-pivot", Usage: "explain a create with --no-pivot"},
					&cli.StringFlag{Name: "id", Usage: "the container id create would get (where the root filesystem is staged depends on it)"},
				},
				Action: withRuntime(0, 0, func(c *cli.Context, rt *runtime.Runtime) error {
					format, err := outputFormat(c)
					if err != nil {
						return err
					}
					e, err := rt.Explain(runtime.ExplainOptions{Bundle: c.String("bundle"), NoPivot: c.Bool("no-pivot"), ID: c.String("id")})
					if err != nil {
						return err
					}
					w := c.App.Writer
					if format == "json" {
						enc := json.NewEncoder(w)
						enc.SetIndent("", "  ")
						return enc.Encode(e)
					}
					fmt.Fprintf(w, "bundle:  %s\nprofile: %s\n\n", e.Bundle, e.Profile)
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "RULE\tOUTCOME\tDETAIL\tBEFORE → AFTER")
					for _, d := range e.Decisions {
						change := ""
						if d.Before != "" || d.After != "" {
							change = d.Before + " → " + d.After
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Rule, d.Outcome, d.Detail, change)
					}
					if err := tw.Flush(); err != nil {
						return err
					}
					if e.Refusal != "" {
						fmt.Fprintf(w, "\nverdict: %s\n", e.Refusal)
					} else {
						fmt.Fprintln(w, "\nverdict: would run")
					}
					return nil
				}),
			},
		},
	}
}
