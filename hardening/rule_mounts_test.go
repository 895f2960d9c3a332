package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckMounts(t *testing.T) {
	bind := func(src, dst string, opts ...string) specs.Mount {
		return specs.Mount{Destination: dst, Source: src, Type: "bind", Options: append([]string{"rbind"}, opts...)}
	}
	allowExec := DefaultPolicy()
	allowExec.Mounts.AllowExec = true
	bindFlags := DefaultPolicy()
	bindFlags.Mounts.AllowBindFlags = true
	bindFlags.Mounts.AllowExec = true
	writableCgroup := DefaultPolicy()
	writableCgroup.Mounts.AllowWritableCgroup = true
	allowSrc := DefaultPolicy()
	allowSrc.Mounts.AllowSources = []string{"/etc"}
	facts := HostFacts{RealPaths: map[string]string{"/srv/link-to-root": "/", "/var/run/docker.sock": "/run/docker.sock"},
		Sources: map[string]SourceFacts{
			"/srv/ro":       {Type: "directory", ReadOnly: true},
			"/srv/noexec":   {Type: "directory", ReadOnly: true, Flags: []string{"noexec", "nosymfollow", "noatime", "nodiratime"}},
			"/srv/relatime": {Type: "directory", Flags: []string{"relatime"}},
		}}
	for _, tc := range []struct {
		name    string
		mounts  []specs.Mount
		prop    string
		policy  *Policy
		want    Outcome
		key     string
		wantOpt map[string][]string // destination → options that must be present
		noOpt   map[string][]string // destination → options that must be absent
	}{
		{"volume gets nosuid,nodev,noexec", []specs.Mount{bind("/srv/data", "/data")}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/data": {"nosuid", "nodev", "noexec"}}, nil},
		{"suid/dev/exec options removed", []specs.Mount{bind("/srv/data", "/data", "suid", "dev", "exec")}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/data": {"nosuid", "nodev", "noexec"}}, map[string][]string{"/data": {"suid", "dev", "exec"}}},
		{"read-only volume stays exec-able", []specs.Mount{bind("/srv/data", "/data", "ro", "nosuid", "nodev")}, "", DefaultPolicy(), Kept, "",
			nil, map[string][]string{"/data": {"noexec"}}},
		{"allow_exec keeps exec", []specs.Mount{bind("/srv/data", "/data")}, "", allowExec, Tightened, "",
			map[string][]string{"/data": {"nosuid", "nodev"}}, map[string][]string{"/data": {"noexec"}}},
		{"read-only source stays read-only", []specs.Mount{bind("/srv/ro", "/data")}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/data": {"ro", "nosuid", "nodev"}}, map[string][]string{"/data": {"noexec"}}},
		{"read-only source asked rw stays read-only", []specs.Mount{bind("/srv/ro", "/data", "rw")}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/data": {"ro"}}, map[string][]string{"/data": {"rw"}}},
		{"a bind without flags keeps its source's (mount(8)'s --bind)", []specs.Mount{bind("/srv/noexec", "/data")}, "", allowExec, Tightened, "",
			map[string][]string{"/data": {"ro", "nosuid", "nodev", "noexec", "nosymfollow", "noatime", "nodiratime"}}, nil},
		{"a bind with flags gets only those (and yoroi's)", []specs.Mount{bind("/srv/noexec", "/data", "exec")}, "", allowExec, Tightened, "",
			map[string][]string{"/data": {"ro", "nosuid", "nodev", "exec"}}, map[string][]string{"/data": {"noexec", "nosymfollow", "noatime"}}},
		{"a writable source's atime mode kept", []specs.Mount{bind("/srv/relatime", "/data")}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/data": {"relatime", "noexec"}}, nil},
		{"allow_bind_flags: a bind gets the flags it names", []specs.Mount{bind("/srv/ro", "/data", "rw", "suid", "dev")}, "", bindFlags, Relaxed, "",
			map[string][]string{"/data": {"rw", "suid", "dev"}}, map[string][]string{"/data": {"ro", "nosuid", "nodev"}}},
		{"allow_bind_flags: a bind that names none gets none", []specs.Mount{bind("/srv/noexec", "/data")}, "", bindFlags, Relaxed, "",
			nil, map[string][]string{"/data": {"ro", "nosuid", "nodev", "noexec"}}},
		{"allow_bind_flags: sources still judged", []specs.Mount{bind("/etc", "/h")}, "", bindFlags, Refused, "mounts.allow_sources", nil, nil},
		{"allow_writable_cgroup: a cgroup asked rw stays rw", []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "rw"}}}, "", writableCgroup, Relaxed, "",
			map[string][]string{"/sys/fs/cgroup": {"rw"}}, map[string][]string{"/sys/fs/cgroup": {"ro"}}},
		{"allow_writable_cgroup: a cgroup asked ro stays ro", []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "ro"}}}, "", writableCgroup, Tightened, "",
			map[string][]string{"/sys/fs/cgroup": {"ro"}}, nil},
		{"allow_writable_cgroup: sysfs still ro", []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"rw"}}}, "", writableCgroup, Tightened, "",
			map[string][]string{"/sys": {"ro"}}, nil},
		{"host root refused", []specs.Mount{bind("/", "/host")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"/etc refused", []specs.Mount{bind("/etc", "/h")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"/etc allowed by profile", []specs.Mount{bind("/etc", "/h", "ro")}, "", allowSrc, Tightened, "", nil, nil},
		{"parent of a denied path refused", []specs.Mount{bind("/var/lib", "/h")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"parent of docker.sock refused", []specs.Mount{bind("/run", "/h")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"docker.sock through /var/run symlink refused", []specs.Mount{bind("/var/run/docker.sock", "/s")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"symlink to / refused", []specs.Mount{bind("/srv/link-to-root", "/h")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"docker's own files below /var/lib/docker allowed", []specs.Mount{bind("/var/lib/docker/containers/abc/hosts", "/etc/hosts")}, "", DefaultPolicy(), Tightened, "", nil, nil},
		{"/proc subtree refused", []specs.Mount{bind("/proc/sys", "/h")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"/sys/fs/cgroup refused", []specs.Mount{bind("/sys/fs/cgroup", "/sys/fs/cgroup")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"/dev subtree refused", []specs.Mount{bind("/dev/sda", "/dev/sda")}, "", DefaultPolicy(), Refused, "mounts.allow_sources", nil, nil},
		{"rshared refused", []specs.Mount{bind("/srv/data", "/data", "rshared")}, "", DefaultPolicy(), Refused, "mounts.allow_shared_propagation", nil, nil},
		{"rootfs shared refused", nil, "shared", DefaultPolicy(), Refused, "mounts.allow_shared_propagation", nil, nil},
		{"sysfs forced ro", []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "rw"}}}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/sys": {"ro"}}, map[string][]string{"/sys": {"rw"}}},
		{"proc gets nosuid,nodev,noexec", []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/proc": {"nosuid", "nodev", "noexec"}}, nil},
		{"cgroup forced ro", []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/sys/fs/cgroup": {"ro"}}, nil},
		{"writable tmpfs gets noexec", []specs.Mount{{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}}}, "", DefaultPolicy(), Tightened, "",
			map[string][]string{"/dev": {"noexec"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Mounts = tc.mounts
			s.Linux.RootfsPropagation = tc.prop
			out, d, err := runTable(t, mountRules, s, tc.policy, facts)
			wantOutcome(t, d, err, tc.want, tc.key)
			for _, m := range out.Mounts {
				for _, o := range tc.wantOpt[m.Destination] {
					if !slices.Contains(m.Options, o) {
						t.Errorf("%s: %v lacks %s", m.Destination, m.Options, o)
					}
				}
				for _, o := range tc.noOpt[m.Destination] {
					if slices.Contains(m.Options, o) {
						t.Errorf("%s: %v still has %s", m.Destination, m.Options, o)
					}
				}
			}
		})
	}
}

// mountRules are the rules that judge mounts, in table order.
var mountRules = []string{"mounts.propagation", "mounts.source", "mounts"}
