package runtime

import (
	"fmt"
	"maps"

	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	runcfeatures "github.com/opencontainers/runc/types/features"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// AnnotationVersion is yoroi's own version in `features`.
const AnnotationVersion = "org.yoroi.version"

// Features describes what this build of yoroi supports, in the OCI features format
// (runtime-spec features.md), which containerd and CRI-O read, and, under org.yoroi.*
// annotations, the hardening in force here: what the configuration's default policy
// enforces with this host's security modules.
func (r *Runtime) Features(version string) (*features.Features, error) {
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	f := buildFeatures(version)
	maps.Copy(f.Annotations, hardening.FeatureAnnotations(cfg, macFacts()))
	return f, nil
}

func buildFeatures(version string) *features.Features {
	t := true
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Annotations: map[string]string{
			AnnotationVersion: version,
			// The libcontainer underneath, for tools that key off runc's annotations.
			runcfeatures.AnnotationRuncVersion:           libcontainerVersion(),
			runcfeatures.AnnotationRuncCheckpointEnabled: "false",
		},
		Hooks:        configs.KnownHookNames(),
		MountOptions: specconv.KnownMountOptions(),
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: capabilities.KnownCapabilities(),
			Cgroup: &features.Cgroup{
				V1:          &t,
				V2:          &t,
				Systemd:     &t,
				SystemdUser: &t,
				Rdma:        &t,
			},
			Apparmor: &features.Apparmor{Enabled: &t},
			Selinux:  &features.Selinux{Enabled: &t},
			IntelRdt: &features.IntelRdt{Enabled: &t, Schemata: &t, Monitoring: &t},
			MemoryPolicy: &features.MemoryPolicy{
				Modes: specconv.KnownMemoryPolicyModes(),
				Flags: specconv.KnownMemoryPolicyFlags(),
			},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}},
			NetDevices:      &features.NetDevices{Enabled: &t},
		},
		PotentiallyUnsafeConfigAnnotations: []string{
			"bundle",
			"org.systemd.property.",
			"org.criu.config",
		},
	}
	if seccomp.Enabled {
		f.Linux.Seccomp = &features.Seccomp{
			Enabled:        &t,
			Actions:        seccomp.KnownActions(),
			Operators:      seccomp.KnownOperators(),
			Archs:          seccomp.KnownArchs(),
			KnownFlags:     seccomp.KnownFlags(),
			SupportedFlags: seccomp.SupportedFlags(),
		}
		major, minor, patch := seccomp.Version()
		f.Annotations[runcfeatures.AnnotationLibseccompVersion] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
	}
	return f
}
