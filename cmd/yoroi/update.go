package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/yoroi-runtime/yoroi/runtime"
)

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "update the resource limits of a container",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "file with OCI linux.resources JSON, '-' for stdin; other flags are then ignored"},
			&cli.IntFlag{Name: "blkio-weight", Usage: "block IO weight (10-1000)"},
			&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period (µs)"},
			&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota (µs)"},
			&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst (µs)"},
			&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares"},
			&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period (µs)"},
			&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime (µs)"},
			&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to use"},
			&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to use"},
			&cli.StringFlag{Name: "cpu-idle", Usage: "SCHED_IDLE for the cgroup (0 or 1)"},
			&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with a unit: 64m)"},
			&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
			&cli.StringFlag{Name: "memory-swap", Usage: "memory+swap limit; -1 for unlimited swap"},
			&cli.StringFlag{Name: "kernel-memory", Hidden: true},
			&cli.StringFlag{Name: "kernel-memory-tcp", Hidden: true},
			&cli.IntFlag{Name: "pids-limit", Usage: "maximum number of pids"},
			&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT/CAT L3 cache schema"},
			&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT/MBA memory bandwidth schema"},
		},
		Action: withRuntime(1, 1, func(c *cli.Context, rt *runtime.Runtime) error {
			res, err := updateResources(c)
			if err != nil {
				return err
			}
			return rt.Update(c.Args().First(), runtime.UpdateOptions{
				Resources:     *res,
				L3CacheSchema: c.String("l3-cache-schema"),
				MemBwSchema:   c.String("mem-bw-schema"),
			})
		}),
	}
}

// updateResources reads --resources, or else builds the resources from the flags.
func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	f := false
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{CheckBeforeUpdate: &f},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
	}
	if in := c.String("resources"); in != "" {
		return r, readResources(in, r)
	}
	return r, resourcesFromFlags(c, r)
}

// readResources decodes OCI linux.resources JSON from the file in ("-": stdin) into r.
func readResources(in string, r *specs.LinuxResources) error {
	var src io.Reader = os.Stdin
	if in != "-" {
		file, err := os.Open(in)
		if err != nil {
			return err
		}
		defer file.Close()
		src = file
	}
	if err := json.NewDecoder(src).Decode(r); err != nil {
		return fmt.Errorf("--resources: %w", err)
	}
	return nil
}

// resourcesFromFlags sets in r what the flags give.
func resourcesFromFlags(c *cli.Context, r *specs.LinuxResources) error {
	if v := c.Int("blkio-weight"); v != 0 {
		w := uint16(v)
		r.BlockIO.Weight = &w
	}
	r.CPU.Cpus = c.String("cpuset-cpus")
	r.CPU.Mems = c.String("cpuset-mems")
	if v := c.String("cpu-idle"); v != "" {
		idle, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid value for cpu-idle: %w", err)
		}
		r.CPU.Idle = &idle
	}
	for _, u := range []struct {
		flag string
		dest **uint64
	}{
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-period", &r.CPU.Period},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
		{"cpu-share", &r.CPU.Shares},
	} {
		if v := c.String(u.flag); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("invalid value for %s: %w", u.flag, err)
			}
			*u.dest = &n
		}
	}
	for _, s := range []struct {
		flag string
		dest **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
	} {
		if v := c.String(s.flag); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("invalid value for %s: %w", s.flag, err)
			}
			*s.dest = &n
		}
	}
	for _, m := range []struct {
		flag string
		dest **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-swap", &r.Memory.Swap},
		{"kernel-memory", &r.Memory.Kernel}, //nolint:staticcheck // accepted and warned about.
		{"kernel-memory-tcp", &r.Memory.KernelTCP},
		{"memory-reservation", &r.Memory.Reservation},
	} {
		if v := c.String(m.flag); v != "" {
			n := int64(-1)
			if v != "-1" {
				var err error
				if n, err = units.RAMInBytes(v); err != nil {
					return fmt.Errorf("invalid value for %s: %w", m.flag, err)
				}
			}
			*m.dest = &n
		}
	}
	if c.IsSet("pids-limit") {
		n := int64(c.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	return nil
}
