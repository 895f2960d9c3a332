// Package shim is yoroi's containerd shim v2: containerd's own runc shim (its manager and
// task service), with yoroi as the runtime binary. There is no task service of yoroi's
// own: what containerd users expect from io.containerd.runc.v2 holds for yoroi.
package shim

import (
	"context"
	"path/filepath"

	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/manager"
	"github.com/containerd/containerd/v2/pkg/shim"
	gorunc "github.com/containerd/go-runc"
)

// RuntimeType is the name containerd and Kubernetes RuntimeClasses use for yoroi.
const RuntimeType = "io.containerd.yoroi.v2"

// DefaultBinary is the runtime binary the shim runs unless the runtime options' BinaryName
// names another.
const DefaultBinary = "yoroi"

// FallbackRoot is the state root of a container whose bundle is not where containerd's
// shim v2 runtime keeps them (see DefaultRoot): the default containerd's.
const FallbackRoot = "/run/containerd/yoroi"

// tasksDir is the directory of containerd's shim v2 runtime in its state directory; a
// task's bundle is tasksDir/<namespace>/<id> there.
const tasksDir = "io.containerd.runtime.v2.task"

// Run runs the shim; it returns only on failure (the shim library exits itself).
func Run() {
	gorunc.DefaultCommand = DefaultBinary
	shim.Run(context.Background(), optionsManager{Manager: manager.NewShimManager(RuntimeType)})
}

// DefaultRoot is the state root (yoroi's --root, before the namespace) of the container
// in bundle, unless its runtime options name a Root (task.go): "yoroi" in the
// state directory of the containerd that started the shim, so that the default
// containerd's is /run/containerd/yoroi (as gVisor's is /run/containerd/runsc) and a
// second containerd on the host, with a state directory of its own, shares nothing with
// it. Not runc's /run/containerd/runc: runc, pointed at that root, would act on yoroi's
// containers behind yoroi's back. The root goes into the options the task service keeps
// in the bundle, where the shim's delete action finds it too.
func DefaultRoot(bundle string) string {
	if bundle == "" || !filepath.IsAbs(bundle) {
		return FallbackRoot
	}
	tasks := filepath.Dir(filepath.Dir(filepath.Clean(bundle)))
	if filepath.Base(tasks) != tasksDir || filepath.Dir(tasks) == tasks {
		return FallbackRoot
	}
	return filepath.Join(filepath.Dir(tasks), "yoroi")
}
