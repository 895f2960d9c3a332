// Command bootstrap writes the bootstrap parameters containerd ≥ 2.3 hands a shim's
// "start" on stdin, marshalled with containerd's own types (API module v1.12.0), for
// shim/options_test.go: go run . (in this directory; a module of its own, so that yoroi's
// build keeps the API module its containerd library builds with).
package main

import (
	"os"

	bootapi "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
)

func write(name string, extensions ...proto.Message) {
	socketDir := "/run/containerd/s"
	p := bootapi.BootstrapParams{
		InstanceID:             "yoroi-test",
		Namespace:              "k8s.io",
		LogLevel:               bootapi.LogLevelFromString("debug"),
		ContainerdVersion:      "2.4.2",
		ContainerdGrpcAddress:  "/run/containerd/containerd.sock",
		ContainerdTtrpcAddress: "/run/containerd/containerd.sock.ttrpc",
		ContainerdBinary:       "/usr/bin/containerd",
		SocketDir:              &socketDir,
	}
	for _, e := range extensions {
		// As containerd does: the task's options are an Any already.
		a, err := typeurl.MarshalAnyToProto(e)
		if err != nil {
			panic(err)
		}
		if err := p.AddExtension(a); err != nil {
			panic(err)
		}
	}
	data, err := proto.Marshal(&p)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		panic(err)
	}
}

func main() {
	write("generic.bin", &runtimeoptions.Options{ConfigBody: []byte("ShimCgroup = \"/shims\"\n")})
	write("runc.bin", &options.Options{ShimCgroup: "/runc-shims"})
	write("none.bin")
}
