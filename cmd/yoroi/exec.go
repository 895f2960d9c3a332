package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a new process inside a running container",
		ArgsUsage: "<container-id> <command> [args...]  |  -p process.json <container-id>",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "console-socket", Usage: "AF_UNIX socket that receives the pty master"},
			&cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket that receives a pidfd of the process"},
			&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid]"},
			&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
			&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to a process.json"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the process"},
			&cli.StringFlag{Name: "pid-file", Usage: "file to write the process id to"},
			&cli.StringFlag{Name: "process-label", Usage: "SELinux label of the process"},
			&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile of the process"},
			&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privileges for the process"},
			&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (subject to yoroi's policy)"},
			&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the process"},
			&cli.StringSliceFlag{Name: "cgroup", Usage: "run in an existing sub-cgroup: [<controller>:]<path>"},
			&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
		},
		Action: withRuntime(1, -1, func(c *cli.Context, rt *runtime.Runtime) error {
			o := runtime.ExecOptions{
				ID:             c.Args().First(),
				ProcessPath:    c.String("process"),
				Args:           c.Args().Tail(),
				Env:            c.StringSlice("env"),
				Cwd:            c.String("cwd"),
				User:           c.String("user"),
				AdditionalGids: c.Int64Slice("additional-gids"),
				Caps:           c.StringSlice("cap"),
				Tty:            c.Bool("tty"),
				Detach:         c.Bool("detach"),
				ConsoleSocket:  c.String("console-socket"),
				PidFile:        c.String("pid-file"),
				PidfdSocket:    c.String("pidfd-socket"),
				PreserveFDs:    c.Int("preserve-fds"),
				ProcessLabel:   c.String("process-label"),
				AppArmor:       c.String("apparmor"),
				Cgroups:        c.StringSlice("cgroup"),
				IgnorePaused:   c.Bool("ignore-paused"),
			}
			if c.IsSet("no-new-privs") {
				v := c.Bool("no-new-privs")
				o.NoNewPrivs = &v
			}
			status, err := rt.Exec(o)
			if err != nil {
				return err
			}
			return &runtime.ExitStatus{Code: status}
		}),
	}
}
