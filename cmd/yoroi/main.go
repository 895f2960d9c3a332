// yoroi is a hardened OCI container runtime: runc's command line, libcontainer
// underneath, and a security policy applied to every container it creates.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime"
)

// version and commit are set by the Makefile (-X main.version=... -X main.commit=...).
var (
	version = "0.1.0-dev"
	commit  = ""
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "YOROI_CONFIG"

func init() {
	// `yoroi init` is libcontainer's container init, `yoroi monitor ID` a container's
	// monitor: they run before anything else.
	if done, code := runtime.MaybeInit(); done {
		os.Exit(code)
	}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// programName is the name yoroi answers to: the one it was installed and called under.
// Installed as runc (where an engine or a tool only knows runc's name), it speaks as runc
// does in its help, version and error lines; its policy is the same under any name.
func programName(args []string) string {
	if len(args) == 0 {
		return "yoroi"
	}
	name := filepath.Base(args[0])
	if name == "" || name == "." || name == "/" {
		return "yoroi"
	}
	return name
}

func newApp(name string, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    name,
		Usage:   "Open Container Initiative runtime, hardened",
		Version: version,
		Description: `yoroi runs OCI bundles like runc, and hardens every container it creates:
a private user namespace, a read-only root, clamped capabilities, no_new_privileges,
default-deny seccomp and LSM confinement. Insecure requests are refused, never silently
downgraded; administrators relax rules only in config.toml profiles.`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.StringFlag{Name: "root", Value: runtime.DefaultRoot, Usage: "state directory (keep it on tmpfs)"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "use the systemd cgroup driver (cgroupsPath \"slice:prefix:name\")"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "accepted for runc compatibility; yoroi always runs as root", Hidden: true},
			&cli.StringFlag{Name: "config", EnvVars: []string{ConfigEnv}, Value: runtime.DefaultConfigPath, Usage: "yoroi's policy configuration (config.toml)"},
		},
		Before: func(c *cli.Context) error {
			return configureLogging(c, stderr)
		},
		Commands: []*cli.Command{
			createCommand(),
			startCommand(),
			runCommand(),
			execCommand(),
			killCommand(),
			deleteCommand(),
			stateCommand(),
			listCommand(),
			psCommand(),
			eventsCommand(),
			pauseCommand(),
			resumeCommand(),
			updateCommand(),
			checkpointCommand(),
			restoreCommand(),
			featuresCommand(),
			specCommand(),
			policyCommand(),
			profileCommand(),
			checkCommand(),
			initCommand(),
			monitorCommand(),
		},
		// Errors are reported once, by run, and the exit code decided there.
		ExitErrHandler: func(*cli.Context, error) {},
		// A repeated flag's value is one value, commas and all, as with runc: --env
		// A=1,2 and --cgroup cpu,cpuacct:sub.
		DisableSliceFlagSeparator: true,
	}
	// runc's layout, which Docker's `docker info` parses: "NAME version V", "commit: C".
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, c.App.Name, "version", c.App.Version)
		if commit != "" {
			fmt.Fprintln(c.App.Writer, "commit:", commit)
		}
		for _, v := range runtime.Versions() {
			fmt.Fprintln(c.App.Writer, v)
		}
	}
	return app
}

// run executes the command line and returns the process exit code. Every failure is
// reported as one line on stderr (and in the log, where containerd reads it).
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(programName(args), stdout, stderr)
	err := app.Run(reorderArgs(app, args))
	if err == nil || runtime.IsExitStatus(err) {
		return runtime.CodeOf(err)
	}
	reportError(app.Name, err, stderr)
	return runtime.CodeOf(err)
}

func reportError(name string, err error, stderr io.Writer) {
	var exitCoder cli.ExitCoder
	if errors.As(err, &exitCoder) && exitCoder.Error() == "" {
		return
	}
	if !logsTo(stderr) {
		logrus.Error(err)
	}
	var vf *verbFailed
	if errors.As(err, &vf) {
		fmt.Fprintln(stderr, err.Error())
		return
	}
	fmt.Fprintln(stderr, name+": "+err.Error())
}

// verbFailed is a container that failed to run or be created, worded as runc words it
// ("runc run failed: unable to start container process: …"), which tools match.
type verbFailed struct {
	name, verb string
	err        error
}

func (e *verbFailed) Error() string { return e.name + " " + e.verb + " failed: " + e.err.Error() }
func (e *verbFailed) Unwrap() error { return e.err }

// startFailed words a failed run or create as runc does; a refusal keeps its own line
// ("yoroi: refused by rule …") and an exit status stays what it is.
func startFailed(c *cli.Context, err error) error {
	if err == nil || hardening.IsRefusal(err) || runtime.IsExitStatus(err) {
		return err
	}
	return &verbFailed{name: c.App.Name, verb: c.Command.Name, err: err}
}

func configureLogging(c *cli.Context, stderr io.Writer) error {
	logrus.SetOutput(stderr)
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := c.String("log-format"); f {
	case "", "text":
	case "json":
		// Microseconds: a container starts in tens of milliseconds.
		logrus.SetFormatter(&logrus.JSONFormatter{TimestampFormat: "2006-01-02T15:04:05.000000Z07:00"})
	default:
		return fmt.Errorf("invalid --log-format %q: want text or json", f)
	}
	if path := c.String("log"); path != "" {
		// Append-only: never truncate a log a caller handed us.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return err
		}
		logrus.SetOutput(f)
	}
	return nil
}

// logsTo reports whether the log goes to stderr already (no --log): the error line is
// then written once, not twice.
func logsTo(stderr io.Writer) bool {
	out := logrus.StandardLogger().Out
	if out == stderr {
		return true
	}
	f, ok := out.(*os.File)
	return ok && f.Fd() == os.Stderr.Fd()
}

// newRuntime builds the runtime from the global flags.
// withRuntime is a verb's action: it checks the number of arguments, then runs do with
// the runtime the global flags configure.
func withRuntime(minArgs, maxArgs int, do func(c *cli.Context, rt *runtime.Runtime) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := checkArgs(c, minArgs, maxArgs); err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return do(c, rt)
	}
}

func newRuntime(c *cli.Context) (*runtime.Runtime, error) {
	return runtime.New(runtime.Options{
		Root:           c.String("root"),
		RootExplicit:   c.IsSet("root"),
		SystemdCgroup:  c.Bool("systemd-cgroup"),
		ConfigPath:     c.String("config"),
		ConfigExplicit: c.IsSet("config"),
	})
}

// checkArgs validates the number of positional arguments.
func checkArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	switch {
	case n < min && min == max:
		return fmt.Errorf("%q requires exactly %d argument(s)", c.Command.Name, min)
	case n < min:
		return fmt.Errorf("%q requires at least %d argument(s)", c.Command.Name, min)
	case max >= 0 && n > max:
		return fmt.Errorf("%q takes at most %d argument(s)", c.Command.Name, max)
	}
	return nil
}

// outputFormat validates --format (table or json).
func outputFormat(c *cli.Context) (string, error) {
	format := c.String("format")
	if format != "table" && format != "json" {
		return "", fmt.Errorf("invalid --format %q: want table or json", format)
	}
	return format, nil
}
