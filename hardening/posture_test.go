package hardening

import (
	"strings"
	"testing"
)

func TestPostureCompare(t *testing.T) {
	host := FileID{Dev: 4, Ino: 100}
	joined := FileID{Dev: 4, Ino: 300}
	model := func() Posture {
		return Posture{
			Bounding: CapMask([]string{"CAP_KILL", "CAP_CHOWN"}), NoNewPrivileges: true, Seccomp: true,
			UIDMap:             []IDMapLine{{0, 1 << 30, 65536}},
			Namespaces:         map[string]NamespaceExpectation{"net": {Host: host}, "ipc": {Host: host, Joined: &joined}},
			RootReadonly:       true,
			Mounts:             []MountExpectation{{Path: "/data", Options: []string{"nosuid", "nodev", "noexec"}}},
			Rlimits:            map[string]Rlimit{"Max open files": {1024, 1024}},
			ForbiddenFDTargets: []string{"/run/yoroi", "/memfd:yoroi-seccomp-filter"},
		}
	}
	good := func() Observed {
		return Observed{
			CapBnd: CapMask([]string{"CAP_KILL", "CAP_CHOWN"}), CapEff: CapMask([]string{"CAP_KILL"}), NoNewPrivs: true, SeccompMode: 2,
			UIDMap:     []IDMapLine{{0, 1 << 30, 65536}},
			Namespaces: map[string]FileID{"net": {Dev: 4, Ino: 200}, "ipc": joined},
			Mounts:     map[string][]string{"/": {"ro", "nosuid"}, "/data": {"rw", "nosuid", "nodev", "noexec"}},
			Rlimits:    map[string]Rlimit{"Max open files": {1024, 1024}},
			FDs:        map[int]string{0: "/dev/null", 1: "pipe:[1]"},
		}
	}
	for _, tc := range []struct {
		name   string
		model  func(*Posture)
		change func(*Observed)
		want   string // "" : no difference
	}{
		{"as promised", nil, nil, ""},
		{"extra bounding capability", nil, func(o *Observed) { o.CapBnd |= CapMask([]string{"CAP_SYS_ADMIN"}) }, "bounding capabilities"},
		{"effective outside bounding", nil, func(o *Observed) { o.CapEff |= CapMask([]string{"CAP_NET_RAW"}) }, "effective capabilities CAP_NET_RAW outside"},
		{"ambient not granted", nil, func(o *Observed) { o.CapAmb = CapMask([]string{"CAP_KILL"}) }, "ambient capabilities CAP_KILL"},
		{"no_new_privs missing", nil, func(o *Observed) { o.NoNewPrivs = false }, "no_new_privs"},
		{"no seccomp filter", nil, func(o *Observed) { o.SeccompMode = 0 }, "seccomp mode 0"},
		{"uid_map differs", nil, func(o *Observed) { o.UIDMap = []IDMapLine{{0, 2 << 30, 65536}} }, "uid_map"},
		{"host root mapped", func(m *Posture) { m.UIDMap = nil }, func(o *Observed) { o.UIDMap = []IDMapLine{{0, 0, 4294967295}} }, "uid_map maps host id 0"},
		{"host root allowed", func(m *Posture) { m.UIDMap, m.HostRootAllowed = nil, true }, func(o *Observed) { o.UIDMap = []IDMapLine{{0, 0, 4294967295}} }, ""},
		{"host network namespace", nil, func(o *Observed) { o.Namespaces["net"] = host }, "net namespace is the host's"},
		{"joined another namespace", nil, func(o *Observed) { o.Namespaces["ipc"] = FileID{Dev: 4, Ino: 9} }, "ipc namespace is not the one joined"},
		{"namespace unreadable", nil, func(o *Observed) { delete(o.Namespaces, "net") }, "net namespace unreadable"},
		{"writable root", nil, func(o *Observed) { o.Mounts["/"] = []string{"rw"} }, "/ is mounted writable"},
		{"mount without noexec", nil, func(o *Observed) { o.Mounts["/data"] = []string{"rw", "nosuid", "nodev"} }, "mount /data without noexec"},
		{"mount missing", nil, func(o *Observed) { delete(o.Mounts, "/data") }, "mount /data missing"},
		{"rlimit differs", nil, func(o *Observed) { o.Rlimits["Max open files"] = Rlimit{1024, 1 << 20} }, "rlimit"},
		{"fd on the state root", nil, func(o *Observed) { o.FDs[5] = "/run/yoroi/x/state.json" }, "fd 5 open on /run/yoroi/x/state.json"},
		{"seccomp filter memfd left open", nil, func(o *Observed) { o.FDs[4] = "/memfd:yoroi-seccomp-filter (deleted)" }, "fd 4 open on /memfd:yoroi-seccomp-filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, o := model(), good()
			if tc.model != nil {
				tc.model(&m)
			}
			if tc.change != nil {
				tc.change(&o)
			}
			got := m.Compare(o)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("differences %v, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("differences %v, want one saying %q", got, tc.want)
			}
		})
	}
}
