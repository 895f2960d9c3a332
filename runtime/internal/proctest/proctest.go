// Package proctest has the helpers of yoroi's tests that watch real processes.
package proctest

import (
	"bufio"
	"io"
	"os/exec"
	"testing"
)

// StartThenExec starts sh, which says it runs and, once a line reaches it, executes
// command: the tests watch a process across one execve. It returns the process (killed
// and reaped at the end of the test, unless the test reaped it) and the writer of the line.
func StartThenExec(t *testing.T, command string) (*exec.Cmd, io.Writer) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "echo ready; read go; exec "+command)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("sh: %q %v", line, err)
	}
	return cmd, stdin
}
