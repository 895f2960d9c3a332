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
