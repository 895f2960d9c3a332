// The cgroup move's warm-up, started before the Go runtime. See cgroupwarm.go.
//
// An ELF constructor of every process of the binary: when the command line names a command
// that will move a process between cgroups (create and run; exec where the exec'd process
// is moved, on cgroup v1), it starts a thread that writes the process' own pid to the
// cgroup.procs file of the cgroup it is in — a move that changes nothing — and ends.
// Nothing depends on it: any failure leaves the runtime where it would have been.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroupwarm.h"
#include "mainargs.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

volatile int yoroi_warm_started;
volatile int yoroi_warm_result;

// value_flags are the global flags of yoroi's command line that take a value (cmd/yoroi:
// TestWarmCommandMatchesCLI holds this list to the command line's).
static const char *const value_flags[] = {"root", "log", "log-format", "config", "rootless", NULL};

static int takes_value(const char *arg)
{
	while (*arg == '-')
		arg++;
	if (strchr(arg, '=') != NULL)
		return 0;
	for (int i = 0; value_flags[i] != NULL; i++)
		if (strcmp(arg, value_flags[i]) == 0)
			return 1;
	return 0;
}

int yoroi_warm_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-')
			return i;
		if (strcmp(argv[i], "--") == 0)
			return -1;
		if (takes_value(argv[i]))
			i++;
	}
	return -1;
}

static int unified(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

// has_token reports whether the comma-separated list holds tok.
static int has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, tok, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

// find_line calls match with each line of file, its newline removed, until match returns
// 1: then 0, or -1 when no line matched or the file could not be read.
static int find_line(const char *file, int (*match)(char *line, void *query), void *query)
{
	FILE *f = fopen(file, "re");
	if (f == NULL)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (match(line, query))
			found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

// cgroup_query asks /proc/self/cgroup for the path of this process' cgroup in the
// hierarchy of controller (cgroup v1), or in the unified one (controller NULL).
struct cgroup_query {
	const char *controller;
	char *path;
	size_t size;
};

static int cgroup_line(char *line, void *query)
{
	struct cgroup_query *q = query;
	char *ctrls = strchr(line, ':');
	char *p = ctrls != NULL ? strchr(ctrls + 1, ':') : NULL;
	if (p == NULL)
		return 0;
	*p++ = '\0';
	ctrls++;
	int match = q->controller == NULL ? strcmp(line, "0") == 0 && *ctrls == '\0' : has_token(ctrls, q->controller);
	if (!match || strlen(p) >= q->size)
		return 0;
	strcpy(q->path, p);
	return 1;
}

// mount_query asks /proc/self/mountinfo for the mount of controller's cgroup v1
// hierarchy: its mount point and the hierarchy's path mounted there.
struct mount_query {
	const char *controller;
	char *point, *root;
	size_t size;
};

static int mount_line(char *line, void *query)
{
	struct mount_query *q = query;
	char *sep = strstr(line, " - ");
	if (sep == NULL || strchr(line, '\\') != NULL)
		return 0; // malformed, or an escaped name: not worth decoding here
	*sep = '\0';
	char fstype[32], superopts[512];
	if (sscanf(sep + 3, "%31s %*s %511s", fstype, superopts) != 2 || strcmp(fstype, "cgroup") != 0 || !has_token(superopts, q->controller))
		return 0;
	char r[PATH_MAX], mp[PATH_MAX];
	if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, mp) != 2 || strlen(r) >= q->size || strlen(mp) >= q->size)
		return 0;
	strcpy(q->root, r);
	strcpy(q->point, mp);
	return 1;
}

// procs_file is the cgroup.procs file of this process' cgroup: in the unified hierarchy
// on cgroup v2, in the first of the pids, memory, cpu and devices hierarchies on v1.
static int procs_file(char *out, size_t size)
{
	char path[PATH_MAX];
	if (unified()) {
		struct cgroup_query q = {NULL, path, sizeof(path)};
		if (find_line("/proc/self/cgroup", cgroup_line, &q) < 0)
			return -1;
		int n = snprintf(out, size, "/sys/fs/cgroup%s/cgroup.procs", path);
		return n > 0 && (size_t)n < size ? 0 : -1;
	}
	static const char *const controllers[] = {"pids", "memory", "cpu", "devices", NULL};
	for (int i = 0; controllers[i] != NULL; i++) {
		char point[PATH_MAX], root[PATH_MAX];
		struct cgroup_query cq = {controllers[i], path, sizeof(path)};
		struct mount_query mq = {controllers[i], point, root, sizeof(point)};
		if (find_line("/proc/self/cgroup", cgroup_line, &cq) < 0 || find_line("/proc/self/mountinfo", mount_line, &mq) < 0)
			continue;
		size_t rn = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(path, root, rn) != 0 || (path[rn] != '/' && path[rn] != '\0'))
			continue; // the cgroup lies outside what is mounted
		int n = snprintf(out, size, "%s%s/cgroup.procs", point, path + rn);
		return n > 0 && (size_t)n < size ? 0 : -1;
	}
	return -1;
}

// move writes this process' pid to its own cgroup's cgroup.procs: 1, or -errno.
static int move(void)
{
	char file[PATH_MAX];
	if (procs_file(file, sizeof(file)) < 0)
		return -ENOENT;
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	int ret = write(fd, pid, (size_t)n) == n ? 1 : -errno;
	close(fd);
	return ret;
}

static void *warm(void *arg)
{
	(void)arg;
	__atomic_store_n(&yoroi_warm_result, move(), __ATOMIC_SEQ_CST);
	return NULL;
}

__attribute__((constructor)) static void yoroi_cgroup_warm(int argc, char **argv, char **envp)
{
	(void)envp;
	if (yoroi_mainargs(&argc, &argv) < 0)
		return;
	int i = yoroi_warm_command(argc, argv);
	if (i < 0)
		return;
	const char *cmd = argv[i];
	if (strcmp(cmd, "create") != 0 && strcmp(cmd, "run") != 0 && !(strcmp(cmd, "exec") == 0 && !unified()))
		return;
	// The thread takes no signal: the Go runtime installs its handlers for its own threads.
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&t, &attr, warm, NULL) == 0)
			yoroi_warm_started = 1;
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
