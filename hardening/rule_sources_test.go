package hardening

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestEngineSource(t *testing.T) {
	allowSock := DefaultPolicy()
	allowSock.Mounts.AllowSources = []string{"/srv/engine/api.sock", "/data/docker"}
	facts := HostFacts{
		RealPaths: map[string]string{"/srv/link-to-sock": "/srv/engine/api.sock"},
		Sources: map[string]SourceFacts{
			"/srv/engine/api.sock":              {Type: "socket"},
			"/srv/link-to-sock":                 {Type: "socket"},
			"/srv/engine":                       {Type: "directory", Sockets: []string{"/srv/engine/api.sock"}},
			"/srv/data":                         {Type: "directory"},
			"/data/docker":                      {Type: "directory"},
			"/data":                             {Type: "directory"},
			"/data/docker/containers/abc/hosts": {Type: "file"},
			"/state/yoroi":                      {Type: "directory"},
			"/bundles":                          {Type: "directory"},
		},
		EngineState: []EnginePath{
			{Path: "/data/docker/overlay2/abc/merged", What: "the container's root filesystem"},
			{Path: "/state/yoroi/moby", What: "the runtime's state root"},
			{Path: "/bundles/moby", What: "the directory of the container's bundle"},
		},
	}
	bind := func(src string) []specs.Mount {
		return []specs.Mount{{Destination: "/x", Source: src, Type: "bind", Options: []string{"rbind"}}}
	}
	for _, tc := range []struct {
		name   string
		src    string
		policy *Policy
		want   Outcome
		detail string
	}{
		{"a UNIX socket anywhere", "/srv/engine/api.sock", DefaultPolicy(), Refused, "is a UNIX socket"},
		{"a symlink to a socket", "/srv/link-to-sock", DefaultPolicy(), Refused, "is a UNIX socket"},
		{"a directory holding a bound socket", "/srv/engine", DefaultPolicy(), Refused, "contains the bound UNIX socket /srv/engine/api.sock"},
		{"a socket allowed by its exact path", "/srv/engine/api.sock", allowSock, Tightened, ""},
		{"the directory of an allowed socket is not allowed", "/srv/engine", allowSock, Refused, "contains the bound UNIX socket"},
		{"an engine data root at any path", "/data/docker", DefaultPolicy(), Refused, "contains the container's root filesystem"},
		{"its parent too", "/data", DefaultPolicy(), Refused, "contains the container's root filesystem"},
		{"the engine data root allowed by its exact path", "/data/docker", allowSock, Tightened, ""},
		{"the engine's per-container files stay allowed", "/data/docker/containers/abc/hosts", DefaultPolicy(), Tightened, ""},
		{"a state root given by --root", "/state/yoroi", DefaultPolicy(), Refused, "contains the runtime's state root"},
		{"the bundles' directory", "/bundles/moby", DefaultPolicy(), Refused, "is the directory of the container's bundle"},
		{"a plain volume", "/srv/data", DefaultPolicy(), Tightened, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Mounts = bind(tc.src)
			_, d, err := runTable(t, mountRules, s, tc.policy, facts)
			wantOutcome(t, d, err, tc.want, "mounts.allow_sources")
			if tc.detail != "" && (err == nil || !strings.Contains(err.Error(), tc.detail)) {
				t.Errorf("refusal %v does not say %q", err, tc.detail)
			}
		})
	}
}
