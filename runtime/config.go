package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// DefaultConfigPath is where yoroi looks for its configuration.
const DefaultConfigPath = "/etc/yoroi/config.toml"

// maxConfigSize bounds config.toml.
const maxConfigSize = 1 << 20

// LoadConfig reads config.toml. A missing file at the default path means the built-in
// defaults; a missing file that was named explicitly, an unreadable file, malformed TOML,
// an unknown key or an invalid value is an error (yoroi fails closed).
func LoadConfig(path string, explicit bool) (*hardening.Config, error) {
	if path == "" {
		path, explicit = DefaultConfigPath, false
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return hardening.Defaults(), nil
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", path, maxConfigSize)
	}
	cfg, err := hardening.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
