package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:      "ps",
		Usage:     "list the processes of a container",
		ArgsUsage: "<container-id> [ps options]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		},
		Action: withRuntime(1, -1, func(c *cli.Context, rt *runtime.Runtime) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			pids, err := rt.Processes(c.Args().First())
			if err != nil {
				return err
			}
			if format == "json" {
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(c.App.Writer).Encode(pids)
			}
			psArgs := c.Args().Tail()
			if len(psArgs) == 0 {
				psArgs = []string{"-ef"}
			}
			out, err := exec.Command("ps", psArgs...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("ps: %w: %s", err, out)
			}
			lines := strings.Split(string(out), "\n")
			pidIndex := slices.Index(strings.Fields(lines[0]), "PID")
			if pidIndex < 0 {
				return errors.New("couldn't find PID field in ps output")
			}
			fmt.Fprintln(c.App.Writer, lines[0])
			for _, line := range lines[1:] {
				fields := strings.Fields(line)
				if len(fields) <= pidIndex {
					continue
				}
				p, err := strconv.Atoi(fields[pidIndex])
				if err != nil {
					return fmt.Errorf("unable to parse pid: %w", err)
				}
				if slices.Contains(pids, p) {
					fmt.Fprintln(c.App.Writer, line)
				}
			}
			return nil
		}),
	}
}
