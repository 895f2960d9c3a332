package runtime

import (
	"os"
	"strings"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// macFacts reads what the host's security modules offer.
func macFacts() hardening.MACFacts {
	var f hardening.MACFacts
	if data, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		f.LSMs = strings.Split(strings.TrimSpace(string(data)), ",")
	}
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(data)) == "Y" {
		if _, err := os.Stat("/sys/kernel/security/apparmor"); err == nil {
			f.AppArmorEnabled = true
			f.AppArmorProfiles = loadedAppArmorProfiles()
		}
	}
	if data, err := os.ReadFile("/sys/fs/selinux/enforce"); err == nil {
		f.SELinuxEnabled = true
		f.SELinuxEnforcing = strings.TrimSpace(string(data)) == "1"
	}
	f.LandlockABI = LandlockABI()
	return f
}

// loadedAppArmorProfiles lists the names in /sys/kernel/security/apparmor/profiles
// ("name (mode)" per line).
func loadedAppArmorProfiles() []string {
	data, err := os.ReadFile("/sys/kernel/security/apparmor/profiles")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if i := strings.LastIndex(line, " ("); i > 0 {
			out = append(out, line[:i])
		}
	}
	return out
}
