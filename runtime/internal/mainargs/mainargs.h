// mainargs: main's arguments for an ELF constructor, whatever the C library.
//
// glibc calls constructors with main's (argc, argv, envp), an extension of its own; musl,
// which yoroi is linked with (see the Makefile), calls them with none, so what a
// constructor finds in argc and argv there is garbage. mainargs keeps glibc's, and
// elsewhere reads the same bytes from /proc/self/cmdline. A constructor that cannot read
// them does nothing: it must be one that a process runs safely without (the Landlock
// launcher then falls through to yoroi's command line, which refuses its argument, and
// the container's process ends before it executes anything).
#ifndef YOROI_MAINARGS_H
#define YOROI_MAINARGS_H

// yoroi_mainargs sets *argc and *argv to main's arguments (an argv that lives as long as
// the process) and returns 0, or returns -1 and leaves them unset. On glibc they are the
// constructor's own arguments, passed in. The first call's answer is kept: each process
// reads its command line once, whichever constructor asks first (constructors run one at
// a time, before any thread).
int yoroi_mainargs(int *argc, char ***argv);

#endif
