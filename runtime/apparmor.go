package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"slices"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// ensureAppArmorProfile loads yoroi's generated profile when the hardened spec uses it and
// the kernel does not have it yet.
func ensureAppArmorProfile(h *hardened) error {
	name := h.policy.MAC.AppArmorProfile
	if h.spec.Process.ApparmorProfile != name || slices.Contains(h.facts.MAC.AppArmorProfiles, name) {
		return nil
	}
	return loadAppArmorProfile(name, hardening.AppArmorProfile(name), "-r")
}

// loadAppArmorProfile runs apparmor_parser on the profile text; mode "-r" loads (or
// replaces) it, "-Q" only compiles it.
func loadAppArmorProfile(name, text, mode string) error {
	f, err := os.CreateTemp("", "yoroi-apparmor-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	out, err := exec.Command("apparmor_parser", "-K", mode, f.Name()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("apparmor_parser %s %s: %v: %s", mode, name, err, out)
	}
	return nil
}
