/*
 * The CRI validation suite's nonewprivs image's program: installed set-user-ID root, it
 * prints the effective uid it runs with (0 unless no_new_privs stopped the elevation).
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("Effective uid: %d\n", (int)geteuid());
	return 0;
}
