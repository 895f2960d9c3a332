package shim

import (
	"testing"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
)

func TestDefaultRoot(t *testing.T) {
	for _, tc := range []struct{ bundle, want string }{
		{"/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc", "/run/containerd/yoroi"},
		{"/run/k3s/containerd/io.containerd.runtime.v2.task/default/x/", "/run/k3s/containerd/yoroi"},
		{"/tmp/it/state/io.containerd.runtime.v2.task/moby/0123", "/tmp/it/state/yoroi"},
		{"/io.containerd.runtime.v2.task/ns/id", "/yoroi"},
		// Not a bundle of containerd's shim v2 runtime: the default containerd's root.
		{"/var/lib/bundles/abc", FallbackRoot},
		{"/", FallbackRoot},
		{"relative/io.containerd.runtime.v2.task/ns/id", FallbackRoot},
		{"", FallbackRoot},
	} {
		if got := DefaultRoot(tc.bundle); got != tc.want {
			t.Errorf("DefaultRoot(%q) = %q, want %q", tc.bundle, got, tc.want)
		}
	}
}

func TestCreateOptions(t *testing.T) {
	const bundle = "/tmp/it/state/io.containerd.runtime.v2.task/default/c1"
	generic := func(body string) typeurl.Any {
		return mustAny(t, &runtimeoptions.Options{ConfigBody: []byte(body)})
	}
	for _, tc := range []struct {
		name string
		sent typeurl.Any
		want *options.Options
		err  string
	}{
		{name: "none: yoroi's root in the containerd's state", sent: nil, want: &options.Options{Root: "/tmp/it/state/yoroi"}},
		{name: "empty Any", sent: &ptypes.Any{}, want: &options.Options{Root: "/tmp/it/state/yoroi"}},
		{name: "runc's options without a root", sent: mustAny(t, &options.Options{BinaryName: "/opt/yoroi", SystemdCgroup: true}),
			want: &options.Options{BinaryName: "/opt/yoroi", SystemdCgroup: true, Root: "/tmp/it/state/yoroi"}},
		{name: "runc's options with a root", sent: mustAny(t, &options.Options{Root: "/run/yoroi-k8s"}), want: &options.Options{Root: "/run/yoroi-k8s"}},
		{name: "generic options with a root", sent: generic("Root = \"/run/elsewhere\"\n"), want: &options.Options{Root: "/run/elsewhere"}},
		{name: "generic options without one", sent: generic("NoPivotRoot = true\n"), want: &options.Options{NoPivotRoot: true, Root: "/tmp/it/state/yoroi"}},
		{name: "bad generic options", sent: generic("Rooot = \"/x\"\n"), err: `unknown key "Rooot"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := createOptions(tc.sent, bundle)
			if errorCase(t, err, tc.err) {
				return
			}
			if o := anyRuncOptions(t, got); !proto.Equal(o, tc.want) {
				t.Fatalf("got %v, want %v", o, tc.want)
			}
		})
	}
	// Another type is left for the runc task service to refuse.
	other := mustAny(t, &types.RuntimeInfo{Name: "x"})
	if got, err := createOptions(other, bundle); err != nil || got != other {
		t.Fatalf("other options: got %v, %v; want them unchanged", got, err)
	}
}
