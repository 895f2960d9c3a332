package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// runc's command line (urfave/cli v1) accepts a command's flags after its positional
// arguments ("runc update ID --cpuset-cpus 1"), and engines and scripts rely on it;
// urfave/cli v2 stops at the first argument. reorderArgs moves a command's flags, with
// their values, before its arguments, as v1 does, except for the commands whose trailing
// arguments are another program's (exec's command, ps's options), which runc leaves as
// they are too, and yoroi's commands with subcommands (policy, profile), which are not
// runc's. "--" ends the reordering. A flag given under an alias is renamed to its
// primary name: urfave/cli v2 refuses a flag given under two of its names ("-e A=1
// --env B=2"), which v1 takes as one list.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd, i := command(app, args)
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return args
	}
	if slices.Contains([]string{"exec", "ps"}, cmd.Name) {
		out := slices.Clone(args)
		rest := out[i+1:]
		leadingFlags(cmd.Flags, rest, func(j int) { rest[j] = primaryName(cmd.Flags, rest[j]) })
		return out
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if !isFlag(a) {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, primaryName(cmd.Flags, a))
		if takesValue(cmd.Flags, a) && !strings.Contains(a, "=") && j+1 < len(rest) {
			j++
			flags = append(flags, rest[j])
		}
	}
	out := append(slices.Clone(args[:i+1]), flags...)
	return append(out, positional...)
}

// command is the command args name after the global flags, and its index (nil: none).
func command(app *cli.App, args []string) (*cli.Command, int) {
	if len(args) < 2 {
		return nil, 0
	}
	i := 1 + flagsSpan(app.Flags, args[1:])
	if i >= len(args) {
		return nil, i
	}
	return app.Command(args[i]), i
}

// flagsSpan is how many of args are flags (and their values) before the first
// positional argument.
func flagsSpan(defs []cli.Flag, args []string) int {
	return leadingFlags(defs, args, nil)
}

// leadingFlags walks the flags (and their values) before args' first positional
// argument, calling visit (if any) with each flag's index, and returns how many
// arguments they take.
func leadingFlags(defs []cli.Flag, args []string, visit func(int)) int {
	n := 0
	for n < len(args) && isFlag(args[n]) && args[n] != "--" {
		value := takesValue(defs, args[n]) && !strings.Contains(args[n], "=")
		if visit != nil {
			visit(n)
		}
		if value {
			n++
		}
		n++
	}
	return n
}

// primaryName spells a flag argument ("-e", "--env=A=1") with its flag's primary name;
// anything else (a flag's value too) is returned as it is.
func primaryName(defs []cli.Flag, arg string) string {
	if !isFlag(arg) || arg == "--" {
		return arg
	}
	name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range defs {
		names := f.Names()
		if !slices.Contains(names, name) || names[0] == name {
			continue
		}
		if hasValue {
			return "--" + names[0] + "=" + value
		}
		return "--" + names[0]
	}
	return arg
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// takesValue reports whether the flag named by arg ("--name", "-n", "--name=v") is one
// of defs that takes a value.
func takesValue(defs []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range defs {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		v, ok := f.(interface{ TakesValue() bool })
		return ok && v.TakesValue()
	}
	return false
}
