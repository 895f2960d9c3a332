// Package cgroupwarm starts the grace period of the runtime's first move of a process
// between cgroups before the Go runtime starts (cgroupwarm.c, an ELF constructor, like
// the Landlock launcher's): at the very start of `create`, `run` and, on cgroup v1,
// `exec`. See runtime/cgroup_warm.go for why; the runtime starts it itself where this
// did not (an API caller, a test).
package cgroupwarm

// #include <stdlib.h>
// #include "cgroupwarm.h"
import "C"

import (
	"syscall"
	"unsafe"
)

// Started reports whether the constructor started the warm-up in this process.
func Started() bool { return C.yoroi_warm_started != 0 }

// Result is the constructor's move once it is done: done, and its error (a move that
// failed left everything as it was).
func Result() (done bool, err error) {
	r := int(C.yoroi_warm_result)
	switch {
	case r == 0:
		return false, nil
	case r < 0:
		return true, syscall.Errno(-r)
	}
	return true, nil
}

// Command is the command args (a yoroi command line, args[0] the program) name past the
// global flags, as the constructor reads them ("": none).
func Command(args []string) string {
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	var i C.int = -1
	if len(argv) > 0 {
		i = C.yoroi_warm_command(C.int(len(argv)), &argv[0])
	}
	if i < 0 {
		return ""
	}
	return args[i]
}
