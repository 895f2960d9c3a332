package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// workloadArgs returns the workload's own argv of a (possibly Landlock-wrapped) process.
func workloadArgs(args []string) []string {
	if hardening.IsLandlockWrapped(args) {
		if i := slices.Index(args, "--"); i >= 0 {
			return args[i+1:]
		}
	}
	return args
}

// checkExecutable resolves the workload's argv[0] inside root the way the container will
// (PATH from its environment, relative to its cwd), so that a missing binary is reported
// when the container is created, as runc reports it, even though the process first
// executes yoroi's Landlock launcher. mountDests are paths other mounts will cover: a
// binary below one of them cannot be checked before the container starts.
func checkExecutable(root string, p *specs.Process, mountDests []string) error {
	args := workloadArgs(p.Args)
	if len(args) == 0 {
		return errors.New("process.args must not be empty")
	}
	name := args[0]
	var candidates []string
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			name = path.Join(p.Cwd, name)
		}
		candidates = []string{name}
	} else {
		pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, e := range p.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				pathEnv = v
			}
		}
		for _, dir := range strings.Split(pathEnv, ":") {
			if dir == "" {
				dir = "."
			}
			if !path.IsAbs(dir) {
				dir = path.Join(p.Cwd, dir)
			}
			candidates = append(candidates, path.Join(dir, name))
		}
	}
	for _, c := range candidates {
		if slices.ContainsFunc(mountDests, func(d string) bool { return c == d || strings.HasPrefix(c, strings.TrimSuffix(d, "/")+"/") }) {
			return nil
		}
		full, err := securejoin.SecureJoin(root, c)
		if err != nil {
			continue
		}
		if st, err := os.Stat(full); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return nil
		}
	}
	if strings.Contains(args[0], "/") {
		return pathError(root, args[0], candidates[0])
	}
	return fmt.Errorf("exec: %q: executable file not found in $PATH", args[0])
}

// pathError says why the file at name cannot be executed in Go's exec.LookPath words,
// which runc prints and Docker reads its exit code from (127 for "no such file or
// directory", 126 for "permission denied").
func pathError(root, name, resolved string) error {
	full, err := securejoin.SecureJoin(root, resolved)
	if err == nil {
		if _, err = os.Stat(full); err == nil {
			err = fs.ErrPermission // a directory, or not executable
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = &fs.PathError{Op: pe.Op, Path: resolved, Err: pe.Err}
	}
	return fmt.Errorf("exec: %q: %w", name, err)
}
