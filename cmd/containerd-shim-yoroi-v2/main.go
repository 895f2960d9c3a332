// containerd-shim-yoroi-v2 is yoroi's containerd shim v2 (runtime type
// io.containerd.yoroi.v2): containerd's runc shim with yoroi as the runtime binary.
package main

import "github.com/yoroi-runtime/yoroi/shim"

func main() {
	shim.Run()
}
