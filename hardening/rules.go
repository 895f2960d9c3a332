package hardening

// Scope says which processes a rule concerns.
type Scope uint8

const (
	// ContainerScope: the container as a whole (its namespaces, mounts, resources),
	// decided once at create.
	ContainerScope Scope = iota + 1
	// ProcessScope: a process (its privileges, credentials and confinement), decided
	// for the container's init at create and again for every process exec'd into it.
	ProcessScope
)

// rule is one named step of the policy: apply hardens the spec (or refuses it) and
// records decisions under the rule's name; verify checks the rule's postcondition on the
// spec that will run, written apart from apply so that it can catch apply's bugs.
type rule struct {
	name   string
	scope  Scope
	apply  func(c *checker) error
	verify func(v *verifier) error
}

// rules is the policy, in order; Apply and ApplyProcess select from it by scope and
// Verify checks every postcondition. Privileged comes first so that a privileged request
// is refused as such, not for the first of its many symptoms.
//
// Adding a rule: its file rule_NAME.go (apply, verify, and the reason for the rule),
// its table test rule_NAME_test.go, a line here, and, if administrators may relax it,
// its key in config.go and config.toml.example.
var rules = []rule{
	{"privileged", ContainerScope, checkPrivileged, verifyPrivileged},
	{"profile", ContainerScope, checkProfile, nil},
	{"images", ContainerScope, checkImages, verifyImages},
	{"process.no-new-privileges", ProcessScope, checkNoNewPrivileges, verifyNoNewPrivileges},
	{"process.cwd", ProcessScope, checkCwd, verifyCwd},
	{"process.env", ProcessScope, checkEnvSecrets, verifyEnvSecrets},
	{"users", ProcessScope, checkUsers, verifyUsers},
	{"capabilities", ProcessScope, checkCapabilities, verifyCapabilities},
	{"namespaces", ContainerScope, checkNamespaces, verifyNamespaces},
	{"userns", ContainerScope, checkUserNS, verifyUserNS},
	{"rootfs.source", ContainerScope, checkRootfsSource, verifyRootfsSource},
	{"rootfs.pivot", ContainerScope, checkPivot, nil},
	{"rootfs.readonly", ContainerScope, checkReadonlyRoot, verifyReadonlyRoot},
	{"mounts.propagation", ContainerScope, checkPropagation, verifyPropagation},
	{"mounts.source", ContainerScope, checkSources, verifySources},
	{"mounts", ContainerScope, checkMounts, verifyMounts},
	{"mounts.sysfs", ContainerScope, checkSysfs, verifySysfs},
	{"rootfs.idmap", ContainerScope, checkIdmap, verifyIdmap},
	{"rootfs.scratch", ContainerScope, checkScratch, verifyScratch},
	{"paths", ContainerScope, checkMaskedPaths, verifyMaskedPaths},
	{"devices", ContainerScope, checkDevices, verifyDevices},
	{"sysctls", ContainerScope, checkSysctls, verifySysctls},
	{"seccomp.allow-by-default", ContainerScope, checkAllowByDefault, verifyAllowByDefault},
	{"seccomp", ContainerScope, checkSeccomp, verifySeccomp},
	{"mac", ProcessScope, checkMAC, verifyMAC},
	{"mac.apparmor", ProcessScope, checkAppArmor, verifyAppArmor},
	{"mac.selinux", ProcessScope, checkSELinux, verifySELinux},
	{"mac.landlock", ProcessScope, checkLandlock, verifyLandlock},
	{"telemetry", ContainerScope, checkTelemetry, verifyTelemetry},
	{"pids", ContainerScope, checkPids, verifyPids},
	{"hooks.start-container", ContainerScope, checkStartContainerHooks, verifyStartContainerHooks},
	{"hooks", ContainerScope, checkHooks, verifyHooks},
}
