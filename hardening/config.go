package hardening

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// ProfileAnnotation selects a named profile from config.toml. It can only select what an
// administrator defined; a spec can never relax anything on its own.
const ProfileAnnotation = "org.yoroi.profile"

// DefaultProfile is the name of the policy in force when no profile is selected.
const DefaultProfile = "default"

// Config is yoroi's config.toml: the audit log, the default policy (top-level
// sections) and named profiles ([profiles.NAME.SECTION]) that override it.
type Config struct {
	Audit    AuditConfig
	Runtime  RuntimeConfig
	Default  Policy
	Profiles map[string]*Policy
}

// RuntimeConfig is the [runtime] section.
type RuntimeConfig struct {
	// StateDir is yoroi's host-wide state: the id-range allocations (unique across every
	// engine's state root) and the staged id-mapped root filesystems. It and its
	// ancestors must be searchable by others.
	StateDir string `toml:"state_dir"`
}

// DefaultStateDir is [runtime] state_dir's default.
const DefaultStateDir = "/run/yoroi/.yoroi"

// AuditConfig is the [audit] section.
type AuditConfig struct {
	// Enabled writes one JSON line per lifecycle event, decision and refusal.
	Enabled bool `toml:"enabled"`
	// Path of the JSON-lines audit log (appended, never truncated).
	Path string `toml:"path"`
}

// Policy is every rule's setting. The default values are the secure defaults; each key is
// documented in config.toml.example.
type Policy struct {
	// Name is "default" or the profile's name.
	Name         string             `toml:"-" json:"name"`
	Privileged   PrivilegedPolicy   `toml:"privileged" json:"privileged"`
	Process      ProcessPolicy      `toml:"process" json:"process"`
	Rootfs       RootfsPolicy       `toml:"rootfs" json:"rootfs"`
	Capabilities CapabilitiesPolicy `toml:"capabilities" json:"capabilities"`
	Namespaces   NamespacesPolicy   `toml:"namespaces" json:"namespaces"`
	Mounts       MountsPolicy       `toml:"mounts" json:"mounts"`
	Paths        PathsPolicy        `toml:"paths" json:"paths"`
	Devices      DevicesPolicy      `toml:"devices" json:"devices"`
	Sysctls      SysctlsPolicy      `toml:"sysctls" json:"sysctls"`
	Pids         PidsPolicy         `toml:"pids" json:"pids"`
	Hooks        HooksPolicy        `toml:"hooks" json:"hooks"`
	Users        UsersPolicy        `toml:"users" json:"users"`
	Userns       UsernsPolicy       `toml:"userns" json:"userns"`
	Seccomp      SeccompPolicy      `toml:"seccomp" json:"seccomp"`
	MAC          MACPolicy          `toml:"mac" json:"mac"`
	Telemetry    TelemetryPolicy    `toml:"telemetry" json:"telemetry"`
	Secrets      SecretsPolicy      `toml:"secrets" json:"secrets"`
	Images       ImagesPolicy       `toml:"images" json:"images"`
	Files        FilesPolicy        `toml:"files" json:"files"`
}

// FilesPolicy is [files]: allow-lists of what the workload (and every process exec'd
// into the container) may execute, read and write, enforced by Landlock (where Landlock
// confines the container). Paths are the container's, real (a rule never follows a
// symlink): a directory covers what is beneath it. Empty lists leave Landlock's defaults.
type FilesPolicy struct {
	// Exec: the only files that may be executed (the program, its interpreter, the
	// dynamic loader), and directories of them.
	Exec AbsPaths `toml:"exec" json:"exec" diff:"tightens"`
	// Read: the only files of the root filesystem that may be read (shared libraries
	// included); directories stay listable, other mounts readable.
	Read AbsPaths `toml:"read" json:"read" diff:"tightens"`
	// Write: the only paths that may be written (writable mounts elsewhere become
	// read-only to the workload; /dev/null included).
	Write AbsPaths `toml:"write" json:"write" diff:"tightens"`
}

// ImagesPolicy is [images]: which images may run, where the engine names the image.
type ImagesPolicy struct {
	// Allow lists the images that may run (empty: any): "sha256:..." (that digest),
	// "REGISTRY/PATH/*" (every repository under it), "NAME:TAG" or "NAME@DIGEST"
	// (exactly), "NAME" (every tag and digest of it). Docker Hub short names are
	// normalized ("busybox" is docker.io/library/busybox).
	Allow []string `toml:"allow" json:"allow" diff:"tightens"`
	// Pins maps image names ("nginx:1.27", or "nginx" for every tag) to the only digest
	// they may have: a container of that name whose engine gives another digest, or
	// none, is refused.
	Pins map[string]string `toml:"pins" json:"pins" diff:"tightens"`
	// Unknown is what a container whose engine names no image gets where Allow or Pins
	// are set: "record" (it runs, the decision says the image is unknown) or "refuse".
	Unknown ImageUnknownMode `toml:"unknown" json:"unknown"`
}

// SecretsPolicy is [secrets]: credentials in the environment.
type SecretsPolicy struct {
	// Env is what a process whose environment holds a variable that looks like a
	// credential gets: "warn" (a warned decision, audited), "refuse" or "allow".
	Env SecretsMode `toml:"env" json:"env"`
	// Names are more name patterns (path.Match, case-insensitive) that mark a variable
	// as a credential.
	Names []string `toml:"names" json:"names"`
	// AllowNames are variable names never flagged.
	AllowNames []string `toml:"allow_names" json:"allow_names"`
}

// TelemetryPolicy is [telemetry]: what the runtime's monitor of each container reports to
// the audit log. It needs the audit log and a filter installed by yoroi's launcher.
type TelemetryPolicy struct {
	// SeccompDenials audits each syscall the seccomp filter denies (container, syscall,
	// architecture, errno, the process): the filter notifies the monitor instead of
	// failing the call itself, and the monitor fails it with the filter's own errno.
	SeccompDenials bool `toml:"seccomp_denials" json:"seccomp_denials"`
	// Exec audits every execve in the container with its arguments, its user and whether
	// it ran.
	Exec bool `toml:"exec" json:"exec"`
}

// ProcessPolicy is [process].
type ProcessPolicy struct {
	// AllowNewPrivileges keeps a process' noNewPrivileges false when its spec says so
	// (runc's behaviour): setuid programs and file capabilities then raise privileges.
	AllowNewPrivileges bool `toml:"allow_new_privileges" json:"allow_new_privileges"`
}

// MACPolicy is [mac]: mandatory access control.
type MACPolicy struct {
	// Accept lists the providers that count as confinement, in order of preference:
	// "apparmor" (enabled), "selinux" (enforcing), "landlock". If none of them is in
	// force, every create is refused.
	Accept MACProviders `toml:"accept" json:"accept"`
	// LandlockMinABI is the lowest Landlock ABI version accepted.
	LandlockMinABI int `toml:"landlock_min_abi" json:"landlock_min_abi"`
	// LandlockExecWritable lets Landlock allow execution from writable mounts (combine
	// with mounts.allow_exec).
	LandlockExecWritable bool `toml:"landlock_exec_writable" json:"landlock_exec_writable"`
	// LandlockMakeDevices lets Landlock allow creating device nodes where writing is
	// allowed (mknod of block and character devices; which devices may then be opened is
	// the device cgroup's to decide).
	LandlockMakeDevices bool `toml:"landlock_make_devices" json:"landlock_make_devices"`
	// AppArmorProfile is the profile yoroi generates and loads for specs that name none.
	AppArmorProfile string `toml:"apparmor_profile" json:"apparmor_profile"`
	// SELinuxType is the default process type.
	SELinuxType string `toml:"selinux_type" json:"selinux_type"`
}

// SeccompPolicy is [seccomp].
type SeccompPolicy struct {
	// AllowUnconfined accepts a caller profile whose default action allows (no filter).
	AllowUnconfined bool `toml:"allow_unconfined" json:"allow_unconfined"`
	// AllowUnset runs a spec that has no seccomp profile without a filter, as runc does,
	// instead of under the built-in profile.
	AllowUnset bool `toml:"allow_unset" json:"allow_unset"`
	// AllowFloor lists deny-floor syscalls a caller's profile may allow ("ptrace").
	AllowFloor []string `toml:"allow_floor" json:"allow_floor"`
	// CompatArchitectures admits the compat ABIs (x86 and x32 on x86_64, arm on
	// aarch64) into the filter; without it a 32-bit process is killed at its first
	// system call. With it, socketcall cannot create sockets (seccomp cannot see the
	// family it carries): 32-bit programs must use the direct socket call.
	CompatArchitectures bool `toml:"compat_architectures" json:"compat_architectures"`
	// Syscalls, when set, is the only syscalls a workload may make: a spec that names no
	// profile gets a deny-by-default profile allowing exactly these (clone, unshare,
	// socket and socketcall under yoroi's conditions), and a caller's profile keeps only
	// these of what it allows. `yoroi profile record --toml` writes it from a run.
	Syscalls []string `toml:"syscalls" json:"syscalls" diff:"tightens"`
	// Complain runs the filter in complain mode: a syscall it would deny is allowed and
	// audited (seccomp-complain events), except the deny floor and the syscalls yoroi
	// allows only under conditions (clone, clone3, unshare, socket, socketcall,
	// personality), which stay denied. For trying a profile on a live workload.
	Complain bool `toml:"complain" json:"complain"`
}

// UsernsPolicy is [userns].
type UsernsPolicy struct {
	// Pool is the host id range ("first-last") from which each container without a user
	// namespace of its own gets a private range of RangeSize ids.
	Pool IDSpan `toml:"pool" json:"pool"`
	// RangeSize is the number of uids/gids each container gets.
	RangeSize uint32 `toml:"range_size" json:"range_size"`
	// MinHostID: a user namespace the caller brings (Kubernetes hostUsers: false, podman
	// --userns, Docker userns-remap) may not map host ids below this (0 is host root).
	MinHostID uint32 `toml:"min_host_id" json:"min_host_id"`
	// IdmapFilesystems are the filesystems on which yoroi id-maps the root filesystem
	// and volumes; a rootfs on anything else is refused.
	IdmapFilesystems []string `toml:"idmap_filesystems" json:"idmap_filesystems"`
	// AllowHost lets a container run in the host's user namespace (container root is
	// host root). Never set this in the default policy.
	AllowHost bool `toml:"allow_host" json:"allow_host"`
}

// PrivilegedPolicy is [privileged].
type PrivilegedPolicy struct {
	// Allow lets a privileged-looking spec (all capabilities, all devices) reach the
	// other rules instead of being refused outright. They still apply.
	Allow bool `toml:"allow" json:"allow"`
}

// RootfsPolicy is [rootfs].
type RootfsPolicy struct {
	// Readonly forces root.readonly.
	Readonly bool `toml:"readonly" json:"readonly"`
	// Scratch lists where a nosuid,nodev,noexec tmpfs is mounted unless the spec mounts
	// something there itself.
	Scratch ScratchPaths `toml:"scratch" json:"scratch"`
	// ScratchCopy lists more scratch paths whose tmpfs starts with a copy of what the
	// image has there (an image directory made writable without losing its files).
	// `yoroi profile record --toml` lists here the directories a workload writes in.
	ScratchCopy ScratchPaths `toml:"scratch_copy" json:"scratch_copy"`
	// ScratchSize caps each scratch tmpfs ("64m", "1g").
	ScratchSize Size `toml:"scratch_size" json:"scratch_size"`
	// AllowNoPivot accepts --no-pivot (chroot instead of pivot_root), for a rootfs on a
	// ramdisk where pivot_root fails.
	AllowNoPivot bool `toml:"allow_no_pivot" json:"allow_no_pivot"`
}

// CapabilitiesPolicy is [capabilities].
type CapabilitiesPolicy struct {
	// Allow is the allowlist every capability set is clamped to.
	Allow Capabilities `toml:"allow" json:"allow"`
	// Drop lists capabilities that engines grant by default: they are removed and
	// recorded. Any other capability outside Allow is refused.
	Drop Capabilities `toml:"drop" json:"drop"`
}

// NamespacesPolicy is [namespaces].
type NamespacesPolicy struct {
	// AllowHost lists namespace types ("network", "pid", "ipc", "uts", "cgroup") a
	// container may share with the host.
	AllowHost HostNamespaces `toml:"allow_host" json:"allow_host"`
}

// MountsPolicy is [mounts].
type MountsPolicy struct {
	// DenySources: a bind source equal to one of these or an ancestor of one is refused.
	DenySources AbsPaths `toml:"deny_sources" json:"deny_sources"`
	// DenySubtrees: a bind source equal to one of these or below one is refused.
	DenySubtrees AbsPaths `toml:"deny_subtrees" json:"deny_subtrees"`
	// AllowSources are exact exceptions to both lists.
	AllowSources AbsPaths `toml:"allow_sources" json:"allow_sources"`
	// AllowExec keeps writable mounts executable (they get noexec otherwise).
	AllowExec bool `toml:"allow_exec" json:"allow_exec"`
	// AllowSharedPropagation allows shared/rshared mounts (host mount events leak both
	// ways through them).
	AllowSharedPropagation bool `toml:"allow_shared_propagation" json:"allow_shared_propagation"`
	// AllowWritableCgroup keeps a cgroup mount the spec asks read-write (without "ro")
	// writable, and delegates the container's cgroup to its root user in a user namespace
	// (the directory and the files that create and populate sub-cgroups, never its own
	// limits), for workloads that manage sub-cgroups (systemd, nested runtimes).
	AllowWritableCgroup bool `toml:"allow_writable_cgroup" json:"allow_writable_cgroup"`
	// AllowBindFlags mounts binds with the flags they name, as runc does: no nosuid,nodev
	// unless named, and a bind of a read-only source writable unless it says ro (what a
	// user namespace locks stays locked).
	AllowBindFlags bool `toml:"allow_bind_flags" json:"allow_bind_flags"`
}

// PathsPolicy is [paths]: additions to the built-in masked and read-only /proc and /sys
// paths, which are always applied.
type PathsPolicy struct {
	Masked   AbsPaths `toml:"masked" json:"masked"`
	Readonly AbsPaths `toml:"readonly" json:"readonly"`
}

// DevicesPolicy is [devices].
type DevicesPolicy struct {
	// Allow lists host device paths a container may have beyond the default set.
	Allow AbsPaths `toml:"allow" json:"allow"`
}

// SysctlsPolicy is [sysctls].
type SysctlsPolicy struct {
	// Allow adds sysctl names ("kernel.msgmax") or prefixes ("kernel.sem*") to the safe set.
	Allow []string `toml:"allow" json:"allow"`
}

// PidsPolicy is [pids].
type PidsPolicy struct {
	// Limit is pids.max when the spec sets none (or unlimited).
	Limit int64 `toml:"limit" json:"limit"`
	// AllowUnlimited keeps a spec's (or update's) explicit unlimited pids limit (-1).
	AllowUnlimited bool `toml:"allow_unlimited" json:"allow_unlimited"`
	// AllowUnset runs a spec that sets no pids limit without one, as runc does; a limit
	// the spec sets is still capped by Limit.
	AllowUnset bool `toml:"allow_unset" json:"allow_unset"`
}

// HooksPolicy is [hooks].
type HooksPolicy struct {
	// Allow lists the real paths of binaries that may run as OCI hooks (on the host, as root).
	Allow AbsPaths `toml:"allow" json:"allow"`
	// AllowStartContainer lets startContainer hooks run: inside the container, but before
	// its seccomp filter and Landlock domain are in force.
	AllowStartContainer bool `toml:"allow_start_container" json:"allow_start_container"`
}

// UsersPolicy is [users]: optional bounds on the container process' uid and gid, as
// ranges "1000-1999" or single ids. Empty allow lists allow every id.
type UsersPolicy struct {
	AllowUIDs IDSpans `toml:"allow_uids" json:"allow_uids"`
	DenyUIDs  IDSpans `toml:"deny_uids" json:"deny_uids"`
	AllowGIDs IDSpans `toml:"allow_gids" json:"allow_gids"`
	DenyGIDs  IDSpans `toml:"deny_gids" json:"deny_gids"`
}

// DefaultAuditPath is where the audit log goes unless [audit] path says otherwise.
const DefaultAuditPath = "/var/log/yoroi/audit.jsonl"

// Defaults is the secure default configuration: what yoroi enforces with no config.toml.
func Defaults() *Config {
	return &Config{
		Audit:    AuditConfig{Enabled: true, Path: DefaultAuditPath},
		Runtime:  RuntimeConfig{StateDir: DefaultStateDir},
		Default:  *DefaultPolicy(),
		Profiles: map[string]*Policy{},
	}
}

// DefaultPolicy is the built-in policy.
func DefaultPolicy() *Policy {
	return &Policy{
		Name: DefaultProfile,
		Rootfs: RootfsPolicy{
			Readonly:    true,
			Scratch:     []string{"/tmp", "/run"},
			ScratchSize: 64 << 20,
		},
		Capabilities: CapabilitiesPolicy{
			Allow: capNames(defaultAllowedCaps),
			Drop:  capNames(engineDefaultCaps),
		},
		Mounts: MountsPolicy{
			DenySources:  append([]string(nil), defaultDenySources...),
			DenySubtrees: append([]string(nil), defaultDenySubtrees...),
		},
		Pids:      PidsPolicy{Limit: 4096},
		Telemetry: TelemetryPolicy{SeccompDenials: true, Exec: true},
		Secrets:   SecretsPolicy{Env: SecretsWarn},
		Images:    ImagesPolicy{Pins: map[string]string{}, Unknown: ImageUnknownRecord},
		MAC: MACPolicy{
			Accept:          []string{"apparmor", "selinux", "landlock"},
			LandlockMinABI:  1,
			AppArmorProfile: "yoroi-default",
			SELinuxType:     "container_t",
		},
		Userns: UsernsPolicy{
			Pool:             IDSpan{1000000000, 1999999999},
			RangeSize:        65536,
			MinHostID:        65536,
			IdmapFilesystems: []string{"ext4", "xfs", "btrfs", "tmpfs", "f2fs", "overlay"},
		},
		Hooks: HooksPolicy{
			// Docker's libnetwork-setkey prestart hook is /proc/<dockerd>/exe.
			Allow: []string{"/usr/bin/dockerd", "/usr/sbin/dockerd"},
		},
	}
}

// ParseConfig parses config.toml. It fails closed: malformed TOML, unknown keys and
// invalid values are errors naming the line and key.
func ParseConfig(data []byte) (*Config, error) {
	var raw struct {
		Audit    AuditConfig               `toml:"audit"`
		Runtime  RuntimeConfig             `toml:"runtime"`
		Profiles map[string]toml.Primitive `toml:"profiles"`
		Policy
	}
	cfg := Defaults()
	raw.Policy = cfg.Default
	raw.Audit = cfg.Audit
	raw.Runtime = cfg.Runtime
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, configError(err)
	}
	cfg.Audit = raw.Audit
	cfg.Runtime = raw.Runtime
	cfg.Default = raw.Policy
	cfg.Default.Name = DefaultProfile
	names := make([]string, 0, len(raw.Profiles))
	for name := range raw.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !validProfileName(name) || name == DefaultProfile {
			return nil, fmt.Errorf("config: invalid profile name %q", name)
		}
		p := cfg.Default.clone()
		if err := md.PrimitiveDecode(raw.Profiles[name], p); err != nil {
			return nil, configError(err)
		}
		p.Name = name
		cfg.Profiles[name] = p
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0].String()
		if line := lineOfKey(data, undecoded[0]); line > 0 {
			return nil, fmt.Errorf("config line %d: unknown key %q", line, key)
		}
		return nil, fmt.Errorf("config: unknown key %q", key)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configError says where in config.toml a value is wrong: its line and key.
func configError(err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("config: %w", err)
	}
	if pe.LastKey != "" {
		return fmt.Errorf("config line %d: %s: %s", pe.Position.Line, pe.LastKey, pe.Message)
	}
	return fmt.Errorf("config line %d: %s", pe.Position.Line, pe.Message)
}

// validProfileName reports whether name matches ^[a-z0-9][a-z0-9_-]{0,62}$ (a regexp that
// would be compiled, 62 repetitions expanded, at every start of the binary).
func validProfileName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

// lineOfKey finds the line where key (its last part) is set, for error messages.
func lineOfKey(data []byte, key toml.Key) int {
	last := key[len(key)-1]
	re := regexp.MustCompile(`^\s*("?` + regexp.QuoteMeta(last) + `"?\s*=|\[+[^\]]*\b` + regexp.QuoteMeta(last) + `\]+)`)
	for i, line := range strings.Split(string(data), "\n") {
		if re.MatchString(line) {
			return i + 1
		}
	}
	return 0
}

// Validate checks every policy of the configuration.
func (c *Config) Validate() error {
	if c.Audit.Enabled && !path.IsAbs(c.Audit.Path) {
		return fmt.Errorf("config: audit.path must be an absolute path, got %q", c.Audit.Path)
	}
	if !path.IsAbs(c.Runtime.StateDir) || path.Clean(c.Runtime.StateDir) == "/" {
		return fmt.Errorf("config: runtime.state_dir must be an absolute path other than /, got %q", c.Runtime.StateDir)
	}
	if err := c.Default.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for name, p := range c.Profiles {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("config: profile %s: %w", name, err)
		}
	}
	return nil
}

// Policy returns the named profile; "" selects the default policy.
func (c *Config) Policy(name string) (*Policy, error) {
	if name == "" || name == DefaultProfile {
		return &c.Default, nil
	}
	p, ok := c.Profiles[name]
	if !ok {
		return nil, &Refusal{
			Rule: "profile",
			What: fmt.Sprintf("annotation %s names profile %q, which config.toml does not define", ProfileAnnotation, name),
			Key:  "[profiles." + name + "]",
		}
	}
	return p, nil
}

// Validate checks one policy: the ordered named checks of policyChecks. (Each value was
// checked on its own when it was parsed: these are what a policy built in code, or a
// combination of keys, can still get wrong.)
func (p *Policy) Validate() error {
	for _, c := range policyChecks {
		if err := c.check(p); err != nil {
			return fmt.Errorf("%s: %w", c.key, err)
		}
	}
	return nil
}

// policyChecks are the checks of a policy, each named by the key it reports.
var policyChecks = []struct {
	key   string
	check func(p *Policy) error
}{
	{"rootfs.scratch", func(p *Policy) error {
		var s ScratchPaths
		return s.UnmarshalTOML(anyList(slices.Concat(p.Rootfs.Scratch, p.Rootfs.ScratchCopy)))
	}},
	{"rootfs.scratch_size", func(p *Policy) error {
		if p.Rootfs.ScratchSize <= 0 {
			return fmt.Errorf("must be positive, got %d", p.Rootfs.ScratchSize)
		}
		return nil
	}},
	{"capabilities", func(p *Policy) error {
		var c Capabilities
		return c.UnmarshalTOML(anyList(slices.Concat(p.Capabilities.Allow, p.Capabilities.Drop)))
	}},
	{"namespaces.allow_host", func(p *Policy) error {
		var h HostNamespaces
		return h.UnmarshalTOML(anyList(p.Namespaces.AllowHost))
	}},
	{"paths", func(p *Policy) error {
		var a AbsPaths
		return a.UnmarshalTOML(anyList(slices.Concat(p.Mounts.DenySources, p.Mounts.DenySubtrees, p.Mounts.AllowSources, p.Hooks.Allow, p.Devices.Allow, p.Paths.Masked, p.Paths.Readonly, p.Files.Exec, p.Files.Read, p.Files.Write)))
	}},
	{"seccomp.syscalls", func(p *Policy) error { return validSyscallList(p.Seccomp.Syscalls, p.Seccomp.AllowFloor) }},
	{"seccomp.allow_floor", func(p *Policy) error {
		for _, n := range p.Seccomp.AllowFloor {
			if !slices.Contains(floorNames(), n) {
				return fmt.Errorf("%q is not a deny-floor syscall", n)
			}
		}
		return nil
	}},
	{"secrets.env", func(p *Policy) error {
		var m SecretsMode
		return m.UnmarshalText([]byte(p.Secrets.Env))
	}},
	{"secrets.names", func(p *Policy) error {
		for _, n := range p.Secrets.Names {
			if _, err := path.Match(n, ""); err != nil || n == "" {
				return fmt.Errorf("%q is not a name pattern", n)
			}
		}
		return nil
	}},
	{"images.allow", func(p *Policy) error {
		for _, e := range p.Images.Allow {
			if err := validImageEntry(e); err != nil {
				return err
			}
		}
		return nil
	}},
	{"images.pins", func(p *Policy) error {
		for name, digest := range p.Images.Pins {
			if err := validImageEntry(name); err != nil || strings.HasPrefix(name, "sha256:") || strings.HasSuffix(name, "/*") || strings.Contains(name, "@") {
				return fmt.Errorf("%q is not an image name (NAME or NAME:TAG)", name)
			}
			if !validDigest(digest) {
				return fmt.Errorf("%q (for %s) is not a sha256 digest", digest, name)
			}
		}
		return nil
	}},
	{"images.unknown", func(p *Policy) error {
		var m ImageUnknownMode
		return m.UnmarshalText([]byte(p.Images.Unknown))
	}},
	{"mac.accept", func(p *Policy) error {
		var m MACProviders
		return m.UnmarshalTOML(anyList(p.MAC.Accept))
	}},
	{"mac.landlock_min_abi", func(p *Policy) error {
		if p.MAC.LandlockMinABI < 1 {
			return fmt.Errorf("must be at least 1")
		}
		return nil
	}},
	{"mac.apparmor_profile", func(p *Policy) error {
		if !validProfileName(p.MAC.AppArmorProfile) {
			return fmt.Errorf("%q is not a profile name", p.MAC.AppArmorProfile)
		}
		return nil
	}},
	{"mac.selinux_type", func(p *Policy) error {
		if t := p.MAC.SELinuxType; strings.TrimSpace(t) == "" || strings.ContainsAny(t, ": ") {
			return fmt.Errorf("%q is not a type name", t)
		}
		return nil
	}},
	{"sysctls.allow", func(p *Policy) error {
		for _, s := range p.Sysctls.Allow {
			if s == "" || strings.ContainsAny(s, " =") {
				return fmt.Errorf("invalid name %q", s)
			}
		}
		return nil
	}},
	{"pids.limit", func(p *Policy) error {
		if p.Pids.Limit <= 0 {
			return fmt.Errorf("must be positive, got %d", p.Pids.Limit)
		}
		return nil
	}},
	{"userns.range_size", func(p *Policy) error {
		if p.Userns.RangeSize == 0 || p.Userns.Pool.Size() < uint64(p.Userns.RangeSize) {
			return fmt.Errorf("%d does not fit in the pool %s", p.Userns.RangeSize, p.Userns.Pool)
		}
		return nil
	}},
	{"userns.pool", func(p *Policy) error {
		if p.Userns.Pool.First < p.Userns.MinHostID {
			return fmt.Errorf("%s starts below userns.min_host_id %d", p.Userns.Pool, p.Userns.MinHostID)
		}
		return nil
	}},
}

// anyList is a list of strings as TOML decodes it, to check it as it would be parsed.
func anyList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func (p *Policy) clone() *Policy { return deepCopy(p) }

// Differences lists the settings of p that differ from the built-in policy, as
// "key: default → value", for `policy explain` and the audit log.
func (p *Policy) Differences() []Decision {
	var out []Decision
	diff(reflect.ValueOf(*DefaultPolicy()), reflect.ValueOf(*p), "", &out)
	return out
}

func diff(a, b reflect.Value, prefix string, out *[]Decision) {
	t := a.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "-" || tag == "" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		av, bv := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Struct {
			diff(av, bv, key, out)
			continue
		}
		if av.Kind() == reflect.Slice && av.Len() == 0 && bv.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(av.Interface(), bv.Interface()) {
			before, _ := json.Marshal(av.Interface())
			after, _ := json.Marshal(bv.Interface())
			outcome := Relaxed
			if f.Tag.Get("diff") == "tightens" {
				outcome = Tightened
			}
			*out = append(*out, Decision{Rule: "profile", Outcome: outcome, Detail: key, Before: string(before), After: string(after)})
		}
	}
}

// ParseSize parses a size such as "64m", "1g", "65536k" or "1048576" into bytes.
func ParseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, errors.New("empty size")
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k':
		mult = 1 << 10
	case 'm':
		mult = 1 << 20
	case 'g':
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}
