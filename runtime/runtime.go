// Package runtime is the only part of yoroi that touches libcontainer: it turns a bundle
// into a hardened libcontainer configuration and drives the container's lifecycle.
package runtime

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/opencontainers/runc/libcontainer"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// DefaultRoot is where container state lives when --root is not given.
const DefaultRoot = "/run/yoroi"

// Options configures a Runtime; they come from yoroi's global flags.
type Options struct {
	// Root is the state directory (one subdirectory per container); RootExplicit says
	// the user named it (then a missing one is an error for list, as with runc).
	Root         string
	RootExplicit bool
	// SystemdCgroup selects the systemd cgroup driver (cgroupsPath "slice:prefix:name").
	SystemdCgroup bool
	// ConfigPath is config.toml; ConfigExplicit says the user named it (then a missing
	// file is an error rather than the built-in defaults).
	ConfigPath     string
	ConfigExplicit bool
}

// Runtime runs containers under one state root.
type Runtime struct {
	root           string
	rootExplicit   bool
	systemdCgroup  bool
	configPath     string
	configExplicit bool
	cfg            *hardening.Config
	// registry is stateDirRegistry (a test's own directory in unit tests).
	registry string
}

// New validates o and returns a Runtime.
func New(o Options) (*Runtime, error) {
	root := o.Root
	if root == "" {
		root = DefaultRoot
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if root == "/" {
		return nil, errors.New("option --root must not be /")
	}
	return &Runtime{root: root, rootExplicit: o.RootExplicit, systemdCgroup: o.SystemdCgroup, configPath: o.ConfigPath, configExplicit: o.ConfigExplicit, registry: stateDirRegistry}, nil
}

// Root returns the absolute state root.
func (r *Runtime) Root() string { return r.root }

// load returns an existing container.
func (r *Runtime) load(id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errEmptyID
	}
	c, err := libcontainer.Load(r.root, id)
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	return c, nil
}

// validID: what runc accepts, except a leading dot, so that no container id can name
// yoroi's own state (.yoroi) under the root.
var validID = regexp.MustCompile(`^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$`)

func validateID(id string) error {
	if id == "" {
		return errEmptyID
	}
	if len(id) > 1024 || !validID.MatchString(id) {
		return fmt.Errorf("invalid container id %q: use letters, digits and _.+- (not starting with .)", id)
	}
	return nil
}
