package runtime

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// exec's command line overrides the container's process as runc's does.
func TestOverrideProcess(t *testing.T) {
	noNew := false
	p := &specs.Process{Args: []string{"init"}, Cwd: "/", Env: []string{"A=1"}, NoNewPrivileges: true,
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Inheritable: []string{}}}
	err := overrideProcess(p, ExecOptions{Args: []string{"sh"}, Cwd: "/srv", Env: []string{"B=2"}, User: "1000:1001",
		AdditionalGids: []int64{5}, Caps: []string{"CAP_CHOWN"}, NoNewPrivs: &noNew, Tty: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Args, []string{"sh"}) || p.Cwd != "/srv" || !slices.Equal(p.Env, []string{"A=1", "B=2"}) ||
		p.User.UID != 1000 || p.User.GID != 1001 || !slices.Equal(p.User.AdditionalGids, []uint32{5}) ||
		p.NoNewPrivileges || !p.Terminal || !slices.Equal(p.Capabilities.Bounding, []string{"CAP_KILL", "CAP_CHOWN"}) ||
		!slices.Equal(p.Capabilities.Ambient, []string{"CAP_CHOWN"}) {
		t.Errorf("%+v %+v", p, p.Capabilities)
	}
	for _, bad := range []ExecOptions{{Args: []string{"sh"}, User: "x"}, {Args: []string{"sh"}, User: "0:y"}, {Args: []string{"sh"}, AdditionalGids: []int64{-1}}} {
		if err := overrideProcess(&specs.Process{}, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
