package main

import (
	"bytes"
	"strings"
	"testing"
)

// checkpoint and restore take runc's flags and refuse with one line; -h shows their help
// (runc's help test asks it of every verb).
func TestCheckpointRestoreRefused(t *testing.T) {
	for _, verb := range []string{"checkpoint", "restore"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"yoroi", verb, "--image-path", "/tmp/x", "--leave-running", "c1"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "checkpoint/restore is not supported") {
			t.Errorf("%s: exit %d, stderr %q", verb, code, errOut.String())
		}
		out.Reset()
		if code := run([]string{"yoroi", verb, "-h"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "yoroi "+verb+" - ") {
			t.Errorf("%s -h: exit %d, %q", verb, code, out.String())
		}
	}
}
