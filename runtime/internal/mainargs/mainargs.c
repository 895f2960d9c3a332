// See mainargs.h.

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mainargs.h"

#ifndef __GLIBC__
// read_cmdline reads /proc/self/cmdline into argv (-1: it could not).
static int read_cmdline(int *argc, char ***argv)
{
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
}
#endif

int yoroi_mainargs(int *argc, char ***argv)
{
	static int known; // 0: not asked yet, 1: cached, -1: unreadable
	static int cached_argc;
	static char **cached_argv;
	if (known == 0) {
#ifdef __GLIBC__
		known = *argv == NULL ? -1 : 1;
		cached_argc = *argc;
		cached_argv = *argv;
#else
		known = read_cmdline(&cached_argc, &cached_argv) < 0 ? -1 : 1;
#endif
	}
	if (known < 0)
		return -1;
	*argc = cached_argc;
	*argv = cached_argv;
	return 0;
}
