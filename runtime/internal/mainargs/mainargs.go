// Package mainargs gives yoroi's ELF constructors (the Landlock launcher's, the cgroup
// warm-up's) main's arguments whatever the C library: see mainargs.h. Importing it links
// yoroi_mainargs into the binary; the packages whose C code calls it do.
package mainargs

import "C"
