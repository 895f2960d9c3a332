package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckScratch(t *testing.T) {
	own := specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}}
	for _, tc := range []struct {
		name   string
		mounts []specs.Mount
		want   Outcome
		added  int
	}{
		{"adds /tmp and /run", nil, Tightened, 2},
		{"spec's own /tmp kept", []specs.Mount{own}, Tightened, 1},
		{"spec mounts both", []specs.Mount{own, {Destination: "/run/", Type: "tmpfs", Source: "tmpfs"}}, Kept, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Mounts = tc.mounts
			out, d, err := runRule(t, checkScratch, s, DefaultPolicy(), HostFacts{})
			wantOutcome(t, d, err, tc.want, "")
			added := out.Mounts[len(tc.mounts):]
			if len(added) != tc.added {
				t.Fatalf("added %v", added)
			}
			for _, m := range added {
				for _, o := range []string{"nosuid", "nodev", "noexec", "mode=1777", "size=67108864"} {
					if !slices.Contains(m.Options, o) || m.Type != "tmpfs" {
						t.Errorf("scratch %s: %s %v lacks %s", m.Destination, m.Type, m.Options, o)
					}
				}
			}
		})
	}
}

// The scratch tmpfs comes before the spec's mounts beneath it, so that it does not hide
// them; an image's symlink (/var/run -> /run) counts where the mount lands.
func TestScratchBeneathMounts(t *testing.T) {
	bind := func(dst string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: "/srv" + dst, Options: []string{"rbind"}}
	}
	facts := HostFacts{Destinations: map[string]string{
		"/var/run/secrets/kubernetes.io/serviceaccount": "/run/secrets/kubernetes.io/serviceaccount",
		"/var/run": "/run",
	}}
	for _, tc := range []struct {
		name   string
		mounts []specs.Mount
		want   []string // destinations in order
	}{
		{"no mount beneath: scratch last", []specs.Mount{bind("/data")}, []string{"/data", "/tmp", "/run"}},
		{"volume under /tmp", []specs.Mount{bind("/data"), bind("/tmp/vol")}, []string{"/data", "/tmp", "/tmp/vol", "/run"}},
		{"secret through /var/run", []specs.Mount{bind("/etc/hosts"), bind("/var/run/secrets/kubernetes.io/serviceaccount")},
			[]string{"/etc/hosts", "/run", "/var/run/secrets/kubernetes.io/serviceaccount", "/tmp"}},
		{"the spec mounts /var/run itself", []specs.Mount{{Destination: "/var/run", Type: "tmpfs", Source: "tmpfs"}}, []string{"/var/run", "/tmp"}},
		{"/tmpfoo is not beneath /tmp", []specs.Mount{bind("/tmpfoo")}, []string{"/tmpfoo", "/tmp", "/run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Mounts = tc.mounts
			out, _, err := runRule(t, checkScratch, s, DefaultPolicy(), facts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range out.Mounts {
				got = append(got, m.Destination)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("mounts %v, want %v", got, tc.want)
			}
		})
	}
}

// A scratch_copy path where the image has content starts with a copy of it (tmpcopyup);
// an empty or missing one does not pay for the copy, nor does a plain scratch path.
func TestScratchCopiesImageContent(t *testing.T) {
	p := DefaultPolicy()
	p.Rootfs.ScratchCopy = []string{"/var/lib/app", "/var/cache/app"}
	facts := HostFacts{Populated: map[string]bool{"/run": true, "/tmp": false, "/var/lib/app": true, "/var/cache/app": false}}
	out, _, err := runRule(t, checkScratch, minimalSpec(), p, facts)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Mounts) != 4 {
		t.Fatalf("mounts %v", out.Mounts)
	}
	for _, m := range out.Mounts {
		if got, want := slices.Contains(m.Options, "tmpcopyup"), m.Destination == "/var/lib/app"; got != want {
			t.Errorf("%s: tmpcopyup %v, want %v", m.Destination, got, want)
		}
	}
}
