package launcher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// This file is the Go side of the launcher's protocol, the one place the runtime learns
// it from; launcher.c is the other side and the tests of this package hold both to the
// same tables. (The argv layout is the policy's: hardening.WrapLandlock writes it, and
// TestLauncherAcceptsEveryWrap runs each form it can take.)

// Filter is a compiled seccomp program as the launcher takes it (its "seccomp=" setting,
// hexadecimal): a header of two native-endian uint32, the filter flags and the number of
// instructions, then the instructions (struct sock_filter, 8 bytes each).
const (
	FilterHeaderSize = 8
	filterInsnSize   = 8
	// MaxFilterInsns is the kernel's BPF_MAXINSNS.
	MaxFilterInsns = 4096
)

// EncodeFilter puts the header before a program of raw sock_filter instructions.
func EncodeFilter(flags uint32, insns []byte) ([]byte, error) {
	if len(insns)%filterInsnSize != 0 {
		return nil, fmt.Errorf("seccomp filter: %d bytes is not a whole number of instructions", len(insns))
	}
	out := binary.NativeEndian.AppendUint32(make([]byte, 0, FilterHeaderSize+len(insns)), flags)
	out = binary.NativeEndian.AppendUint32(out, uint32(len(insns)/filterInsnSize))
	out = append(out, insns...)
	return out, CheckFilter(out)
}

// CheckFilter checks a filter's header against its length, as the launcher does before
// installing it.
func CheckFilter(prog []byte) error {
	if len(prog) < FilterHeaderSize {
		return errors.New("truncated")
	}
	n := binary.NativeEndian.Uint32(prog[4:8])
	if n == 0 || n > MaxFilterInsns || len(prog) != FilterHeaderSize+filterInsnSize*int(n) {
		return fmt.Errorf("%d instructions in %d bytes", n, len(prog))
	}
	return nil
}

// FilterFlags are the seccomp flags a filter's header gives.
func FilterFlags(prog []byte) uint32 { return binary.NativeEndian.Uint32(prog[:4]) }

// Kind is what a path holds, as the workload lookup sees it.
type Kind uint8

const (
	// Missing: nothing there (or nothing that can be looked at).
	Missing Kind = iota
	// Directory: never a match.
	Directory
	// NotExecutable: a file without any execute bit.
	NotExecutable
	// Executable: not a directory, with some execute bit (what execve may run).
	Executable
)

// KindOf says what a path holds from what stat(2) (following symlinks, as execve does)
// returned for it.
func KindOf(st fs.FileInfo, err error) Kind {
	switch {
	case err != nil:
		return Missing
	case st.IsDir():
		return Directory
	case st.Mode().Perm()&0o111 == 0:
		return NotExecutable
	}
	return Executable
}

// ExecError is a workload the launcher cannot find or may not run: it exits with Code
// and prints the words runc's init prints (Go's exec.LookPath's), from which Docker takes
// its exit code (127: not found, 126: cannot run).
type ExecError struct {
	Code int
	Msg  string
}

func (e *ExecError) Error() string { return e.Msg }

// LookPath finds the workload's file as the launcher does, which is as runc's init does
// with Go's exec.LookPath: a name with a slash is used as it is; otherwise the first
// entry of $PATH (the last PATH= of env; none, or an empty one, means no entries; an
// empty entry is ".") holding something executable that is not a directory, which must
// not be relative to the working directory. kind tells what a path holds, a path
// relative to the working directory as the process would see it.
func LookPath(file string, env []string, kind func(path string) Kind) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	pathEnv := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	if pathEnv != "" && file != "" {
		for _, dir := range strings.Split(pathEnv, ":") {
			if dir == "" {
				dir = "."
			}
			p := dir + "/" + file
			if kind(p) != Executable {
				continue
			}
			if !strings.HasPrefix(p, "/") {
				return "", &ExecError{126, fmt.Sprintf("exec: %q: cannot run executable found relative to current directory", file)}
			}
			return p, nil
		}
	}
	return "", &ExecError{127, fmt.Sprintf("exec: %q: executable file not found in $PATH", file)}
}
