package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckUserNS(t *testing.T) {
	alloc := &IDRange{Start: 1000000000, Size: 65536}
	podNS := UserNS{Path: "/proc/42/ns/user", ID: FileID{4, 9001}, UIDMap: []specs.LinuxIDMapping{{HostID: 1000065536, Size: 65536}}, GIDMap: []specs.LinuxIDMapping{{HostID: 1000065536, Size: 65536}}}
	owners := map[string]UserNS{
		"/proc/42/ns/net":   podNS,
		"/proc/42/ns/user":  podNS,
		"/proc/1/ns/user":   {Host: true, Path: "/proc/1/ns/user", ID: FileID{4, 1}},
		"/proc/7/ns/net":    {Host: true, ID: FileID{4, 1}},
		"/proc/7/ns/ipc":    {Host: true, ID: FileID{4, 1}},
		"/proc/7/ns/pid":    {Host: true, ID: FileID{4, 1}},
		"/proc/99/ns/ipc":   {Path: "/proc/99/ns/user", ID: FileID{4, 9002}, UIDMap: podNS.UIDMap, GIDMap: podNS.GIDMap},
		"/run/netns/orphan": {ID: FileID{4, 9003}, UIDMap: podNS.UIDMap, GIDMap: podNS.GIDMap},
		"/proc/66/ns/user":  {Path: "/proc/66/ns/user", ID: FileID{4, 9004}, UIDMap: []specs.LinuxIDMapping{{HostID: 0, Size: 65536}}, GIDMap: podNS.GIDMap},
		"/run/pinned/user":  {Path: "/run/pinned/user", ID: FileID{4, 9005}},
	}
	hostAllowed := DefaultPolicy()
	hostAllowed.Userns.AllowHost = true
	user := func(path string) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: specs.UserNamespace, Path: path}
	}
	maps := func(host uint32) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: host, Size: 65536}}
	}
	for _, tc := range []struct {
		name      string
		ns        []specs.LinuxNamespace
		uid, gid  []specs.LinuxIDMapping
		alloc     *IDRange
		policy    *Policy
		want      Outcome
		mode      string
		wantUser  string // path of the user namespace in the output, "-" for a new one
		wantRange bool
	}{
		{"no userns gets a private range", nil, nil, nil, alloc, DefaultPolicy(), Tightened, "allocated", "-", true},
		{"host uid mappings without a userns are replaced", nil, maps(0), maps(0), alloc, DefaultPolicy(), Tightened, "allocated", "-", true},
		{"kubernetes hostUsers:false kept", []specs.LinuxNamespace{user("")}, maps(65536 * 3), maps(65536 * 3), nil, DefaultPolicy(), Kept, "caller", "-", false},
		{"caller mapping host root refused", []specs.LinuxNamespace{user("")}, maps(0), maps(0), nil, DefaultPolicy(), Refused, "", "", false},
		{"caller mapping host user 1000 refused", []specs.LinuxNamespace{user("")}, maps(1000), maps(1000), nil, DefaultPolicy(), Refused, "", "", false},
		{"caller gid mapping host root refused", []specs.LinuxNamespace{user("")}, maps(100000), maps(0), nil, DefaultPolicy(), Refused, "", "", false},
		{"userns without mappings refused", []specs.LinuxNamespace{user("")}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"joining the host userns refused", []specs.LinuxNamespace{user("/proc/1/ns/user")}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"joining a pod userns kept", []specs.LinuxNamespace{user("/proc/42/ns/user")}, nil, nil, nil, DefaultPolicy(), Kept, "joined", "/proc/42/ns/user", false},
		{"joining a userns mapping host root refused", []specs.LinuxNamespace{user("/proc/66/ns/user")}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"unverifiable userns path refused", []specs.LinuxNamespace{user("/proc/77/ns/user")}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"pinned userns with the spec's mappings kept", []specs.LinuxNamespace{user("/run/pinned/user")}, maps(7 * 65536), maps(7 * 65536), nil, DefaultPolicy(), Kept, "joined", "/run/pinned/user", false},
		{"pinned userns with host-root mappings refused", []specs.LinuxNamespace{user("/run/pinned/user")}, maps(0), maps(0), nil, DefaultPolicy(), Refused, "", "", false},
		{"pinned userns without mappings refused", []specs.LinuxNamespace{user("/run/pinned/user")}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"pod container joins the sandbox userns", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/42/ns/net"}}, nil, nil, nil, DefaultPolicy(), Tightened, "pod", "/proc/42/ns/user", false},
		{"namespaces of two user namespaces refused", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/42/ns/net"}, {Type: specs.IPCNamespace, Path: "/proc/99/ns/ipc"}}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"unaddressable owner refused", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/netns/orphan"}}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"runc pod sandbox (host-owned) gets a private range", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/7/ns/net"}}, nil, nil, alloc, DefaultPolicy(), Tightened, "allocated", "-", true},
		{"host-owned ipc namespace refused", []specs.LinuxNamespace{{Type: specs.IPCNamespace, Path: "/proc/7/ns/ipc"}}, nil, nil, alloc, DefaultPolicy(), Refused, "", "", false},
		{"host-owned pid namespace with a pod's userns refused", []specs.LinuxNamespace{user("/proc/42/ns/user"), {Type: specs.PIDNamespace, Path: "/proc/7/ns/pid"}}, nil, nil, nil, DefaultPolicy(), Refused, "", "", false},
		{"host-owned ipc namespace in the host userns", []specs.LinuxNamespace{{Type: specs.IPCNamespace, Path: "/proc/7/ns/ipc"}}, nil, nil, nil, hostAllowed, Relaxed, "host", "", false},
		{"host userns allowed by profile", nil, nil, nil, nil, hostAllowed, Relaxed, "host", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Namespaces = tc.ns
			s.Linux.UIDMappings, s.Linux.GIDMappings = tc.uid, tc.gid
			s.Annotations = map[string]string{AnnotationUserNS: "forged"}
			facts := HostFacts{UserNS: UserNSFacts{Allocated: tc.alloc, Owners: owners}}
			if got := NeedsIDRange(s, tc.policy, facts); got != (tc.alloc != nil) && tc.want != Refused {
				t.Errorf("NeedsIDRange = %v", got)
			}
			out, d, plan, err := runRuleMode(t, checkUserNS, s, tc.policy, facts, "")
			key := ""
			if r, ok := err.(*Refusal); ok {
				key = r.Key
				// No key: what no profile can change (mappings yoroi cannot read).
				if key != "userns.allow_host" && key != "userns.min_host_id" && !(key == "" && tc.name == "pinned userns without mappings refused") {
					t.Errorf("refusal key %s", key)
				}
			}
			wantOutcome(t, d, err, tc.want, key)
			if tc.want == Refused {
				return
			}
			if string(plan.UserNS) != tc.mode {
				t.Errorf("user namespace %q, want %q", plan.UserNS, tc.mode)
			}
			var got *specs.LinuxNamespace
			for i := range out.Linux.Namespaces {
				if out.Linux.Namespaces[i].Type == specs.UserNamespace {
					got = &out.Linux.Namespaces[i]
				}
			}
			switch {
			case tc.wantUser == "" && got != nil:
				t.Errorf("unexpected user namespace %+v", got)
			case tc.wantUser == "-" && (got == nil || got.Path != ""):
				t.Errorf("want a new user namespace, got %+v", got)
			case tc.wantUser != "" && tc.wantUser != "-" && (got == nil || got.Path != tc.wantUser):
				t.Errorf("want user namespace %s, got %+v", tc.wantUser, got)
			}
			if tc.wantRange {
				if m := out.Linux.UIDMappings; len(m) != 1 || m[0].HostID != alloc.Start || m[0].Size != alloc.Size || m[0].ContainerID != 0 {
					t.Errorf("uid mappings %+v", m)
				}
				if plan.IDRange != alloc {
					t.Errorf("range %v", plan.IDRange)
				}
			}
		})
	}
}
