package hardening

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckMAC(t *testing.T) {
	noLandlock := DefaultPolicy()
	noLandlock.MAC.Accept = []string{"apparmor", "selinux"}
	abi9 := DefaultPolicy()
	abi9.MAC.LandlockMinABI = 9
	for _, tc := range []struct {
		name   string
		facts  MACFacts
		policy *Policy
		want   Outcome
		msg    string
	}{
		{"landlock", MACFacts{LandlockABI: 7}, DefaultPolicy(), Kept, "landlock"},
		{"apparmor", MACFacts{AppArmorEnabled: true}, DefaultPolicy(), Kept, "apparmor"},
		{"selinux enforcing", MACFacts{SELinuxEnabled: true, SELinuxEnforcing: true}, DefaultPolicy(), Kept, "selinux"},
		{"nothing", MACFacts{}, DefaultPolicy(), Refused, "no Landlock"},
		{"selinux permissive does not count", MACFacts{SELinuxEnabled: true}, DefaultPolicy(), Refused, "SELinux permissive"},
		{"landlock not accepted", MACFacts{LandlockABI: 7, LSMs: []string{"lockdown", "capability", "landlock"}}, noLandlock, Refused, "accepted: apparmor, selinux; found: LSMs lockdown,capability,landlock"},
		{"landlock ABI below the minimum", MACFacts{LandlockABI: 7}, abi9, Refused, "Landlock ABI 7"},
		{"layered", MACFacts{AppArmorEnabled: true, LandlockABI: 3}, DefaultPolicy(), Kept, "apparmor + landlock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, d, err := runRule(t, checkMAC, minimalSpec(), tc.policy, HostFacts{MAC: tc.facts})
			wantOutcome(t, d, err, tc.want, "mac.accept")
			if !strings.Contains(d[len(d)-1].Detail, tc.msg) {
				t.Errorf("detail %q lacks %q", d[len(d)-1].Detail, tc.msg)
			}
		})
	}
}

func TestCheckAppArmor(t *testing.T) {
	aa := MACFacts{AppArmorEnabled: true, AppArmorProfiles: []string{"docker-default", "yoroi-default"}}
	for _, tc := range []struct {
		name, profile string
		facts         MACFacts
		want          Outcome
		after         string // the profile, or the refusal's config key
	}{
		{"default applied", "", aa, Tightened, "yoroi-default"},
		{"loaded profile kept", "docker-default", aa, Kept, "docker-default"},
		{"unconfined refused", "unconfined", aa, Refused, "mac.accept"},
		{"unloaded profile refused", "my-profile", aa, Refused, "mac.apparmor_profile"},
		{"apparmor off: nothing to do", "", MACFacts{LandlockABI: 7}, Kept, ""},
		{"apparmor off: a named profile cannot be honoured", "docker-default", MACFacts{LandlockABI: 7}, Refused, "mac.accept"},
		{"apparmor off: unconfined is moot", "unconfined", MACFacts{LandlockABI: 7}, Tightened, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Process.ApparmorProfile = tc.profile
			out, d, err := runRule(t, checkAppArmor, s, DefaultPolicy(), HostFacts{MAC: tc.facts})
			wantOutcome(t, d, err, tc.want, tc.after)
			if tc.want != Refused && out.Process.ApparmorProfile != tc.after {
				t.Errorf("profile %q, want %q", out.Process.ApparmorProfile, tc.after)
			}
		})
	}
}

func TestCheckSELinux(t *testing.T) {
	se := MACFacts{SELinuxEnabled: true, SELinuxEnforcing: true, MCS: "c12,c345"}
	for _, tc := range []struct {
		name, label string
		facts       MACFacts
		want        Outcome
		after       string // the label, or the refusal's config key
	}{
		{"default container_t with the container's categories", "", se, Tightened, "system_u:system_r:container_t:s0:c12,c345"},
		{"confined label kept", "system_u:system_r:container_t:s0:c1,c2", se, Kept, "system_u:system_r:container_t:s0:c1,c2"},
		{"spc_t refused", "system_u:system_r:spc_t:s0", se, Refused, "mac.selinux_type"},
		{"unconfined_t refused", "unconfined_u:unconfined_r:unconfined_t:s0", se, Refused, "mac.selinux_type"},
		{"malformed refused", "container_t", se, Refused, "mac.selinux_type"},
		// Debian's policy has no container_t: a clear refusal, not libcontainer's EINVAL.
		{"default type not in the policy", "", MACFacts{SELinuxEnabled: true, SELinuxEnforcing: true, MCS: "c1,c2", SELinuxUndefined: []string{"container_t"}}, Refused, "mac.selinux_type"},
		{"label's type not in the policy", "system_u:system_r:svirt_lxc_net_t:s0:c1,c2", MACFacts{SELinuxEnabled: true, SELinuxEnforcing: true, MCS: "c1,c2", SELinuxUndefined: []string{"svirt_lxc_net_t"}}, Refused, "mac.selinux_type"},
		{"permissive: not in force", "", MACFacts{SELinuxEnabled: true, LandlockABI: 7}, Kept, ""},
		{"disabled: a label cannot be honoured", "system_u:system_r:container_t:s0", MACFacts{LandlockABI: 7}, Refused, "mac.accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Process.SelinuxLabel = tc.label
			out, d, err := runRule(t, checkSELinux, s, DefaultPolicy(), HostFacts{MAC: tc.facts})
			wantOutcome(t, d, err, tc.want, tc.after)
			if tc.want == Refused {
				return
			}
			if out.Process.SelinuxLabel != tc.after {
				t.Errorf("label %q, want %q", out.Process.SelinuxLabel, tc.after)
			}
			if tc.want == Tightened && out.Linux.MountLabel != "system_u:object_r:container_file_t:s0:c12,c345" {
				t.Errorf("mount label %q", out.Linux.MountLabel)
			}
		})
	}
}

func TestCheckLandlock(t *testing.T) {
	s := minimalSpec()
	s.Process.Args = []string{"nginx", "-g", "daemon off;"}
	out, d, err := runRule(t, checkLandlock, s, DefaultPolicy(), HostFacts{MAC: MACFacts{LandlockABI: 7}})
	wantOutcome(t, d, err, Tightened, "")
	want := []string{LandlockExe, LandlockArg, "abi=1", "--", "nginx", "-g", "daemon off;"}
	if strings.Join(out.Process.Args, "|") != strings.Join(want, "|") {
		t.Errorf("args %q", out.Process.Args)
	}
	// A spec that imitates the launcher is refused (it would pick its own settings).
	s.Process.Args = []string{LandlockExe, LandlockArg, "exec-writable", "--", "sh"}
	_, d, err = runRule(t, checkLandlock, s, DefaultPolicy(), HostFacts{MAC: MACFacts{LandlockABI: 7}})
	wantOutcome(t, d, err, Refused, "mac.accept")
	// Not in force (AppArmor only): not wrapped.
	s.Process.Args = []string{"sh"}
	out, d, err = runRule(t, checkLandlock, s, DefaultPolicy(), HostFacts{MAC: MACFacts{AppArmorEnabled: true}})
	wantOutcome(t, d, err, Kept, "")
	if len(out.Process.Args) != 1 {
		t.Errorf("wrapped without Landlock: %q", out.Process.Args)
	}
}

// Image volumes (binds of an overlay mount, or of a directory of one) are named to the
// launcher, which grants execute beneath those that are read-only mounts; another bind is
// not named. An exec is told them by the runtime.
func TestLandlockImageVolumes(t *testing.T) {
	s := minimalSpec()
	s.Process.Args = []string{"sh"}
	s.Mounts = append(s.Mounts,
		specs.Mount{Destination: "/mnt/image", Type: "bind", Source: "/snap/1", Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/mnt/sub", Type: "bind", Source: "/snap/2/etc", Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/mnt/rw-image", Type: "bind", Source: "/snap/3", Options: []string{"rbind"}},
		specs.Mount{Destination: "/mnt/data", Type: "bind", Source: "/data", Options: []string{"rbind", "ro"}},
	)
	facts := HostFacts{MAC: MACFacts{LandlockABI: 7}, Sources: map[string]SourceFacts{
		"/snap/1":     {Type: "directory", FSType: "overlay", OverlayMount: true},
		"/snap/2/etc": {Type: "directory", FSType: "overlay", InOverlayMount: "/snap/2"},
		"/snap/3":     {Type: "directory", FSType: "overlay", OverlayMount: true},
		"/data":       {Type: "directory", FSType: "ext4"},
	}}
	out, d, err := runRule(t, checkLandlock, s, DefaultPolicy(), facts)
	wantOutcome(t, d, err, Tightened, "")
	want := []string{LandlockExe, LandlockArg, "abi=1", "image-volume=/mnt/image", "image-volume=/mnt/sub", "image-volume=/mnt/rw-image", "--", "sh"}
	if strings.Join(out.Process.Args, "|") != strings.Join(want, "|") {
		t.Errorf("args %q, want %q", out.Process.Args, want)
	}
	p, _, err := ApplyProcess(&specs.Process{Args: []string{"ls"}, Cwd: "/"}, DefaultPolicy(), HostFacts{MAC: facts.MAC, ImageVolumes: []string{"/mnt/image"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Args, "image-volume=/mnt/image") {
		t.Errorf("exec args %q", p.Args)
	}
}
