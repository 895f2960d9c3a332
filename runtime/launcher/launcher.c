// The Landlock launcher. See launcher.go: this runs as an ELF constructor, before the Go
// runtime starts, when the binary is executed as `/proc/self/exe __yoroi_landlock ...`.
//
// Its steps, each failure fatal (exit 126, one "yoroi landlock:" line on stderr; a
// workload that cannot be executed is reported as runc's init reports it, "exec PATH:
// no such file or directory", exit 127 when it is not there and 126 otherwise, the
// codes a shell uses and Docker derives from runc's words):
//  1. parse the settings up to "--" (abi=N, exec-writable, root-writable, make-devices,
//     keep-privs with caps=B,P,E,I,A, seccomp=HEX, notify-fd=N, image-volume=PATH...,
//     exec-allow=PATH..., read-allow=PATH..., write-allow=PATH...);
//  2. read the container's mount table and build a Landlock ruleset: read on "/" (and
//     write with root-writable: the policy left the root writable), read+write (no
//     execute) beneath every writable mount, execute on the read-only
//     root's entries that are neither mounts nor hold one (never through a symlink),
//     read+execute beneath each image-volume= path that is a read-only mount (image
//     content, as the root is), and on each regular file passed as a descriptor what
//     that descriptor allows. Allow-lists narrow this (files.exec, files.read,
//     files.write): with exec-allow= execute only on those paths; with read-allow= the
//     root's files readable only there (directories stay listable, other mounts
//     readable); with write-allow= writing only there;
//  3. landlock_restrict_self;
//  4. install the seccomp filter yoroi compiled on the host (HEX: a header and the BPF
//     program, in hexadecimal), if any; with notify-fd=N (a connection to the
//     container's monitor, runtime/monitor.go) the filter notifies the monitor, which
//     takes its listener from this process (hand_listener); with keep-privs (the process runs without
//     no_new_privs, and the runtime gave the launcher CAP_SYS_ADMIN and CAP_SETPCAP for
//     steps 3 and 4), set the process' own capability sets;
//  5. execve the workload with its argv and environment (PATH searched as Go's
//     exec.LookPath does).

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "launcher.h"
#include "mainargs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

// Landlock's UAPI, spelled out: the build host's headers may predate ABI 5.
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_REMOVE_DIR (1ULL << 4)
#define LL_REMOVE_FILE (1ULL << 5)
#define LL_MAKE_CHAR (1ULL << 6)
#define LL_MAKE_DIR (1ULL << 7)
#define LL_MAKE_REG (1ULL << 8)
#define LL_MAKE_SOCK (1ULL << 9)
#define LL_MAKE_FIFO (1ULL << 10)
#define LL_MAKE_BLOCK (1ULL << 11)
#define LL_MAKE_SYM (1ULL << 12)
#define LL_REFER (1ULL << 13)
#define LL_TRUNCATE (1ULL << 14)
#define LL_IOCTL_DEV (1ULL << 15)

#define LL_READ (LL_READ_FILE | LL_READ_DIR)
#define LL_WRITE                                                                         \
	(LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE | LL_MAKE_DIR | LL_MAKE_REG |      \
	 LL_MAKE_SOCK | LL_MAKE_FIFO | LL_MAKE_SYM | LL_REFER | LL_TRUNCATE)
// The only rights a rule on a non-directory may carry.
#define LL_FILE_RIGHTS (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static const char launcher_arg[] = "__yoroi_landlock";

const char *yoroi_launcher_arg(void)
{
	return launcher_arg;
}

extern char **environ;

// fail writes one line, prefix and message, and exits with code.
static void fail(int code, const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s", prefix);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	size_t len = strlen(buf);
	buf[len++] = '\n';
	if (write(STDERR_FILENO, buf, len) < 0) {
		// Nothing more to say.
	}
	_exit(code);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail(126, "yoroi landlock: ", fmt, ap);
	va_end(ap);
}

// die_exec reports a workload that cannot be executed in runc's words.
static void die_exec(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail(code, "", fmt, ap);
	va_end(ap);
}

// go_strerror is strerror(err) as Go spells it: lower case first letter.
static const char *go_strerror(int err, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		die("out of memory");
	return p;
}

// Landlock: every filesystem right the ABI knows is handled, so what is not granted is denied.
static uint64_t handled_rights(int abi)
{
	uint64_t h = 0x1FFF; // ABI 1: EXECUTE ... MAKE_SYM
	if (abi >= 2)
		h |= LL_REFER;
	if (abi >= 3)
		h |= LL_TRUNCATE;
	if (abi >= 5)
		h |= LL_IOCTL_DEV;
	return h;
}

struct mount_table {
	char **path;
	int *readonly;
	size_t n;
};

// unescape decodes mountinfo's octal escapes (\040 for a space) in place.
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

// has_option reports whether the comma-separated list opts holds opt.
static int has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = opts;; p++) {
		if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p == NULL)
			return 0;
	}
}

// read_mounts lists the container's mounts other than its root; a later mount on the
// same path hides (replaces) the earlier one.
static void read_mounts(struct mount_table *t)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		die("open /proc/self/mountinfo: %s", strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *field[6], *save = NULL, *tok = strtok_r(line, " \n", &save);
		int i = 0;
		for (; tok != NULL && i < 6; tok = strtok_r(NULL, " \n", &save))
			field[i++] = tok;
		if (i < 6)
			continue;
		unescape(field[4]);
		if (strcmp(field[4], "/") == 0)
			continue;
		for (size_t j = 0; j < t->n; j++) {
			if (strcmp(t->path[j], field[4]) == 0) {
				free(t->path[j]);
				memmove(&t->path[j], &t->path[j + 1], (t->n - j - 1) * sizeof(char *));
				memmove(&t->readonly[j], &t->readonly[j + 1], (t->n - j - 1) * sizeof(int));
				t->n--;
				break;
			}
		}
		t->path = xrealloc(t->path, (t->n + 1) * sizeof(char *));
		t->readonly = xrealloc(t->readonly, (t->n + 1) * sizeof(int));
		t->path[t->n] = strdup(field[4]);
		if (t->path[t->n] == NULL)
			die("out of memory");
		t->readonly[t->n] = has_option(field[5], "ro");
		t->n++;
	}
	if (ferror(f))
		die("read /proc/self/mountinfo: %s", strerror(errno));
	free(line);
	fclose(f);
}

struct ruleset {
	int fd;
	uint64_t handled;
};

// open_exact opens path (O_PATH, or a directory to read) refusing every symlink on the
// way, the last component's included: a rule must land on the object at that path, never
// on what a symlink in the image points to (a link to a writable mount, or to "/", would
// otherwise carry the root's execute right there). -1 with errno ELOOP for a symlink.
static int open_exact(const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

// add_rule grants rights beneath path (a file gets only the file rights among them).
static void add_rule(const struct ruleset *rs, const char *path, uint64_t rights)
{
	int fd = open_exact(path, O_PATH);
	if (fd < 0) {
		if (errno == ENOENT || errno == EACCES || errno == ELOOP)
			return; // nothing there to grant, or a symlink: no rule through it
		die("open %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		die("stat %s: %s", path, strerror(errno));
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		break;
	case S_IFIFO:
	case S_IFSOCK:
		// Not a filesystem object Landlock can hold a rule for.
		close(fd);
		return;
	default:
		rights &= LL_FILE_RIGHTS;
	}
	rights &= rs->handled;
	if (rights != 0) {
		struct ll_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = fd};
		if (syscall(SYS_landlock_add_rule, rs->fd, LL_RULE_PATH_BENEATH, &attr, 0) < 0)
			die("landlock_add_rule %s: %s", path, strerror(errno));
	}
	close(fd);
}

static int is_mount(const struct mount_table *t, const char *p)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->path[i], p) == 0)
			return 1;
	return 0;
}

static int holds_mount(const struct mount_table *t, const char *p)
{
	size_t n = strlen(p);
	for (size_t i = 0; i < t->n; i++)
		if (strncmp(t->path[i], p, n) == 0 && t->path[i][n] == '/')
			return 1;
	return 0;
}

// add_exec grants execute on the read-only root: beneath every entry of dir that is
// neither a mount point nor an ancestor of one, descending into the ancestors (a rule on
// "/" itself would reach into every mount below it).
static void add_exec(const struct ruleset *rs, const struct mount_table *t, const char *dir)
{
	int fd = open_exact(dir, O_RDONLY | O_DIRECTORY);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return; // unreadable, or a symlink: nothing executable there
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || e->d_type == DT_LNK)
			continue;
		char p[PATH_MAX];
		int n = snprintf(p, sizeof(p), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(p))
			die("path too long beneath %s", dir);
		if (is_mount(t, p))
			continue;
		if (holds_mount(t, p)) {
			int isdir = e->d_type == DT_DIR;
			if (e->d_type == DT_UNKNOWN) {
				struct stat st;
				isdir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
			}
			if (isdir)
				add_exec(rs, t, p);
			continue;
		}
		add_rule(rs, p, LL_EXECUTE);
	}
	closedir(d);
}

// add_passed_files grants each regular file the caller passed to the workload (runc's
// --preserve-fds, $LISTEN_FDS: every descriptor above stdio still open here, libcontainer
// closing its own on exec) what its descriptor was opened for, on that file alone: a
// workload may then reopen it by /proc/self/fd/N, as programs given a file name of that
// form do, and gains nothing its descriptor does not already give. A passed directory
// gets nothing beneath it (a leaked directory descriptor is how CVE-2024-21626 reached
// the host), nor does an O_PATH descriptor, which carries no access.
static void add_passed_files(const struct ruleset *rs)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		die("open /proc/self/fd: %s", strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name || fd <= STDERR_FILENO || fd == dirfd(d) || fd > INT_MAX)
			continue;
		int flags = fcntl((int)fd, F_GETFL);
		struct stat st;
		if (flags < 0 || (flags & O_PATH) || fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		uint64_t rights = 0;
		if ((flags & O_ACCMODE) != O_WRONLY)
			rights |= LL_READ_FILE;
		if ((flags & O_ACCMODE) != O_RDONLY)
			rights |= LL_WRITE_FILE | LL_TRUNCATE;
		rights &= rs->handled;
		struct ll_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = (int32_t)fd};
		if (rights != 0 && syscall(SYS_landlock_add_rule, rs->fd, LL_RULE_PATH_BENEATH, &attr, 0) < 0)
			die("landlock_add_rule for descriptor %ld: %s", fd, strerror(errno));
	}
	closedir(d);
}

// struct filter_header precedes the BPF program in the seccomp setting (protocol.go:
// EncodeFilter writes it, CheckFilter checks it as parse_filter does).
struct filter_header {
	uint32_t flags;
	uint32_t len;
};

struct filter {
	struct filter_header h;
	struct sock_filter *insns;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

// parse_filter decodes the filter from its hexadecimal setting: the header, then the
// program, whose length the header must give exactly.
static void parse_filter(const char *hex, struct filter *f)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 < sizeof(f->h) || n / 2 > sizeof(f->h) + BPF_MAXINSNS * sizeof(struct sock_filter))
		die("seccomp filter: bad size (%zu hexadecimal digits)", n);
	unsigned char *buf = xrealloc(NULL, n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			die("seccomp filter: not hexadecimal");
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(&f->h, buf, sizeof(f->h));
	if (f->h.len == 0 || sizeof(f->h) + (size_t)f->h.len * sizeof(struct sock_filter) != n / 2)
		die("seccomp filter: %u instructions in %zu bytes", f->h.len, n / 2);
	f->insns = (struct sock_filter *)(buf + sizeof(f->h));
}

// look_path finds file as Go's exec.LookPath does, and as protocol.go's LookPath, which
// the runtime checks with before the container starts (TestLookPathSameOnBothSides holds
// both to one table): a name with a slash is used as is, otherwise the first executable
// non-directory in $PATH (an empty entry is "."), and a match relative to the working
// directory is an error.
static const char *look_path(const char *file, char *buf, size_t size)
{
	if (strchr(file, '/') != NULL)
		return file;
	const char *path = getenv("PATH");
	if (path != NULL && *path == '\0')
		path = NULL; // an empty $PATH has no entries, not one empty one
	for (const char *p = path; p != NULL && *file != '\0';) {
		const char *end = strchr(p, ':');
		int len = end != NULL ? (int)(end - p) : (int)strlen(p);
		int n = len == 0 ? snprintf(buf, size, "./%s", file) : snprintf(buf, size, "%.*s/%s", len, p, file);
		struct stat st;
		if (n > 0 && (size_t)n < size && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0) {
			if (buf[0] != '/')
				die_exec(126, "exec: \"%s\": cannot run executable found relative to current directory", file);
			return buf;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	die_exec(127, "exec: \"%s\": executable file not found in $PATH", file);
	return NULL;
}

// offer_listener tells the monitor, over conn, where the filter's listener will be: this
// process (a pidfd of it) and the descriptor number the listener will get, the lowest
// free one once the pidfd is closed, which is the pidfd's own. After this no descriptor
// may be opened or closed until the filter is installed. It returns that number.
static int offer_listener(int conn)
{
	if (fcntl(conn, F_SETFD, FD_CLOEXEC) < 0)
		die("monitor connection: %s", strerror(errno));
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self < 0)
		die("pidfd_open: %s", strerror(errno));
	int32_t number = self;
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = &number, .iov_len = sizeof(number)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &self, sizeof(int));
	if (sendmsg(conn, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(number))
		die("sending to the container's monitor: %s", strerror(errno));
	close(self);
	return number;
}

// announce_filter tells the monitor the filter is installed, so that it takes the
// listener at once rather than at its next look. The send is the first syscall under the
// filter, which the runtime asks for ("announce") only when the filter allows it as it is
// (monitor.AnnounceAllowed): never a denial to audit, nor a kill. Its outcome changes
// nothing (await_monitor follows), and a monitor that found the listener first may have
// closed the connection already: no SIGPIPE then.
static void announce_filter(int conn)
{
	char installed = 1;
	ssize_t n;
	do
		n = send(conn, &installed, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
}

// await_monitor waits until the monitor holds the listener: its acknowledgement, or any
// answer to a notified read (the filter may deny read: only the monitor can answer it,
// and only once it holds the listener). End of file means the monitor is gone.
static void await_monitor(int conn)
{
	char ack;
	ssize_t n;
	do
		n = read(conn, &ack, 1);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		die("the container's monitor went away before taking the seccomp listener");
}

static int parse_int(const char *s, const char *setting)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
		die("bad setting \"%s\"", setting);
	return (int)v;
}

// caps are a process' capability sets as masks (bit N: capability N).
struct caps {
	uint64_t bounding, permitted, effective, inheritable, ambient;
};

// parse_caps reads "caps=B,P,E,I,A" (hexadecimal masks).
static void parse_caps(const char *s, const char *setting, struct caps *c)
{
	uint64_t *sets[] = {&c->bounding, &c->permitted, &c->effective, &c->inheritable, &c->ambient};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 16);
		char want = i + 1 < sizeof(sets) / sizeof(sets[0]) ? ',' : '\0';
		if (errno != 0 || end == s || *end != want)
			die("bad setting \"%s\"", setting);
		*sets[i] = v;
		s = end + 1;
	}
}

// set_caps leaves the process what c allows of what it holds, from a superset that
// includes CAP_SETPCAP: the bounding set first (dropping needs CAP_SETPCAP), then the
// ambient set cleared; permitted and effective become c's sets within what the process
// holds (a process of another user than root holds only its ambient capabilities after
// its execve, as the workload will after its own), inheritable becomes c's; then the
// ambient set is raised. The workload's execve computes its sets from these as it would
// have from libcontainer's.
static void set_caps(const struct caps *c)
{
	for (int cap = 0; cap < 64; cap++) {
		if (c->bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; // beyond the kernel's last capability
			die("drop capability %d from the bounding set: %s", cap, strerror(errno));
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die("clear the ambient capabilities: %s", strerror(errno));
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct cur[2];
	if (syscall(SYS_capget, &hdr, cur) < 0)
		die("capget: %s", strerror(errno));
	uint64_t held = (uint64_t)cur[0].permitted | (uint64_t)cur[1].permitted << 32;
	uint64_t permitted = c->permitted & held, effective = c->effective & permitted;
	struct __user_cap_data_struct data[2] = {
		{.effective = (uint32_t)effective, .permitted = (uint32_t)permitted, .inheritable = (uint32_t)c->inheritable},
		{.effective = (uint32_t)(effective >> 32), .permitted = (uint32_t)(permitted >> 32), .inheritable = (uint32_t)(c->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset: %s", strerror(errno));
	for (int cap = 0; cap < 64; cap++) {
		if ((c->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die("raise ambient capability %d: %s", cap, strerror(errno));
	}
}

// add_image_volumes grants read+execute beneath each image volume: only a read-only
// mount point of the table qualifies (a path that is not one gets nothing).
static void add_image_volumes(const struct ruleset *rs, const struct mount_table *t, char **paths, int n)
{
	for (int i = 0; i < n; i++)
		for (size_t m = 0; m < t->n; m++)
			if (t->readonly[m] && strcmp(t->path[m], paths[i]) == 0) {
				add_rule(rs, paths[i], LL_READ | LL_EXECUTE);
				break;
			}
}

// path_list is a repeated setting's values.
struct path_list {
	char **path;
	int n;
};

static void path_list_add(struct path_list *l, char *p)
{
	l->path = xrealloc(l->path, (size_t)(l->n + 1) * sizeof(char *));
	l->path[l->n++] = p;
}

static void add_rules(const struct ruleset *rs, const struct path_list *l, uint64_t rights)
{
	for (int i = 0; i < l->n; i++)
		add_rule(rs, l->path[i], rights);
}

static void launch(int argc, char **argv)
{
	struct path_list exec_allow = {0}, read_allow = {0}, write_allow = {0};
	int min_abi = 1, exec_writable = 0, root_writable = 0, make_devices = 0, keep_privs = 0, have_caps = 0, i;
	int notify_fd = -1, announce = 0;
	char **image_volumes = NULL;
	int n_image_volumes = 0;
	struct caps caps = {0};
	struct filter filter = {.insns = NULL};
	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "abi=", 4) == 0)
			min_abi = parse_int(argv[i] + 4, argv[i]);
		else if (strcmp(argv[i], "exec-writable") == 0)
			exec_writable = 1;
		else if (strcmp(argv[i], "root-writable") == 0)
			root_writable = 1;
		else if (strcmp(argv[i], "make-devices") == 0)
			make_devices = 1;
		else if (strcmp(argv[i], "keep-privs") == 0)
			keep_privs = 1;
		else if (strcmp(argv[i], "announce") == 0)
			announce = 1;
		else if (strncmp(argv[i], "caps=", 5) == 0 && !have_caps) {
			parse_caps(argv[i] + 5, argv[i], &caps);
			have_caps = 1;
		}
		else if (strncmp(argv[i], "seccomp=", 8) == 0 && filter.insns == NULL)
			parse_filter(argv[i] + 8, &filter);
		else if (strncmp(argv[i], "notify-fd=", 10) == 0 && notify_fd < 0) {
			notify_fd = parse_int(argv[i] + 10, argv[i]);
			if (notify_fd < 3)
				die("bad setting \"%s\"", argv[i]);
		}
		else if (strncmp(argv[i], "exec-allow=/", 12) == 0)
			path_list_add(&exec_allow, argv[i] + 11);
		else if (strncmp(argv[i], "read-allow=/", 12) == 0)
			path_list_add(&read_allow, argv[i] + 11);
		else if (strncmp(argv[i], "write-allow=/", 13) == 0)
			path_list_add(&write_allow, argv[i] + 12);
		else if (strncmp(argv[i], "image-volume=/", 14) == 0) {
			image_volumes = xrealloc(image_volumes, (size_t)(n_image_volumes + 1) * sizeof(char *));
			image_volumes[n_image_volumes++] = argv[i] + 13;
		}
		else
			die("unknown setting \"%s\"", argv[i]);
	}
	if (i + 1 >= argc)
		die("no command");
	if (keep_privs != have_caps)
		die("keep-privs and caps= go together");
	if ((notify_fd >= 0) != (filter.insns != NULL && (filter.h.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0))
		die("notify-fd= goes with a seccomp= filter that notifies");
	if (announce && notify_fd < 0)
		die("announce goes with notify-fd=");
	char **cmd = &argv[i + 1];

	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 0)
		abi = 0;
	if (abi < min_abi)
		die("Landlock ABI %ld is below the required %d: refusing to run unconfined", abi, min_abi);

	struct mount_table mounts = {0};
	read_mounts(&mounts);
	struct ll_ruleset_attr attr = {.handled_access_fs = handled_rights((int)abi)};
	// ABI < 4 knows only handled_access_fs.
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		die("landlock_create_ruleset: %s", strerror(errno));
	struct ruleset rs = {.fd = fd, .handled = attr.handled_access_fs};
	// Execute stays limited to the root's own entries (add_exec), writable or not, or to
	// the exec allow-list.
	uint64_t write = LL_WRITE | (make_devices ? LL_MAKE_CHAR | LL_MAKE_BLOCK : 0);
	uint64_t root = read_allow.n > 0 ? LL_READ_DIR : LL_READ;
	if (root_writable && write_allow.n == 0)
		root |= write;
	add_rule(&rs, "/", root);
	for (size_t m = 0; m < mounts.n; m++) {
		if (strcmp(mounts.path[m], "/") == 0)
			continue;
		if (mounts.readonly[m]) {
			// Readable through "/", or, with a read allow-list (which narrows only the
			// root's own files), by a rule of its own; never writable nor executable.
			if (read_allow.n > 0)
				add_rule(&rs, mounts.path[m], LL_READ);
			continue;
		}
		uint64_t rights = LL_READ | (write_allow.n > 0 ? 0 : write);
		if (strcmp(mounts.path[m], "/dev") == 0 || strncmp(mounts.path[m], "/dev/", 5) == 0)
			rights |= LL_IOCTL_DEV;
		if (exec_writable && exec_allow.n == 0)
			rights |= LL_EXECUTE;
		add_rule(&rs, mounts.path[m], rights);
	}
	if (exec_allow.n == 0) {
		add_exec(&rs, &mounts, "/");
		add_image_volumes(&rs, &mounts, image_volumes, n_image_volumes);
	}
	add_rules(&rs, &exec_allow, LL_EXECUTE | LL_READ);
	add_rules(&rs, &read_allow, LL_READ);
	add_rules(&rs, &write_allow, LL_READ | write);
	add_passed_files(&rs);
	// Without keep-privs, no_new_privs lets an unprivileged process confine itself; with
	// it, the runtime handed the launcher CAP_SYS_ADMIN (set_caps takes it away).
	if (!keep_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs: %s", strerror(errno));
	if (syscall(SYS_landlock_restrict_self, rs.fd, 0) < 0)
		die("landlock_restrict_self: %s", strerror(errno));
	close(rs.fd);

	char buf[PATH_MAX];
	const char *path = look_path(cmd[0], buf, sizeof(buf));
	if (filter.insns != NULL) {
		struct sock_fprog prog = {.len = (unsigned short)filter.h.len, .filter = filter.insns};
		int want = notify_fd >= 0 ? offer_listener(notify_fd) : -1;
		long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.h.flags, &prog);
		if (listener < 0)
			die("seccomp: %s", strerror(errno));
		if (notify_fd >= 0) {
			if (listener != want)
				die("seccomp listener is descriptor %ld, not %d", listener, want);
			if (announce)
				announce_filter(notify_fd);
			await_monitor(notify_fd);
		}
	}
	if (keep_privs)
		set_caps(&caps);
	execve(path, cmd, environ);
	int err = errno;
	char msg[128];
	die_exec(err == ENOENT ? 127 : 126, "exec %s: %s", path, go_strerror(err, msg, sizeof(msg)));
}

// yoroi_launcher runs before main (and before the Go runtime) in every process of this
// binary; it takes over only when the first argument names the launcher.
__attribute__((constructor)) static void yoroi_launcher(int argc, char **argv, char **envp)
{
	(void)envp;
	if (yoroi_mainargs(&argc, &argv) < 0 || argc < 2 || strcmp(argv[1], launcher_arg) != 0)
		return;
	launch(argc - 2, argv + 2);
}
