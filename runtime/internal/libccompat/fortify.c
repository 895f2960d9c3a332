// __fprintf_chk for a C library without glibc's fortified functions (see libccompat.go).
// glibc's version, when flag is positive, refuses a %n in a format held in writable
// memory; libseccomp's formats are constants, and a plain fprintf is what an unfortified
// build of libseccomp would call.

#include <stdarg.h>
#include <stdio.h>

#ifndef __GLIBC__
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	(void)flag;
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
#endif
