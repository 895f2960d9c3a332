package runtime

import (
	"fmt"
	"runtime/debug"

	"github.com/opencontainers/runc/libcontainer/seccomp"
)

// libcontainerVersion is the version of the runc module yoroi was built with.
func libcontainerVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/opencontainers/runc" {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// Versions lists the components yoroi is built from, for `yoroi --version`.
func Versions() []string {
	v := []string{
		"spec: " + specVersion(),
		"go: " + goVersion(),
		"libcontainer: " + libcontainerVersion(),
	}
	if seccomp.Enabled {
		major, minor, patch := seccomp.Version()
		v = append(v, fmt.Sprintf("libseccomp: %d.%d.%d", major, minor, patch))
	} else {
		v = append(v, "libseccomp: not built in (build with -tags seccomp)")
	}
	return v
}
