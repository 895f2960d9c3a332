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
#include <sys/wait.h>
#include <fcntl.h>
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

int yoroi_userns_holder(int *pid, int *pidfd, void **stack)
{
	void *s = mmap(NULL, HOLDER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s == MAP_FAILED)
		return -errno;
	int p = clone(holder, (char *)s + HOLDER_STACK, CLONE_NEWUSER | CLONE_VM | CLONE_PIDFD | SIGCHLD, NULL, pidfd);
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

// joiner runs in the caller's address space (CLONE_VM, the caller suspended by
// CLONE_VFORK): it joins the user namespace and reads its own uid_map and gid_map, which
// show the namespace's mappings to its parent namespace.
static int joiner(void *arg)
{
	struct yoroi_userns_maps *m = arg;
	if (syscall(SYS_setns, m->fd, CLONE_NEWUSER) < 0) {
		m->err = errno;
		return 1;
	}
	const char *files[2] = {"/proc/self/uid_map", "/proc/self/gid_map"};
	char *bufs[2] = {m->uid, m->gid};
	long *lens[2] = {&m->uid_len, &m->gid_len};
	for (int i = 0; i < 2; i++) {
		int fd = (int)syscall(SYS_openat, AT_FDCWD, files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			m->err = errno;
			return 1;
		}
		long n;
		while ((n = syscall(SYS_read, fd, bufs[i] + *lens[i], YOROI_MAPS_SIZE - *lens[i])) > 0)
			*lens[i] += n;
		syscall(SYS_close, fd);
		if (n < 0) {
			m->err = errno;
			return 1;
		}
	}
	return 0;
}

int yoroi_userns_maps(struct yoroi_userns_maps *m)
{
	void *s = mmap(NULL, HOLDER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s == MAP_FAILED)
		return -errno;
	int p = clone(joiner, (char *)s + HOLDER_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, m);
	int e = errno;
	if (p > 0) {
		int status;
		while (waitpid(p, &status, 0) < 0 && errno == EINTR)
			;
	}
	munmap(s, HOLDER_STACK);
	if (p < 0)
		return -e;
	return m->err != 0 ? -m->err : 0;
}
