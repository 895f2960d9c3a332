package runtime

import (
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// update changes what it is given and keeps the rest, as runc update does.
func TestMergeResources(t *testing.T) {
	u64 := func(v uint64) *uint64 { return &v }
	i64 := func(v int64) *int64 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	base := func() *cgroups.Resources {
		return &cgroups.Resources{Memory: 100, MemorySwap: 200, CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 1024, PidsLimit: i64(10),
			BlkioThrottleReadBpsDevice: []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 100)}}
	}
	for _, tc := range []struct {
		name  string
		in    specs.LinuxResources
		check func(r *cgroups.Resources) bool
	}{
		// Zero period and quota leave the cgroup's as they are when libcontainer writes.
		{"nothing given, nothing changed", specs.LinuxResources{}, func(r *cgroups.Resources) bool {
			return r.Memory == 100 && r.CpuQuota == 0 && r.CpuPeriod == 0 && *r.PidsLimit == 10
		}},
		{"unlimited memory implies unlimited swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}}, func(r *cgroups.Resources) bool {
			return r.Memory == -1 && r.MemorySwap == 0
		}},
		{"quota alone keeps the period", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(20000)}}, func(r *cgroups.Resources) bool {
			return r.CpuQuota == 20000 && r.CpuPeriod == 100000
		}},
		{"period and quota together", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(1000), Period: u64(10000)}}, func(r *cgroups.Resources) bool {
			return r.CpuQuota == 1000 && r.CpuPeriod == 10000
		}},
		{"shares give the v2 weight", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(2)}}, func(r *cgroups.Resources) bool {
			return r.CpuShares == 2 && r.CpuWeight == 1
		}},
		{"idle resets shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i64(1)}}, func(r *cgroups.Resources) bool {
			return r.CpuShares == 0 && r.CPUIdle != nil && *r.CPUIdle == 1
		}},
		{"a throttled device is replaced, others added", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{Rate: 5, LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}}, {Rate: 7, LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}}},
			Weight:                u16(300),
		}}, func(r *cgroups.Resources) bool {
			d := r.BlkioThrottleReadBpsDevice
			return len(d) == 2 && d[0].Rate == 5 && d[1].Minor == 16 && r.BlkioWeight == 300
		}},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(20)}}, func(r *cgroups.Resources) bool { return *r.PidsLimit == 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			mergeResources(r, tc.in)
			if !tc.check(r) {
				t.Errorf("%+v", r)
			}
		})
	}
}
