package hardening

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckDevices(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	fuse := DefaultPolicy()
	fuse.Devices.Allow = []string{"/dev/fuse"}
	loop := DefaultPolicy()
	loop.Devices.Allow = []string{"/dev/loop0"}
	loop0 := []specs.LinuxDevice{{Path: "/dev/loop0", Type: "b", Major: 7, Minor: 0}}
	for _, tc := range []struct {
		name    string
		devices []specs.LinuxDevice
		rules   []specs.LinuxDeviceCgroup
		policy  *Policy
		want    Outcome
		nRules  int
	}{
		{"defaults only", []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}}, []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}}, DefaultPolicy(), Kept, 2},
		{"host disk refused", []specs.LinuxDevice{{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0}}, nil, DefaultPolicy(), Refused, 0},
		{"fake /dev/null refused", []specs.LinuxDevice{{Path: "/dev/null", Type: "b", Major: 8, Minor: 0}}, nil, DefaultPolicy(), Refused, 0},
		{"fuse allowed by profile", []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}, []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "c", Major: i(10), Minor: i(229), Access: "rwm"}}, fuse, Kept, 2},
		{"block device allowed by profile keeps its rule", loop0, []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "b", Major: i(7), Minor: i(0), Access: "rwm"}}, loop, Kept, 2},
		{"its numbers as a character device removed", loop0, []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "c", Major: i(7), Minor: i(0), Access: "rwm"}}, loop, Tightened, 1},
		{"another block device's rule removed", loop0, []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "b", Major: i(8), Minor: i(0), Access: "rwm"}}, loop, Tightened, 1},
		{"mknod wildcards and tun removed", nil, []specs.LinuxDeviceCgroup{denyAll,
			{Allow: true, Type: "c", Access: "m"}, {Allow: true, Type: "b", Access: "m"},
			{Allow: true, Type: "c", Major: i(10), Minor: i(200), Access: "rwm"},
			{Allow: true, Type: "c", Major: i(136), Access: "rwm"}}, DefaultPolicy(), Tightened, 2},
		{"missing deny-all added", nil, []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}}, DefaultPolicy(), Tightened, 2},
		{"no rules gets deny-all", nil, nil, DefaultPolicy(), Tightened, 1},
		{"a first deny of mknod alone is not deny-all", nil, []specs.LinuxDeviceCgroup{{Allow: false, Access: "m"}, {Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}}, DefaultPolicy(), Tightened, 3},
		{"deny-all spelled in another order", nil, []specs.LinuxDeviceCgroup{{Allow: false, Type: "a", Access: "mwr"}}, DefaultPolicy(), Kept, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.Devices = tc.devices
			s.Linux.Resources = &specs.LinuxResources{Devices: tc.rules}
			out, d, err := runRule(t, checkDevices, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, "devices.allow")
			if tc.want == Refused {
				return
			}
			if got := out.Linux.Resources.Devices; len(got) != tc.nRules || !isDenyAll(got[0]) {
				t.Errorf("device rules %+v", got)
			}
		})
	}
}
