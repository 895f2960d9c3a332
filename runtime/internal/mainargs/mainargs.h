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

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// mainargs sets *argc and *argv to main's arguments (an argv that lives as long as the
// process) and returns 0, or returns -1 and leaves them unset. On glibc they are the
// constructor's own arguments, passed in.
static int mainargs(int *argc, char ***argv)
{
#ifdef __GLIBC__
	return *argv == NULL ? -1 : 0;
#else
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (buf == NULL)
			break;
		if (len == cap) {
			char *grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL || len == 0 || buf[len - 1] != '\0') {
		free(buf);
		return -1;
	}
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	char **v = malloc(((size_t)n + 1) * sizeof(char *));
	if (v == NULL) {
		free(buf);
		return -1;
	}
	int k = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		v[k++] = buf + i;
	v[k] = NULL;
	*argc = n;
	*argv = v;
	return 0;
#endif
}

#endif
