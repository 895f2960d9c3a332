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
	"github.com/yoroi-runtime/yoroi/runtime/launcher"
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

// checkExecutable resolves the workload's argv[0] inside root the way the launcher will
// (launcher.LookPath: PATH from its environment, relative to its cwd), so that a missing
// binary is reported when the container is created, as runc reports it, even though the
// process first executes yoroi's Landlock launcher. mountDests are paths other mounts will
// cover: a binary below one of them cannot be checked before the container starts.
func checkExecutable(root string, p *specs.Process, mountDests []string) error {
	args := workloadArgs(p.Args)
	if len(args) == 0 {
		return errors.New("process.args must not be empty")
	}
	inContainer := func(name string) string {
		if !path.IsAbs(name) {
			name = path.Join("/", p.Cwd, name)
		}
		return name
	}
	kind := func(name string) launcher.Kind {
		name = inContainer(name)
		if slices.ContainsFunc(mountDests, func(d string) bool { return name == d || strings.HasPrefix(name, strings.TrimSuffix(d, "/")+"/") }) {
			return launcher.Executable // cannot be checked: the container's mounts decide
		}
		full, err := securejoin.SecureJoin(root, name)
		if err != nil {
			return launcher.Missing
		}
		return launcher.KindOf(os.Stat(full))
	}
	name, err := launcher.LookPath(args[0], p.Env, kind)
	if err != nil {
		return err
	}
	if strings.Contains(args[0], "/") && kind(name) != launcher.Executable {
		return pathError(root, args[0], inContainer(name))
	}
	return nil
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
