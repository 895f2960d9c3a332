package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

// createFlags are shared by create and run.
func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the bundle directory (default: current directory)"},
		&cli.StringFlag{Name: "console-socket", Usage: "AF_UNIX socket that receives the pty master of a terminal container"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket that receives a pidfd of the init process"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the init process id to"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root (for a rootfs on a ramdisk)"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
	}
}

func createOptions(c *cli.Context) runtime.CreateOptions {
	return runtime.CreateOptions{
		ID:            c.Args().First(),
		Bundle:        c.String("bundle"),
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		PidFile:       c.String("pid-file"),
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		PreserveFDs:   c.Int("preserve-fds"),
		NotifySocket:  os.Getenv("NOTIFY_SOCKET"),
	}
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a container",
		ArgsUsage: "<container-id>",
		Flags:     createFlags(),
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			return startFailed(c, rt.Create(createOptions(c)))
		}),
	}
}
