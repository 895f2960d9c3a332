package runtime

import (
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// applyNetSysctls sets the net.* sysctls the policy moved out of the spec (the plan's
// NetSysctls) from the host, in the network namespace the container joins: its own root
// cannot write them there.
func applyNetSysctls(spec *specs.Spec, sysctls map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	nsPath := ""
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			nsPath = ns.Path
		}
	}
	if nsPath == "" {
		return fmt.Errorf("net.* sysctls to set from the host without a network namespace path")
	}
	return inNetns(nsPath, func() error {
		for k, v := range sysctls {
			p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("sysctl %s: %w", k, err)
			}
			_, err = f.WriteString(v)
			f.Close()
			if err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
			}
		}
		return nil
	})
}

// inNetns runs f on a locked OS thread moved into the network namespace at path; the
// thread returns to its own namespace afterwards (or dies with its goroutine).
func inNetns(path string, f func() error) error {
	lockThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		unlockThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open(path)
	if err != nil {
		unlockThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		unlockThread()
		return fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: Go destroys it with the goroutine.
		return fmt.Errorf("leave network namespace %s: %w", path, err)
	}
	unlockThread()
	return ferr
}
