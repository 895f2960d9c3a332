package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// ExampleSpec is the template `yoroi spec` writes: runc's template, which already
// has a read-only root and no_new_privileges.
func ExampleSpec() *specs.Spec {
	return specconv.Example()
}

// WriteExampleSpec writes the template into dir/config.json, refusing to overwrite one.
func WriteExampleSpec(dir string) error {
	if dir == "" {
		dir = "."
	}
	data, err := json.MarshalIndent(ExampleSpec(), "", "\t")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, SpecConfig)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("file %s exists: remove it first", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func specVersion() string { return specs.Version }
