package runtime

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// Debian's apparmor_parser compiles the generated profile without loading it (this host
// has no AppArmor at runtime; `make deps` installs the parser).
func TestAppArmorProfileCompiles(t *testing.T) {
	if _, err := exec.LookPath("apparmor_parser"); err != nil {
		t.Fatal("apparmor_parser is required (Debian package apparmor; make deps installs it)")
	}
	if err := loadAppArmorProfile("yoroi-default", hardening.AppArmorProfile("yoroi-default"), "-Q"); err != nil {
		t.Fatal(err)
	}
	// The check can fail: a broken profile is rejected.
	broken := strings.Replace(hardening.AppArmorProfile("yoroi-default"), "deny mount,", "deny mount,\n  frobnicate this,", 1)
	if err := loadAppArmorProfile("yoroi-default", broken, "-Q"); err == nil {
		t.Fatal("apparmor_parser accepted a broken profile")
	}
}
