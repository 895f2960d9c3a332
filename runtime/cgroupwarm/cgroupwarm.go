// Package cgroupwarm starts, before the Go runtime, the RCU grace period that the runtime's
// first move of a process between cgroups waits for.
//
// The kernel serialises every move of a process between cgroups (a pid written to a
// cgroup.procs file, in any hierarchy) with one host-wide lock, whose writer first waits
// for an RCU grace period — 5 to 15 ms on this project's machines — unless another writer
// held it within about the last grace period; the writer holds the cgroup mutex through
// that wait, so a cgroup mkdir meanwhile waits too. libcontainer moves the container's
// init into its cgroups in the middle of every create (on cgroup v1 and v2: the init is
// not cloned into them), and on cgroup v1 every exec'd process, so a start waits for one
// grace period there, runc's alike.
//
// cgroupwarm.c, an ELF constructor (as the Landlock launcher's), starts that wait as the
// process starts, when its command line names `create` or `run` (or `exec` on cgroup v1),
// from a thread that moves the process into the cgroup it already is in — a move that
// changes nothing and leaves nothing behind: the grace period then passes while the Go
// runtime starts, the policy is applied and the container set up, and libcontainer's move
// finds it over or shorter. Nothing depends on it: a failure leaves the wait where it
// was. A host whose cgroup hierarchy is mounted with favordynmods never waits; the move
// then costs microseconds. Importing this package links the constructor into a binary
// (the runtime package does).
package cgroupwarm

// #cgo CFLAGS: -I${SRCDIR}/../internal/mainargs
// #include <stdlib.h>
// #include "cgroupwarm.h"
import "C"

import (
	"syscall"
	"unsafe"

	// The constructor asks mainargs for main's arguments.
	_ "github.com/yoroi-runtime/yoroi/runtime/internal/mainargs"
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
