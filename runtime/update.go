package runtime

import (
	"errors"
	"github.com/opencontainers/runc/libcontainer/configs"
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/audit"
)

// UpdateOptions are the new resource limits of a container (runc update semantics: what
// is unset stays as it is).
type UpdateOptions struct {
	Resources     specs.LinuxResources
	L3CacheSchema string
	MemBwSchema   string
}

// Update changes the cgroup limits of a running or created container, under the policy
// it was created with (an update cannot lift the pids limit above the policy's).
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
		r.auditBestEffort(audit.Event{Event: "refusal", ID: id, Profile: policy.Name, Detail: "update", Error: err.Error()})
		return err
	}
	config := c.Config()
	mergeResources(config.Cgroups.Resources, o.Resources)
	if err := updateIntelRdt(&config, o.L3CacheSchema, o.MemBwSchema); err != nil {
		return err
	}
	// Device rules are never changed by update.
	config.Cgroups.SkipDevices = true
	if err := c.Set(config); err != nil {
		return err
	}
	r.auditBestEffort(audit.Event{Event: "update", ID: id, Profile: policy.Name})
	return nil
}

// mergeResources sets in res what in gives and keeps the rest (runc update's semantics),
// one controller after the other.
func mergeResources(res *cgroups.Resources, in specs.LinuxResources) {
	if in.Memory == nil {
		in.Memory = &specs.LinuxMemory{}
	}
	if in.CPU == nil {
		in.CPU = &specs.LinuxCPU{}
	}
	if in.BlockIO == nil {
		in.BlockIO = &specs.LinuxBlockIO{}
	}
	mergeBlockIO(res, in.BlockIO)
	mergeCPU(res, in.CPU)
	mergeMemory(res, in.Memory)
	if in.Pids != nil {
		res.PidsLimit = in.Pids.Limit
	}
	res.Unified = in.Unified
}

func mergeBlockIO(res *cgroups.Resources, in *specs.LinuxBlockIO) {
	if w := in.Weight; w != nil {
		res.BlkioWeight = *w
	}
	if w := in.LeafWeight; w != nil {
		res.BlkioLeafWeight = *w
	}
	for _, wd := range in.WeightDevice {
		res.BlkioWeightDevice = upsertWeightDevice(res.BlkioWeightDevice, wd)
	}
	for _, t := range []struct {
		dst *[]*cgroups.ThrottleDevice
		src []specs.LinuxThrottleDevice
	}{
		{&res.BlkioThrottleReadBpsDevice, in.ThrottleReadBpsDevice},
		{&res.BlkioThrottleWriteBpsDevice, in.ThrottleWriteBpsDevice},
		{&res.BlkioThrottleReadIOPSDevice, in.ThrottleReadIOPSDevice},
		{&res.BlkioThrottleWriteIOPSDevice, in.ThrottleWriteIOPSDevice},
	} {
		for _, td := range t.src {
			*t.dst = upsertThrottleDevice(*t.dst, td)
		}
	}
}

func mergeCPU(res *cgroups.Resources, in *specs.LinuxCPU) {
	if in.Idle != nil && in.Shares == nil {
		zero := uint64(0)
		in.Shares = &zero
	}
	// CPU period and quota are set together when both are given or both zero,
	// otherwise only the one that was given changes.
	var p uint64
	var q int64
	if in.Period != nil {
		p = *in.Period
	}
	if in.Quota != nil {
		q = *in.Quota
	}
	switch {
	case (p == 0) == (q == 0):
		res.CpuPeriod, res.CpuQuota = p, q
	case p != 0:
		res.CpuPeriod = p
	default:
		res.CpuQuota = q
	}
	res.CpuBurst = in.Burst
	if in.Shares != nil {
		res.CpuShares = *in.Shares
		res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*in.Shares)
	}
	if in.RealtimePeriod != nil {
		res.CpuRtPeriod = *in.RealtimePeriod
	}
	if in.RealtimeRuntime != nil {
		res.CpuRtRuntime = *in.RealtimeRuntime
	}
	res.CpusetCpus = in.Cpus
	res.CpusetMems = in.Mems
	res.CPUIdle = in.Idle
}

func mergeMemory(res *cgroups.Resources, in *specs.LinuxMemory) {
	if in.Limit != nil && *in.Limit == -1 && in.Swap == nil {
		// Unlimited memory implies unlimited swap.
		zero := int64(0)
		in.Swap = &zero
	}
	if in.Kernel != nil || in.KernelTCP != nil { //nolint:staticcheck // deprecated, warned about.
		logrus.Warn("kernel memory settings are ignored and will be removed")
	}
	if in.Limit != nil {
		res.Memory = *in.Limit
	}
	if in.Reservation != nil {
		res.MemoryReservation = *in.Reservation
	}
	if in.Swap != nil {
		res.MemorySwap = *in.Swap
	}
	if in.CheckBeforeUpdate != nil {
		res.MemoryCheckBeforeUpdate = *in.CheckBeforeUpdate
	}
}

// updateIntelRdt changes the Intel RDT schemata given, where the host and the container
// have RDT.
func updateIntelRdt(config *configs.Config, l3, memBw string) error {
	if l3 != "" && !intelrdt.IsCATEnabled() {
		return errors.New("Intel RDT/CAT: l3 cache schema is not enabled")
	}
	if memBw != "" && !intelrdt.IsMBAEnabled() {
		return errors.New("Intel RDT/MBA: memory bandwidth schema is not enabled")
	}
	if l3 == "" && memBw == "" {
		return nil
	}
	if config.IntelRdt == nil {
		return errors.New("updating a non-existent Intel RDT configuration is not supported")
	}
	if l3 != "" {
		config.IntelRdt.L3CacheSchema = l3
	}
	if memBw != "" {
		config.IntelRdt.MemBwSchema = memBw
	}
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
