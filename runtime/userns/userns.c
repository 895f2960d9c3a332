// A user namespace without a program in it. See userns.go.

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "userns.h"

#define HOLDER_STACK (64 << 10)

// holder runs in the new user namespace, in the caller's address space (CLONE_VM): it
// touches nothing but its own stack and makes raw syscalls only. It blocks every signal,
// dies with the thread that created it, and waits to be killed.
static int holder(void *arg)
{
	(void)arg;
	uint64_t all = ~(uint64_t)0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(all));
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (;;)
		syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
	return 0;
}

int yoroi_userns_holder(int *pid, void **stack)
{
	void *s = mmap(NULL, HOLDER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s == MAP_FAILED)
		return -errno;
	int p = clone(holder, (char *)s + HOLDER_STACK, CLONE_NEWUSER | CLONE_VM | SIGCHLD, NULL);
	if (p < 0) {
		int e = errno;
		munmap(s, HOLDER_STACK);
		return -e;
	}
	*pid = p;
	*stack = s;
	return 0;
}

void yoroi_userns_free(void *stack)
{
	munmap(stack, HOLDER_STACK);
}
