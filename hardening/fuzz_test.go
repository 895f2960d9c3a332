package hardening

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzParseConfig: parsing never panics, and what it accepts validates.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[pids]\nlimit = 10\n[profiles.dev.mounts]\nallow_exec = true\n"))
	f.Add([]byte("[capabilities]\nallow = [\"CAP_KILL\"]\ndrop = []\n"))
	if data, err := os.ReadFile(filepath.Join("..", "config.toml.example")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
	})
}

// FuzzApply: Apply never panics, and every spec it accepts satisfies the policy.
func FuzzApply(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join("testdata", "specs"))
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join("testdata", "specs", e.Name())); err == nil && filepath.Ext(e.Name()) == ".json" {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s specs.Spec
		if json.Unmarshal(data, &s) != nil {
			return
		}
		facts := factsFor(&s)
		plan, err := Apply(&s, DefaultPolicy(), facts, Request{})
		if err != nil {
			return
		}
		if err := Verify(plan, DefaultPolicy(), facts); err != nil {
			t.Fatalf("Apply accepted a spec that violates the policy: %v\ndecisions: %+v", err, plan.Decisions)
		}
	})
}
