package runtime

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// ensureAppArmorProfile loads yoroi's generated profile when the hardened spec uses it and
// the kernel does not have it yet.
func ensureAppArmorProfile(h *hardened) error {
	name := h.policy.MAC.AppArmorProfile
	if h.spec().Process.ApparmorProfile != name || slices.Contains(h.facts.MAC.AppArmorProfiles, name) {
		return nil
	}
	return loadAppArmorProfile(name, hardening.AppArmorProfile(name), "-r")
}

// loadAppArmorProfile runs apparmor_parser on the profile text (on its standard input);
// mode "-r" loads (or replaces) it, "-Q" only compiles it.
func loadAppArmorProfile(name, text, mode string) error {
	cmd := exec.Command("apparmor_parser", "-K", mode)
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apparmor_parser %s %s: %v: %s", mode, name, err, out)
	}
	return nil
}
