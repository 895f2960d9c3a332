package main

import (
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:  "profile",
		Usage: "seccomp profiles",
		Subcommands: []*cli.Command{
			{
				Name:      "record",
				Usage:     "run a container and write what it did as a seccomp profile and a config.toml profile",
				ArgsUsage: "<container-id>",
				Description: `Runs the bundle like "yoroi run", with every other rule applied, and learns what the
	workload does:
	  - every syscall (a filter sends each to a recording agent, seccomp user notification,
	    which lets it run; the deny floor stays denied);
	  - where it writes on its root filesystem (the root is, for this run only, a writable
	    overlay of the image whose upper layer is read, then removed);
	  - which files it executes (fanotify on that overlay).
	--output writes the syscalls as an OCI seccomp profile (docker run --security-opt
	seccomp=FILE, Kubernetes Localhost profiles). --toml writes a config.toml profile to paste:
	seccomp.syscalls, and rootfs.scratch with a scratch tmpfs (starting with the image's
	content) at each directory the workload wrote in, so that it runs on the read-only root.`,
				Flags: append(createFlags(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "where to write the seccomp profile (JSON)"},
					&cli.StringFlag{Name: "toml", Usage: "where to write the config.toml profile"},
					&cli.StringFlag{Name: "profile-name", Usage: "the name of that profile (default: the container id)"},
				),
				Action: func(c *cli.Context) error {
					if err := checkArgs(c, 1, 1); err != nil {
						return err
					}
					rt, err := newRuntime(c)
					if err != nil {
						return err
					}
					status, err := rt.Record(createOptions(c), runtime.RecordOutputs{
						Seccomp: c.String("output"), Profile: c.String("toml"), ProfileName: c.String("profile-name"),
					})
					if err != nil {
						return err
					}
					return &runtime.ExitStatus{Code: status}
				},
			},
		},
	}
}
