package hardening

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The generated profile is reviewed as a golden file; `apparmor_parser -Q` compiling it
// is checked where the parser exists (runtime's TestAppArmorProfileCompiles).
func TestAppArmorProfileGolden(t *testing.T) {
	got := AppArmorProfile("yoroi-default")
	golden := filepath.Join("testdata", "apparmor", "yoroi-default.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("profile differs from %s (go test -update to accept):\n%s", golden, got)
	}
}
