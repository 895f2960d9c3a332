package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// --version in runc's layout, read as Docker's daemon reads a runtime's version: the
// line with "version" gives the name and version, "commit:" the commit.
func TestVersionLayout(t *testing.T) {
	old := commit
	commit = "0123abcd"
	defer func() { commit = old }()
	var out bytes.Buffer
	if code := run([]string{"yoroi", "--version"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var name, ver, gotCommit string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(line, "version") {
			s := strings.Split(line, "version")
			name, ver = strings.TrimSpace(s[0]), strings.TrimSpace(s[len(s)-1])
			continue
		}
		if c, ok := strings.CutPrefix(line, "commit:"); ok {
			gotCommit = strings.TrimSpace(c)
		}
	}
	if name != "yoroi" || ver != version || gotCommit != "0123abcd" {
		t.Errorf("parsed %q %q %q from:\n%s", name, ver, gotCommit, out.String())
	}
	for _, want := range []string{"\nspec: ", "\ngo: go", "\nlibseccomp: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q line:\n%s", want, out.String())
		}
	}
}

// Installed under another name (runc's, where an engine only knows runc), yoroi speaks
// under it in its help, version and failure lines, as runc's own tests read them.
func TestProgramName(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"/usr/local/sbin/runc", "--version"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if first := strings.SplitN(out.String(), "\n", 2)[0]; !strings.HasPrefix(first, "runc version "+version) {
		t.Errorf("version line %q", first)
	}
	out.Reset()
	if code := run([]string{"runc", "--help"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "runc - Open Container Initiative runtime, hardened") {
		t.Errorf("help:\n%s", out.String())
	}
	var errOut bytes.Buffer
	code := run([]string{"runc", "--root", t.TempDir(), "run", "--bundle", t.TempDir(), "x"}, io.Discard, &errOut)
	if line := strings.TrimSpace(errOut.String()); code != 1 || !strings.HasPrefix(line, "runc run failed: ") || strings.Contains(line, "\n") {
		t.Errorf("exit %d, stderr %q: want one 'runc run failed: ' line", code, errOut.String())
	}
	for _, args := range [][]string{{"", "--version"}, {"/", "--version"}} {
		out.Reset()
		run(args, &out, io.Discard)
		if !strings.HasPrefix(out.String(), "yoroi version ") {
			t.Errorf("%q: %q", args[0], out.String())
		}
	}
}
