// Package libccompat supplies, when yoroi is linked with a C library other than glibc
// (musl, as the Makefile links it), what Debian's static libseccomp expects of glibc:
// __fprintf_chk, the fortified fprintf its objects were compiled to call. Linked with
// glibc it adds nothing. Importing it for its side effect links it in (the runtime
// package does, beside libcontainer's seccomp).
package libccompat

import "C"
