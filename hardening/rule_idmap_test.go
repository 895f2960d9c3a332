package hardening

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckIdmap(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000000000, Size: 65536}}
	vol := specs.Mount{Destination: "/data", Source: "/srv/data", Type: "bind", Options: []string{"rbind", "ro"}}
	own := specs.Mount{Destination: "/own", Source: "/srv/own", Type: "bind", UIDMappings: []specs.LinuxIDMapping{{HostID: 5, Size: 1}}}
	for _, tc := range []struct {
		name    string
		mode    string
		fs      RootfsFacts
		want    Outcome
		kind    string
		volOpts string // "mappings", "idmap" or "" for the plain volume
	}{
		{"ext4 dir", "allocated", RootfsFacts{FSType: "ext4"}, Tightened, "bind", "mappings"},
		{"tmpfs dir", "allocated", RootfsFacts{FSType: "tmpfs"}, Tightened, "bind", "mappings"},
		{"overlay mount (docker, containerd)", "allocated", RootfsFacts{FSType: "overlay", OverlayMount: true}, Tightened, "overlay", "mappings"},
		{"directory inside an overlay refused", "allocated", RootfsFacts{FSType: "overlay"}, Refused, "", ""},
		{"nfs refused", "allocated", RootfsFacts{FSType: "nfs"}, Refused, "", ""},
		{"tmpfs the kernel cannot id-map refused", "allocated", RootfsFacts{FSType: "tmpfs", NoIdmap: true}, Refused, "", ""},
		{"pod container uses the joined mapping", "pod", RootfsFacts{FSType: "ext4"}, Tightened, "bind", "idmap"},
		{"caller's userns left alone", "caller", RootfsFacts{FSType: "nfs"}, Kept, "", ""},
		{"joined userns left alone", "joined", RootfsFacts{FSType: "ext4"}, Kept, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
			s.Mounts = []specs.Mount{vol, own, {Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}}
			out, d, plan, err := runRuleMode(t, checkIdmap, s, DefaultPolicy(), HostFacts{Rootfs: tc.fs}, UserNSMode(tc.mode))
			wantOutcome(t, d, err, tc.want, "userns.idmap_filesystems")
			if tc.want == Refused {
				return
			}
			if got := string(plan.RootfsIdmap); got != tc.kind {
				t.Errorf("rootfs idmap %q, want %q", got, tc.kind)
			}
			v := out.Mounts[0]
			switch tc.volOpts {
			case "mappings":
				if !slices.Equal(v.UIDMappings, m) || !slices.Equal(v.GIDMappings, m) {
					t.Errorf("volume mappings %+v", v)
				}
			case "idmap":
				if !slices.Contains(v.Options, "idmap") || v.UIDMappings != nil {
					t.Errorf("volume %+v", v)
				}
			default:
				if v.UIDMappings != nil || slices.Contains(v.Options, "idmap") {
					t.Errorf("volume changed: %+v", v)
				}
			}
			if !slices.Equal(out.Mounts[1].UIDMappings, own.UIDMappings) || out.Mounts[2].UIDMappings != nil {
				t.Errorf("explicit mappings or tmpfs changed: %+v", out.Mounts)
			}
		})
	}
}

func TestIdmapOverlayIsReadOnly(t *testing.T) {
	s := minimalSpec()
	s.Root.Readonly = false
	out, d, _, err := runRuleMode(t, checkIdmap, s, DefaultPolicy(), HostFacts{Rootfs: RootfsFacts{FSType: "overlay", OverlayMount: true}}, UserNSMode("allocated"))
	wantOutcome(t, d, err, Tightened, "")
	if !out.Root.Readonly || len(d) != 2 || d[0].Detail != "the rebuilt overlay root is read-only" {
		t.Errorf("readonly %v, decisions %+v", out.Root.Readonly, d)
	}
}

// Volumes by what they are on: an overlay mount (containerd's image volumes) is rebuilt
// by the runtime, read-only; a volume on a filesystem that cannot be id-mapped, or a
// directory inside an overlay, is refused with one line naming it.
func TestCheckIdmapVolumes(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000000000, Size: 65536}}
	for _, tc := range []struct {
		name   string
		source SourceFacts
		want   Outcome
		detail string
	}{
		{"ext4 volume", SourceFacts{Type: "directory", FSType: "ext4"}, Tightened, ""},
		{"overlay mount: read-only", SourceFacts{Type: "directory", FSType: "overlay", OverlayMount: true}, Tightened, ""},
		{"inside an overlay", SourceFacts{Type: "directory", FSType: "overlay"}, Refused, "the volume at /img (/srv/img) is on overlay"},
		{"nfs", SourceFacts{Type: "directory", FSType: "nfs"}, Refused, "the volume at /img (/srv/img) is on nfs, which cannot be id-mapped"},
		{"tmpfs before Linux 6.3", SourceFacts{Type: "file", FSType: "tmpfs", NoIdmap: true}, Refused, "the volume at /img (/srv/img) is on tmpfs, which this kernel cannot id-map (tmpfs can be from Linux 6.3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
			s.Mounts = []specs.Mount{{Destination: "/img", Source: "/srv/img", Type: "bind", Options: []string{"rbind"}}}
			out, d, _, err := runRuleMode(t, checkIdmap, s, DefaultPolicy(), HostFacts{Rootfs: RootfsFacts{FSType: "ext4"}, Sources: map[string]SourceFacts{"/srv/img": tc.source}}, UserNSMode("allocated"))
			wantOutcome(t, d, err, tc.want, "userns.idmap_filesystems")
			if tc.want == Refused {
				if !strings.Contains(err.Error(), tc.detail) {
					t.Errorf("refusal %q does not say %q", err, tc.detail)
				}
				return
			}
			if ro := slices.Contains(out.Mounts[0].Options, "ro"); ro != tc.source.OverlayMount {
				t.Errorf("options %v", out.Mounts[0].Options)
			}
		})
	}
}

// A bind of a path inside the container's own root filesystem (runc's mount-order test
// binds an earlier mount's content) is id-mapped with the tree: yoroi adds no mapping and
// drops the spec's idmap, which would ask to id-map an id-mapped mount again (EPERM).
func TestCheckIdmapOwnTree(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000000000, Size: 65536}}
	s := minimalSpec()
	s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
	s.Mounts = []specs.Mount{
		{Destination: "/final", Source: "/b/rootfs/mnt", Type: "bind", Options: []string{"rbind", "idmap"}},
		{Destination: "/img", Source: "/srv/img", Type: "bind", Options: []string{"rbind"}},
	}
	facts := HostFacts{Rootfs: RootfsFacts{FSType: "ext4", RealPath: "/b/rootfs"}, Sources: map[string]SourceFacts{"/srv/img": {Type: "directory", FSType: "ext4"}}}
	out, d, _, err := runRuleMode(t, checkIdmap, s, DefaultPolicy(), facts, UserNSMode("allocated"))
	wantOutcome(t, d, err, Tightened, "")
	if own := out.Mounts[0]; len(own.UIDMappings) > 0 || slices.Contains(own.Options, "idmap") {
		t.Errorf("own tree: %+v", own)
	}
	if vol := out.Mounts[1]; len(vol.UIDMappings) == 0 {
		t.Errorf("volume not id-mapped: %+v", vol)
	}
}

func TestCheckIdmapOwnTreeOwnMapping(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000000000, Size: 65536}}
	s := minimalSpec()
	s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
	s.Mounts = []specs.Mount{{Destination: "/final", Source: "/b/rootfs/mnt", Type: "bind", Options: []string{"rbind", "idmap"},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}}, GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}}}}
	_, d, _, err := runRuleMode(t, checkIdmap, s, DefaultPolicy(), HostFacts{Rootfs: RootfsFacts{FSType: "ext4", RealPath: "/b/rootfs"}}, UserNSMode("allocated"))
	wantOutcome(t, d, err, Refused, "userns.allow_host")
}
