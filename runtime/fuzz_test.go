package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// FuzzParseSpec feeds arbitrary bytes to the config.json loader: it never panics, and a
// spec it accepts has what the rest of create relies on (a process with args and an
// absolute cwd, a root path, a linux section), and is judged by the policy without
// panicking.
func FuzzParseSpec(f *testing.F) {
	for _, p := range []string{"../hardening/testdata/specs/docker-default.json", "../hardening/testdata/specs/containerd-cri-default.json", "../hardening/testdata/specs/runc-template.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"root":{"path":"rootfs"},"linux":{},"process":{"cwd":"/proc/self/fd/7","args":["sh"]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(data)
		if err != nil {
			return
		}
		if spec.Process == nil || len(spec.Process.Args) == 0 || !filepath.IsAbs(spec.Process.Cwd) || spec.Root == nil || spec.Root.Path == "" || spec.Linux == nil {
			out, _ := json.Marshal(spec)
			t.Fatalf("accepted an incomplete spec: %s", out)
		}
		_, _ = hardening.Apply(spec, hardening.DefaultPolicy(), hardening.HostFacts{Arch: "amd64"}, hardening.Request{})
	})
}
