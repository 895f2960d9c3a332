package runtime

import (
	"errors"
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// UpdateOptions are the new resource limits of a container (runc update semantics: what
// is unset stays as it is).
type UpdateOptions struct {
	Resources     specs.LinuxResources
	L3CacheSchema string
	MemBwSchema   string
}

// Update changes the cgroup limits of a running or created container.
func (r *Runtime) Update(id string, o UpdateOptions) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	_, annotations := utils.Annotations(c.Config().Labels)
	policy, err := r.policyFor(annotations)
	if err != nil {
		return err
	}
	if err := hardening.CheckUpdate(&o.Resources, policy); err != nil {
		r.auditBestEffort(auditEvent{Event: "refusal", ID: id, Profile: policy.Name, Detail: "update", Error: err.Error()})
		return err
	}
	config := c.Config()
	res := config.Cgroups.Resources
	in := o.Resources
	if in.Memory == nil {
		in.Memory = &specs.LinuxMemory{}
	}
	if in.CPU == nil {
		in.CPU = &specs.LinuxCPU{}
	}
	if in.BlockIO == nil {
		in.BlockIO = &specs.LinuxBlockIO{}
	}
	if in.Memory.Limit != nil && *in.Memory.Limit == -1 && in.Memory.Swap == nil {
		// Unlimited memory implies unlimited swap.
		zero := int64(0)
		in.Memory.Swap = &zero
	}
	if in.CPU.Idle != nil && in.CPU.Shares == nil {
		zero := uint64(0)
		in.CPU.Shares = &zero
	}
	if in.Memory.Kernel != nil || in.Memory.KernelTCP != nil { //nolint:staticcheck // deprecated, warned about.
		logrus.Warn("kernel memory settings are ignored and will be removed")
	}
	if w := in.BlockIO.Weight; w != nil {
		res.BlkioWeight = *w
	}
	if w := in.BlockIO.LeafWeight; w != nil {
		res.BlkioLeafWeight = *w
	}
	for _, wd := range in.BlockIO.WeightDevice {
		res.BlkioWeightDevice = upsertWeightDevice(res.BlkioWeightDevice, wd)
	}
	for _, td := range in.BlockIO.ThrottleReadBpsDevice {
		res.BlkioThrottleReadBpsDevice = upsertThrottleDevice(res.BlkioThrottleReadBpsDevice, td)
	}
	for _, td := range in.BlockIO.ThrottleWriteBpsDevice {
		res.BlkioThrottleWriteBpsDevice = upsertThrottleDevice(res.BlkioThrottleWriteBpsDevice, td)
	}
	for _, td := range in.BlockIO.ThrottleReadIOPSDevice {
		res.BlkioThrottleReadIOPSDevice = upsertThrottleDevice(res.BlkioThrottleReadIOPSDevice, td)
	}
	for _, td := range in.BlockIO.ThrottleWriteIOPSDevice {
		res.BlkioThrottleWriteIOPSDevice = upsertThrottleDevice(res.BlkioThrottleWriteIOPSDevice, td)
	}
	// CPU period and quota are set together when both are given or both zero,
	// otherwise only the one that was given changes.
	var p uint64
	var q int64
	if in.CPU.Period != nil {
		p = *in.CPU.Period
	}
	if in.CPU.Quota != nil {
		q = *in.CPU.Quota
	}
	switch {
	case (p == 0) == (q == 0):
		res.CpuPeriod, res.CpuQuota = p, q
	case p != 0:
		res.CpuPeriod = p
	default:
		res.CpuQuota = q
	}
	res.CpuBurst = in.CPU.Burst
	if in.CPU.Shares != nil {
		res.CpuShares = *in.CPU.Shares
		res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*in.CPU.Shares)
	}
	if in.CPU.RealtimePeriod != nil {
		res.CpuRtPeriod = *in.CPU.RealtimePeriod
	}
	if in.CPU.RealtimeRuntime != nil {
		res.CpuRtRuntime = *in.CPU.RealtimeRuntime
	}
	res.CpusetCpus = in.CPU.Cpus
	res.CpusetMems = in.CPU.Mems
	res.CPUIdle = in.CPU.Idle
	if in.Memory.Limit != nil {
		res.Memory = *in.Memory.Limit
	}
	if in.Memory.Reservation != nil {
		res.MemoryReservation = *in.Memory.Reservation
	}
	if in.Memory.Swap != nil {
		res.MemorySwap = *in.Memory.Swap
	}
	if in.Memory.CheckBeforeUpdate != nil {
		res.MemoryCheckBeforeUpdate = *in.Memory.CheckBeforeUpdate
	}
	if in.Pids != nil {
		res.PidsLimit = in.Pids.Limit
	}
	res.Unified = in.Unified

	if o.L3CacheSchema != "" && !intelrdt.IsCATEnabled() {
		return errors.New("Intel RDT/CAT: l3 cache schema is not enabled")
	}
	if o.MemBwSchema != "" && !intelrdt.IsMBAEnabled() {
		return errors.New("Intel RDT/MBA: memory bandwidth schema is not enabled")
	}
	if o.L3CacheSchema != "" || o.MemBwSchema != "" {
		if config.IntelRdt == nil {
			return errors.New("updating a non-existent Intel RDT configuration is not supported")
		}
		if o.L3CacheSchema != "" {
			config.IntelRdt.L3CacheSchema = o.L3CacheSchema
		}
		if o.MemBwSchema != "" {
			config.IntelRdt.MemBwSchema = o.MemBwSchema
		}
	}
	// Device rules are never changed by update.
	config.Cgroups.SkipDevices = true
	if err := c.Set(config); err != nil {
		return err
	}
	r.auditBestEffort(auditEvent{Event: "update", ID: id, Profile: policy.Name})
	return nil
}

func upsertWeightDevice(devices []*cgroups.WeightDevice, wd specs.LinuxWeightDevice) []*cgroups.WeightDevice {
	for i, dev := range slices.Backward(devices) {
		if dev.Major != wd.Major || dev.Minor != wd.Minor {
			continue
		}
		if wd.Weight != nil {
			devices[i].Weight = *wd.Weight
		}
		if wd.LeafWeight != nil {
			devices[i].LeafWeight = *wd.LeafWeight
		}
		return devices
	}
	var weight, leaf uint16
	if wd.Weight != nil {
		weight = *wd.Weight
	}
	if wd.LeafWeight != nil {
		leaf = *wd.LeafWeight
	}
	return append(devices, cgroups.NewWeightDevice(wd.Major, wd.Minor, weight, leaf))
}

func upsertThrottleDevice(devices []*cgroups.ThrottleDevice, td specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	for i, dev := range slices.Backward(devices) {
		if dev.Major == td.Major && dev.Minor == td.Minor {
			devices[i].Rate = td.Rate
			return devices
		}
	}
	return append(devices, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
}
