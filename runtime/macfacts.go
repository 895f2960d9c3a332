package runtime

import (
	"errors"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

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
	f.SELinuxEnabled, f.SELinuxEnforcing = seLinuxState()
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

// undefinedSELinuxTypes returns which of the process types yoroi would use (the policy's,
// the spec's label's) the loaded policy does not define: the kernel refuses a context
// with such a type (EINVAL) when asked to validate it.
func undefinedSELinuxTypes(policyType string, p *specs.Process) []string {
	types := []string{policyType}
	if p != nil && p.SelinuxLabel != "" {
		if parts := strings.Split(p.SelinuxLabel, ":"); len(parts) >= 3 {
			types = append(types, parts[2])
		}
	}
	var out []string
	for _, t := range types {
		f, err := os.OpenFile("/sys/fs/selinux/context", os.O_RDWR, 0)
		if err != nil {
			continue
		}
		_, err = f.Write([]byte("system_u:system_r:" + t + ":s0"))
		f.Close()
		if errors.Is(err, unix.EINVAL) {
			out = append(out, t)
		}
	}
	return out
}

// seLinuxState tells whether SELinux is enabled (its filesystem is mounted) and enforcing.
// A mode yoroi cannot read (a confined runtime domain may not read selinuxfs) counts as
// enforcing: never a silent fallback to no label.
func seLinuxState() (enabled, enforcing bool) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/selinux", &st); err != nil || uint32(st.Type) != unix.SELINUX_MAGIC {
		return false, false
	}
	data, err := os.ReadFile("/sys/fs/selinux/enforce")
	return true, err != nil || strings.TrimSpace(string(data)) == "1"
}
