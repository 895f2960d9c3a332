package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
)

// Events writes runc-compatible JSON events for a container to w: with stats, one stats
// event and return; otherwise a stats event every interval and an event per OOM, until
// the container goes away.
func (r *Runtime) Events(id string, interval time.Duration, stats bool, w io.Writer) error {
	if interval <= 0 {
		return errors.New("duration interval must be greater than 0")
	}
	c, err := r.load(id)
	if err != nil {
		return err
	}
	status, err := c.Status()
	if err != nil {
		return err
	}
	if status == libcontainer.Stopped {
		return fmt.Errorf("container with id %s is not running", id)
	}
	enc := json.NewEncoder(w)
	emitStats := func() error {
		s, err := c.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(&types.Event{Type: "stats", ID: id, Data: convertStats(s)})
	}
	if stats {
		return emitStats()
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				return nil
			}
			if err := enc.Encode(&types.Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-tick.C:
			if err := emitStats(); err != nil {
				logrus.Error(err)
			}
		}
	}
}

func convertStats(ls *libcontainer.Stats) *types.Stats {
	cg := ls.CgroupStats
	if cg == nil {
		return nil
	}
	var s types.Stats
	s.Pids.Current = cg.PidsStats.Current
	s.Pids.Limit = cg.PidsStats.Limit
	s.CPU.Usage.Kernel = cg.CpuStats.CpuUsage.UsageInKernelmode
	s.CPU.Usage.User = cg.CpuStats.CpuUsage.UsageInUsermode
	s.CPU.Usage.Total = cg.CpuStats.CpuUsage.TotalUsage
	s.CPU.Usage.Percpu = cg.CpuStats.CpuUsage.PercpuUsage
	s.CPU.Usage.PercpuKernel = cg.CpuStats.CpuUsage.PercpuUsageInKernelmode
	s.CPU.Usage.PercpuUser = cg.CpuStats.CpuUsage.PercpuUsageInUsermode
	s.CPU.Throttling.Periods = cg.CpuStats.ThrottlingData.Periods
	s.CPU.Throttling.ThrottledPeriods = cg.CpuStats.ThrottlingData.ThrottledPeriods
	s.CPU.Throttling.ThrottledTime = cg.CpuStats.ThrottlingData.ThrottledTime
	s.CPU.PSI = cg.CpuStats.PSI
	s.CPUSet = types.CPUSet(cg.CPUSetStats)
	s.Memory.Cache = cg.MemoryStats.Cache
	s.Memory.Kernel = memoryEntry(cg.MemoryStats.KernelUsage)
	s.Memory.KernelTCP = memoryEntry(cg.MemoryStats.KernelTCPUsage)
	s.Memory.Swap = memoryEntry(cg.MemoryStats.SwapUsage)
	s.Memory.Usage = memoryEntry(cg.MemoryStats.Usage)
	s.Memory.Raw = cg.MemoryStats.Stats
	s.Memory.PSI = cg.MemoryStats.PSI
	b := cg.BlkioStats
	s.Blkio.IoServiceBytesRecursive = blkioEntries(b.IoServiceBytesRecursive)
	s.Blkio.IoServicedRecursive = blkioEntries(b.IoServicedRecursive)
	s.Blkio.IoQueuedRecursive = blkioEntries(b.IoQueuedRecursive)
	s.Blkio.IoServiceTimeRecursive = blkioEntries(b.IoServiceTimeRecursive)
	s.Blkio.IoWaitTimeRecursive = blkioEntries(b.IoWaitTimeRecursive)
	s.Blkio.IoMergedRecursive = blkioEntries(b.IoMergedRecursive)
	s.Blkio.IoTimeRecursive = blkioEntries(b.IoTimeRecursive)
	s.Blkio.SectorsRecursive = blkioEntries(b.SectorsRecursive)
	s.Blkio.PSI = b.PSI
	s.Hugetlb = make(map[string]types.Hugetlb, len(cg.HugetlbStats))
	for k, v := range cg.HugetlbStats {
		s.Hugetlb[k] = types.Hugetlb{Usage: v.Usage, Max: v.MaxUsage, Failcnt: v.Failcnt}
	}
	s.NetworkInterfaces = ls.Interfaces
	return &s
}

func memoryEntry(c cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: c.Limit, Usage: c.Usage, Max: c.MaxUsage, Failcnt: c.Failcnt}
}

func blkioEntries(c []cgroups.BlkioStatEntry) []types.BlkioEntry {
	out := make([]types.BlkioEntry, 0, len(c))
	for _, e := range c {
		out = append(out, types.BlkioEntry(e))
	}
	return out
}
