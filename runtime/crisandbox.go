package runtime

import (
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
)

// criKeys are the annotations with which a CRI engine marks a pod's sandbox and its
// containers: containerd's and CRI-O's.
var criKeys = []struct{ containerType, sandboxID string }{
	{"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id"},
	{"io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID"},
}

// criEngine reports whether annotations are a CRI engine's for container id: a sandbox
// whose annotated sandbox id is its own id (which the engine chose, and nobody knew when
// the annotations were written), or a container whose annotated sandbox is such a
// sandbox, in this state root. An engine that passes its users' annotations through
// (Docker's and Podman's --annotation) gives neither.
func (r *Runtime) criEngine(id string, annotations map[string]string) bool {
	if id == "" {
		return false
	}
	for _, k := range criKeys {
		sandbox := annotations[k.sandboxID]
		switch annotations[k.containerType] {
		case "sandbox":
			return sandbox == id
		case "container":
			if sandbox == "" || sandbox == id || validateID(sandbox) != nil {
				return false
			}
			c, err := libcontainer.Load(r.root, sandbox)
			if err != nil {
				return false
			}
			_, theirs := utils.Annotations(c.Config().Labels)
			return theirs[k.containerType] == "sandbox" && theirs[k.sandboxID] == sandbox
		}
	}
	return false
}
