package hardening

import (
	"slices"
	"strconv"
	"strings"
)

// The org.yoroi.* annotations of `yoroi features`: the hardening in force on this host
// under this configuration's default policy, beside the OCI fields, so that containerd
// (which reads features), operators and inventory tools can see what every container of
// this runtime gets without running one.
const (
	FeatureMACAccept       = "org.yoroi.mac.accept"
	FeatureMACInForce      = "org.yoroi.mac.in-force"
	FeatureLandlockABI     = "org.yoroi.landlock.abi"
	FeatureLandlockMinABI  = "org.yoroi.landlock.min-abi"
	FeatureLandlockMode    = "org.yoroi.landlock.mode"
	FeatureSeccompDefault  = "org.yoroi.seccomp.default"
	FeatureSeccompFloor    = "org.yoroi.seccomp.floor"
	FeatureSeccompComplain = "org.yoroi.seccomp.complain"
	FeatureTelemetry       = "org.yoroi.telemetry"
	FeatureUserns          = "org.yoroi.userns"
	FeatureRootfs          = "org.yoroi.rootfs"
	FeatureCapabilities    = "org.yoroi.capabilities.allow"
	FeatureNoNewPrivileges = "org.yoroi.no-new-privileges"
	FeaturePidsLimit       = "org.yoroi.pids.limit"
	FeatureProfiles        = "org.yoroi.profiles"
	FeatureRefuses         = "org.yoroi.refuses"
)

// FeatureAnnotations describes what the default policy of cfg enforces on a host whose
// security modules are mac.
func FeatureAnnotations(cfg *Config, mac MACFacts) map[string]string {
	p := &cfg.Default
	inForce := InForce(p, mac)
	out := map[string]string{
		FeatureMACAccept:       strings.Join(p.MAC.Accept, ","),
		FeatureMACInForce:      strings.Join(inForce, ","),
		FeatureLandlockABI:     strconv.Itoa(mac.LandlockABI),
		FeatureLandlockMinABI:  strconv.Itoa(p.MAC.LandlockMinABI),
		FeatureSeccompFloor:    strings.Join(slices.DeleteFunc(floorNames(), func(n string) bool { return slices.Contains(p.Seccomp.AllowFloor, n) }), ","),
		FeatureSeccompComplain: strconv.FormatBool(p.Seccomp.Complain),
		FeatureCapabilities:    strings.Join(p.Capabilities.Allow, ","),
		FeaturePidsLimit:       strconv.FormatInt(p.Pids.Limit, 10),
		FeatureRefuses:         "privileged,host-namespaces,sensitive-host-mounts,seccomp-unconfined,no-mac",
	}
	if len(inForce) == 0 {
		out[FeatureMACInForce] = "none: every container is refused"
	}
	switch {
	case !slices.Contains(inForce, "landlock"):
		out[FeatureLandlockMode] = "not in force"
	case p.MAC.LandlockExecWritable:
		out[FeatureLandlockMode] = "launcher: rx on the read-only root, rwx on writable mounts (mac.landlock_exec_writable)"
	default:
		out[FeatureLandlockMode] = "launcher: rx on the read-only root, rw without exec on writable mounts, r on read-only mounts"
	}
	switch {
	case p.Seccomp.AllowUnset:
		out[FeatureSeccompDefault] = "none when the spec has none (seccomp.allow_unset); a caller's profile minus the floor"
	case len(p.Seccomp.Syscalls) > 0:
		out[FeatureSeccompDefault] = "allowlist of seccomp.syscalls (" + strconv.Itoa(len(p.Seccomp.Syscalls)) + " syscalls), errno EPERM"
	default:
		out[FeatureSeccompDefault] = "built-in allowlist, errno EPERM, ENOSYS for syscalls newer than it; a caller's deny-by-default profile minus the floor"
	}
	var tele []string
	if p.Telemetry.SeccompDenials {
		tele = append(tele, "seccomp-denials")
	}
	if p.Telemetry.Exec {
		tele = append(tele, "exec")
	}
	if !cfg.Audit.Enabled || len(tele) == 0 {
		out[FeatureTelemetry] = "off"
	} else {
		out[FeatureTelemetry] = strings.Join(tele, ",") + " (to the audit log, where yoroi's launcher installs the filter)"
	}
	if p.Userns.AllowHost {
		out[FeatureUserns] = "optional (userns.allow_host)"
	} else {
		out[FeatureUserns] = "mandatory: a private " + strconv.FormatUint(uint64(p.Userns.RangeSize), 10) + "-id range per container from " + p.Userns.Pool.String() + ", id-mapped root filesystem, never host id below " + strconv.FormatUint(uint64(p.Userns.MinHostID), 10)
	}
	rootfs := "read-only"
	if !p.Rootfs.Readonly {
		rootfs = "writable (rootfs.readonly = false)"
	}
	out[FeatureRootfs] = rootfs + ", nosuid,nodev,noexec scratch " + strings.Join(slices.Concat(p.Rootfs.Scratch, p.Rootfs.ScratchCopy), ",")
	out[FeatureNoNewPrivileges] = "forced"
	if p.Process.AllowNewPrivileges {
		out[FeatureNoNewPrivileges] = "as the spec says (process.allow_new_privileges)"
	}
	names := []string{DefaultProfile}
	for name := range cfg.Profiles {
		names = append(names, name)
	}
	slices.Sort(names[1:])
	out[FeatureProfiles] = strings.Join(names, ",")
	return out
}
