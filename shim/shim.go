// Package shim is yoroi's containerd shim v2: containerd's own runc shim (its manager and
// task service), with yoroi as the runtime binary. There is no task service of yoroi's
// own: what containerd users expect from io.containerd.runc.v2 holds for yoroi.
package shim

import (
	"context"

	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/manager"
	"github.com/containerd/containerd/v2/pkg/shim"
	gorunc "github.com/containerd/go-runc"
)

// RuntimeType is the name containerd and Kubernetes RuntimeClasses use for yoroi.
const RuntimeType = "io.containerd.yoroi.v2"

// DefaultBinary is the runtime binary the shim runs unless the runtime options' BinaryName
// names another.
const DefaultBinary = "yoroi"

// Run runs the shim; it returns only on failure (the shim library exits itself).
func Run() {
	gorunc.DefaultCommand = DefaultBinary
	shim.Run(context.Background(), optionsManager{Manager: manager.NewShimManager(RuntimeType)})
}
