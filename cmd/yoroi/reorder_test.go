package main

import (
	"io"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime/cgroupwarm"
)

func TestReorderArgs(t *testing.T) {
	app := newApp("yoroi", io.Discard, io.Discard)
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"yoroi", "update", "id", "--cpuset-cpus", "1"}, []string{"yoroi", "update", "--cpuset-cpus", "1", "id"}},
		{[]string{"yoroi", "--root", "/r", "update", "id", "--pids-limit=10", "--memory", "64m"}, []string{"yoroi", "--root", "/r", "update", "--pids-limit=10", "--memory", "64m", "id"}},
		{[]string{"yoroi", "--debug", "kill", "id", "KILL", "--all"}, []string{"yoroi", "--debug", "kill", "--all", "id", "KILL"}},
		{[]string{"yoroi", "run", "--bundle", "b", "id", "--detach"}, []string{"yoroi", "run", "--bundle", "b", "--detach", "id"}},
		// exec's and ps's trailing arguments are another program's.
		{[]string{"yoroi", "exec", "id", "ls", "-l"}, []string{"yoroi", "exec", "id", "ls", "-l"}},
		// A flag under an alias gets its primary name (v2 refuses two names of one flag).
		{[]string{"yoroi", "exec", "-e", "A=1", "-t", "--env", "-e", "id", "sh", "-e"}, []string{"yoroi", "exec", "--env", "A=1", "--tty", "--env", "-e", "id", "sh", "-e"}},
		{[]string{"yoroi", "delete", "id", "-f"}, []string{"yoroi", "delete", "--force", "id"}},
		{[]string{"yoroi", "ps", "id", "-ef"}, []string{"yoroi", "ps", "id", "-ef"}},
		// Commands with subcommands are left alone.
		{[]string{"yoroi", "policy", "explain", "--bundle", "b"}, []string{"yoroi", "policy", "explain", "--bundle", "b"}},
		{[]string{"yoroi", "profile", "record", "--bundle", "b", "--output", "o", "id"}, []string{"yoroi", "profile", "record", "--bundle", "b", "--output", "o", "id"}},
		// "--" ends the flags.
		{[]string{"yoroi", "kill", "id", "--", "-9"}, []string{"yoroi", "kill", "id", "--", "-9"}},
		{[]string{"yoroi"}, []string{"yoroi"}},
		{[]string{"yoroi", "--version"}, []string{"yoroi", "--version"}},
	} {
		if got := reorderArgs(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The command an invocation names, past the global flags and their values (what the
// cgroup warm-up starts for before the command line is parsed).
func TestCommand(t *testing.T) {
	app := newApp("yoroi", io.Discard, io.Discard)
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"yoroi", "run", "-b", "b", "id"}, "run"},
		{[]string{"yoroi", "--root", "/r", "--log", "run", "--log-format=json", "--debug", "create", "id"}, "create"},
		{[]string{"yoroi", "--systemd-cgroup", "exec", "id", "true"}, "exec"},
		{[]string{"yoroi", "--root", "run"}, ""}, // "run" is --root's value
		{[]string{"yoroi", "--version"}, ""},
		{[]string{"yoroi"}, ""},
		{[]string{"yoroi", "nosuch"}, ""},
	} {
		got := ""
		if cmd, _ := command(app, tc.in); cmd != nil {
			got = cmd.Name
		}
		if got != tc.want {
			t.Errorf("%q: command %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The constructor that starts the cgroup warm-up before the Go runtime reads the command
// line on its own (runtime/cgroupwarm): it must find the command where the command line
// does, past every global flag under each of its names, with or without a value.
func TestWarmCommandMatchesCLI(t *testing.T) {
	app := newApp("yoroi", io.Discard, io.Discard)
	for _, f := range app.Flags {
		for _, name := range f.Names() {
			for _, dash := range []string{"-", "--"} {
				for _, args := range [][]string{
					{"yoroi", dash + name, "value", "run", "id"},
					{"yoroi", dash + name + "=value", "run", "id"},
				} {
					want := ""
					if cmd, i := command(app, args); cmd != nil || i < len(args) {
						want = args[i]
					}
					if got := cgroupwarm.Command(args); got != want {
						t.Errorf("%q: the constructor reads command %q, the command line %q", args, got, want)
					}
				}
			}
		}
	}
}

// Repeated flags take each value whole, as runc does: an environment value or a --cgroup
// controller list with commas is not split.
func TestSliceFlagsKeepCommas(t *testing.T) {
	app := newApp("yoroi", io.Discard, io.Discard)
	var env, cgroups []string
	app.Command("exec").Action = func(c *cli.Context) error {
		env, cgroups = c.StringSlice("env"), c.StringSlice("cgroup")
		return nil
	}
	args := []string{"yoroi", "exec", "--env", "A=1,2", "-e", "B=3", "--cgroup", "cpu,cpuacct:sub", "--cgroup", "memory:m", "id", "true", "-e"}
	if err := app.Run(reorderArgs(app, args)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(env, []string{"A=1,2", "B=3"}) || !slices.Equal(cgroups, []string{"cpu,cpuacct:sub", "memory:m"}) {
		t.Errorf("env %q, cgroups %q", env, cgroups)
	}
}

// Each app has commands of its own: running one (urfave/cli adds a help subcommand and
// flag to the commands it runs) leaves the next one's as declared, so its arguments are
// still reordered.
func TestAppsShareNoCommands(t *testing.T) {
	first := newApp("yoroi", io.Discard, io.Discard)
	if err := first.Run([]string{"yoroi", "run", "--help"}); err != nil {
		t.Fatal(err)
	}
	if len(first.Command("run").Subcommands) == 0 {
		t.Fatal("urfave/cli no longer adds a help subcommand to a command it runs: this test shows nothing")
	}
	second := newApp("yoroi", io.Discard, io.Discard)
	if n := len(second.Command("run").Subcommands); n != 0 {
		t.Errorf("a new app's run command has %d subcommands, the first app's", n)
	}
	args := []string{"yoroi", "run", "--bundle", "b", "id", "--detach"}
	if got, want := reorderArgs(second, args), []string{"yoroi", "run", "--bundle", "b", "--detach", "id"}; !slices.Equal(got, want) {
		t.Errorf("%q: got %q, want %q", args, got, want)
	}
}
