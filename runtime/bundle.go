package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// SpecConfig is the name of the OCI configuration inside a bundle.
	SpecConfig = "config.json"
	// maxSpecSize bounds config.json: real ones are a few KiB, a hostile one must not
	// make the runtime allocate without limit.
	maxSpecSize = 8 << 20
)

// Bundle is an OCI bundle: a directory holding config.json and (usually) the rootfs.
type Bundle struct {
	// Path is the absolute bundle directory.
	Path string
	Spec *specs.Spec
}

// LoadBundle reads and validates dir/config.json. dir "" means the current directory.
func LoadBundle(dir string) (*Bundle, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s does not exist", abs)
		}
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("bundle %s is not a directory", abs)
	}
	spec, err := loadSpec(filepath.Join(abs, SpecConfig))
	if err != nil {
		return nil, err
	}
	b := &Bundle{Path: abs, Spec: spec}
	b.containerDestinations()
	return b, nil
}

// containerDestinations rewrites mount destinations given as host paths beneath the
// bundle's root filesystem to the paths they name in the container: libcontainer takes a
// destination that starts with the rootfs path as already joined to it (runc's tests and
// older engines write them so), and yoroi hands libcontainer another rootfs path (the
// id-mapped one), so the policy and libcontainer must both see the container's path.
func (b *Bundle) containerDestinations() {
	rootfs := filepath.Clean(b.rootfsPath(b.Spec))
	for i, m := range b.Spec.Mounts {
		switch {
		case m.Destination == rootfs:
			b.Spec.Mounts[i].Destination = "/"
		case strings.HasPrefix(m.Destination, rootfs+"/"):
			b.Spec.Mounts[i].Destination = strings.TrimPrefix(m.Destination, rootfs)
		}
	}
}

func loadSpec(path string) (*specs.Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("JSON specification file %s not found", path)
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSpecSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSpecSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSpecSize)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

// ParseSpec decodes an OCI runtime configuration. Like runc, it accepts unknown fields
// (newer spec versions add them) but rejects trailing data and a null document.
func ParseSpec(data []byte) (*specs.Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var spec *specs.Spec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("malformed config: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed config: trailing data after the JSON document")
	}
	if spec == nil {
		return nil, errors.New("config cannot be null")
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, errors.New("root.path must be set")
	}
	if spec.Linux == nil {
		return nil, errors.New("linux section must be set")
	}
	return spec, validateProcess(spec.Process)
}

func validateProcess(p *specs.Process) error {
	if p == nil {
		return errors.New("process property must not be empty")
	}
	if p.Cwd == "" {
		return errors.New("process.cwd must not be empty")
	}
	if !filepath.IsAbs(p.Cwd) {
		return errors.New("process.cwd must be an absolute path")
	}
	if len(p.Args) == 0 {
		return errors.New("process.args must not be empty")
	}
	return nil
}

// rootfsPath is a spec's root.path, resolved against the bundle when relative.
func (b *Bundle) rootfsPath(spec *specs.Spec) string {
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path
	}
	return filepath.Join(b.Path, spec.Root.Path)
}
