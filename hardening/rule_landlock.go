package hardening

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// LandlockArg is the hidden argument with which the runtime's own binary, executed as the
// container's process, restricts itself with Landlock and then executes the workload.
const LandlockArg = "__yoroi_landlock"

// LandlockExe is what the container's process executes first: libcontainer's init runs
// from the runtime's sealed binary, so /proc/self/exe inside the container is that copy.
const LandlockExe = "/proc/self/exe"

// LandlockSettings are the launcher's settings.
type LandlockSettings struct {
	MinABI int
	// ExecWritable allows execution beneath writable mounts.
	ExecWritable bool
	// RootWritable allows writing beneath "/" (a root the policy leaves writable).
	RootWritable bool
	// MakeDevices allows creating device nodes where writing is allowed.
	MakeDevices bool
	// KeepPrivileges: the process runs without no_new_privs. The launcher then confines
	// itself with LauncherCapabilities (landlock_restrict_self and seccomp need
	// CAP_SYS_ADMIN without no_new_privs) and sets Capabilities before the execve.
	KeepPrivileges bool
	Capabilities   LauncherCaps
	// ImageVolumes are mount points of image content other than the root (Kubernetes'
	// image volumes): read-only, and executable as the root's own entries are.
	ImageVolumes []string
	// ExecAllow, ReadAllow and WriteAllow are the allow-lists of files.exec, files.read
	// and files.write: when set, execute, reading the root's files and writing are
	// granted only there.
	ExecAllow, ReadAllow, WriteAllow []string
}

// LauncherCaps are a process' capability sets as masks (bit N: capability N).
type LauncherCaps struct{ Bounding, Permitted, Effective, Inheritable, Ambient uint64 }

// LauncherCapabilities are what the runtime adds to every capability set of a process
// whose launcher keeps privileges, for the launcher alone: CAP_SYS_ADMIN to confine
// itself, CAP_SETPCAP to drop from the bounding set what the process must not have.
var LauncherCapabilities = []string{"CAP_SYS_ADMIN", "CAP_SETPCAP"}

// LauncherKeepsPrivileges reports whether args run under a launcher that keeps
// privileges (and must be handed LauncherCapabilities).
func LauncherKeepsPrivileges(args []string) bool {
	if !IsLandlockWrapped(args) {
		return false
	}
	end := slices.Index(args, "--")
	return end > 0 && slices.Contains(args[2:end], keepPrivilegesArg)
}

const (
	keepPrivilegesArg = "keep-privs"
	imageVolumeArg    = "image-volume="
	execAllowArg      = "exec-allow="
	readAllowArg      = "read-allow="
	writeAllowArg     = "write-allow="
)

// LauncherFinalCaps returns the capability sets a launcher that keeps privileges gives
// the workload (what the runtime's posture check expects of it).
func LauncherFinalCaps(args []string) (LauncherCaps, bool) {
	if !LauncherKeepsPrivileges(args) {
		return LauncherCaps{}, false
	}
	end := slices.Index(args, "--")
	for _, a := range args[2:end] {
		var c LauncherCaps
		if n, err := fmt.Sscanf(a, "caps=%x,%x,%x,%x,%x", &c.Bounding, &c.Permitted, &c.Effective, &c.Inheritable, &c.Ambient); err == nil && n == 5 {
			return c, true
		}
	}
	return LauncherCaps{}, false
}

func launcherCaps(c *specs.LinuxCapabilities) LauncherCaps {
	if c == nil {
		return LauncherCaps{}
	}
	return LauncherCaps{CapMask(c.Bounding), CapMask(c.Permitted), CapMask(c.Effective), CapMask(c.Inheritable), CapMask(c.Ambient)}
}

// WrapLandlock returns the argv that runs args under Landlock: the launcher, its
// settings, "--", then the workload's argv unchanged.
func WrapLandlock(args []string, s LandlockSettings) []string {
	out := []string{LandlockExe, LandlockArg, "abi=" + strconv.Itoa(s.MinABI)}
	if s.ExecWritable {
		out = append(out, "exec-writable")
	}
	if s.RootWritable {
		out = append(out, "root-writable")
	}
	if s.MakeDevices {
		out = append(out, "make-devices")
	}
	for _, dest := range s.ImageVolumes {
		out = append(out, imageVolumeArg+dest)
	}
	for _, l := range []struct {
		arg   string
		paths []string
	}{{execAllowArg, s.ExecAllow}, {readAllowArg, s.ReadAllow}, {writeAllowArg, s.WriteAllow}} {
		for _, p := range l.paths {
			out = append(out, l.arg+p)
		}
	}
	if s.KeepPrivileges {
		c := s.Capabilities
		out = append(out, keepPrivilegesArg, fmt.Sprintf("caps=%x,%x,%x,%x,%x", c.Bounding, c.Permitted, c.Effective, c.Inheritable, c.Ambient))
	}
	out = append(out, "--")
	return append(out, args...)
}

// IsLandlockWrapped reports whether args already run under the launcher.
func IsLandlockWrapped(args []string) bool {
	return len(args) > 2 && args[0] == LandlockExe && args[1] == LandlockArg
}

// checkLandlock confines the workload itself with Landlock, right before it executes:
// read+execute on the read-only root, read+write without execute on writable mounts,
// read-only on read-only mounts, nothing else.
func checkLandlock(c *checker) error {
	if !macActive(c, "landlock") {
		c.kept("Landlock not accepted or not available")
		return nil
	}
	return wrapProcess(c)
}

func wrapProcess(c *checker) error {
	p := c.spec.Process
	if IsLandlockWrapped(p.Args) {
		return c.refuse("process.args already name yoroi's Landlock launcher", "mac.accept")
	}
	if slices.Contains(p.Args, LandlockArg) && len(p.Args) > 0 && p.Args[0] == LandlockExe {
		return c.refuse("process.args imitate yoroi's Landlock launcher", "mac.accept")
	}
	settings := LandlockSettings{
		MinABI:       c.policy.MAC.LandlockMinABI,
		ExecWritable: c.policy.MAC.LandlockExecWritable,
		MakeDevices:  c.policy.MAC.LandlockMakeDevices,
		// Only where the policy leaves the root writable and the spec does too (an exec
		// sees no root: the mount itself stays read-only where the container's is).
		RootWritable: !c.policy.Rootfs.Readonly && c.spec.Root != nil && !c.spec.Root.Readonly,
		// The no-new-privileges rule left it off: the profile allows it and the spec asks.
		KeepPrivileges: !p.NoNewPrivileges,
		Capabilities:   launcherCaps(p.Capabilities),
		ImageVolumes:   imageVolumes(c),
		ExecAllow:      slices.Clone(c.policy.Files.Exec),
		ReadAllow:      slices.Clone(c.policy.Files.Read),
		WriteAllow:     slices.Clone(c.policy.Files.Write),
	}
	p.Args = WrapLandlock(p.Args, settings)
	root := "rx on /"
	if settings.RootWritable {
		root = "rwx on / (rootfs.readonly = false)"
	}
	writable := "rw (no exec) on writable mounts"
	if settings.MakeDevices {
		writable = "rw (no exec) and device nodes (mac.landlock_make_devices) on writable mounts"
	}
	readonly := "r on read-only mounts"
	if len(settings.ImageVolumes) > 0 {
		readonly = fmt.Sprintf("r on read-only mounts, rx on image volumes %v", settings.ImageVolumes)
	}
	c.tightened(fmt.Sprintf("workload confined by Landlock (kernel ABI %d, at least %d)", c.facts.MAC.LandlockABI, c.policy.MAC.LandlockMinABI), "", root+", "+writable+", "+readonly)
	if lists := allowLists(settings); lists != "" {
		c.tightened("Landlock allow-lists (files.exec, files.read, files.write)", "", lists)
	}
	return nil
}

// allowLists describes the allow-lists in force ("" : none).
func allowLists(s LandlockSettings) string {
	var out []string
	if len(s.ExecAllow) > 0 {
		out = append(out, fmt.Sprintf("execute only %v", s.ExecAllow))
	}
	if len(s.ReadAllow) > 0 {
		out = append(out, fmt.Sprintf("read the image's files only beneath %v", s.ReadAllow))
	}
	if len(s.WriteAllow) > 0 {
		out = append(out, fmt.Sprintf("write only beneath %v", s.WriteAllow))
	}
	return strings.Join(out, "; ")
}

// imageVolumes are the destinations of the container's image volumes: binds of an image's
// content, which the engine mounted as an overlay of the image's layers (the whole
// overlay, or a directory of it: a subPath), and which the rootfs.idmap rule makes
// read-only. Their programs may run, as the root image's do; the launcher grants it only
// where the mount is read-only. An exec is told them by the runtime (the volumes it
// rebuilt at create).
func imageVolumes(c *checker) []string {
	if c.exec {
		return slices.Clone(c.facts.ImageVolumes)
	}
	var out []string
	for _, m := range c.spec.Mounts {
		src := c.facts.Sources[m.Source]
		if IsBind(m) && (src.OverlayMount || src.InOverlayMount != "") {
			out = append(out, m.Destination)
		}
	}
	return out
}

// verifyLandlock: where Landlock is yoroi's confinement, the process runs under the
// launcher.
func verifyLandlock(v *verifier) error {
	if slices.Contains(InForce(v.policy, v.facts.MAC), "landlock") && !IsLandlockWrapped(v.spec.Process.Args) {
		return fmt.Errorf("process not confined by Landlock")
	}
	return nil
}
