package main

import (
	"io"
	"slices"
	"testing"
)

func TestReorderArgs(t *testing.T) {
	app := newApp("yoroi", io.Discard, io.Discard)
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"yoroi", "update", "id", "--cpuset-cpus", "1"}, []string{"yoroi", "update", "--cpuset-cpus", "1", "id"}},
		{[]string{"yoroi", "--root", "/r", "update", "id", "--pids-limit=10", "--memory", "64m"}, []string{"yoroi", "--root", "/r", "update", "--pids-limit=10", "--memory", "64m", "id"}},
		{[]string{"yoroi", "--debug", "kill", "id", "KILL", "--all"}, []string{"yoroi", "--debug", "kill", "--all", "id", "KILL"}},
		{[]string{"yoroi", "delete", "id", "-f"}, []string{"yoroi", "delete", "-f", "id"}},
		{[]string{"yoroi", "run", "--bundle", "b", "id", "--detach"}, []string{"yoroi", "run", "--bundle", "b", "--detach", "id"}},
		// exec's and ps's trailing arguments are another program's.
		{[]string{"yoroi", "exec", "id", "ls", "-l"}, []string{"yoroi", "exec", "id", "ls", "-l"}},
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
