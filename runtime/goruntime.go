package runtime

import goruntime "runtime"

// This package is named after its directory (yoroi's layout: runtime/ is the only code
// that touches libcontainer), which hides Go's own runtime package: this file is the one
// place that imports it.

// hostArch is the architecture yoroi runs on and builds seccomp profiles for (GOARCH).
const hostArch = goruntime.GOARCH

// lockThread keeps the calling goroutine on its OS thread (namespace changes are per
// thread); unlockThread lets it go.
func lockThread()   { goruntime.LockOSThread() }
func unlockThread() { goruntime.UnlockOSThread() }

// goVersion is the Go release yoroi was built with.
func goVersion() string { return goruntime.Version() }
