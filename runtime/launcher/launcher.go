// Package launcher is yoroi's Landlock launcher: the first program a container's process
// executes (libcontainer runs the runtime's sealed binary as `/proc/self/exe
// __yoroi_landlock SETTINGS -- ARGV`). It confines itself with Landlock, installs the
// seccomp filter yoroi compiled on the host when one is handed to it, and executes the
// workload, which keeps its pid, argv and environment.
//
// It is written in C and runs as an ELF constructor (launcher.c), like libcontainer's
// nsexec: the process never starts the Go runtime, so the launcher costs an execve and a
// few syscalls rather than a second Go program's start. Importing this package links it
// into a binary; every binary that creates containers must (the runtime package does).
package launcher

// #cgo CFLAGS: -I${SRCDIR}/../internal/mainargs
// #include "launcher.h"
import "C"

// The constructor asks mainargs for main's arguments.
import _ "github.com/yoroi-runtime/yoroi/runtime/internal/mainargs"

// Arg is the argument that selects the launcher, as the C side spells it.
var Arg = C.GoString(C.yoroi_launcher_arg())
