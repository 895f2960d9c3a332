//go:build !seccomp

package runtime

import "github.com/opencontainers/runc/libcontainer/configs"

// Without libseccomp there is no filter to compile: libcontainer refuses a seccomp
// profile itself.
func launcherCanInstall(*configs.Seccomp) bool { return false }

func compileFilter(*configs.Seccomp) ([]byte, error) { return nil, errNoSeccomp }

func filterKey(*configs.Seccomp) (string, error) { return "", errNoSeccomp }
