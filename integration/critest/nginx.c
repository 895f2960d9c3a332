/*
 * A stand-in for nginx in the CRI validation suite's images: a master process named
 * nginx (its command line reads "nginx: master process", as nginx sets it) that writes
 * /var/run/nginx.pid and serves a page with busybox's httpd as its worker.
 *   nginx [-p PORT] [ARGS...]    (port 80 unless -p; nginx's own arguments are ignored)
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/*
 * set_title rewrites the process's command line as nginx does: the kernel shows the area
 * of argv's strings, and of the environment's that follow them, as /proc/PID/cmdline.
 * The environment is not used afterwards (the worker has its own copy).
 */
static void set_title(int argc, char **argv, const char *title)
{
	char *end = argv[argc - 1] + strlen(argv[argc - 1]);
	for (char **e = environ; *e != NULL && *e == end + 1; e++)
		end = *e + strlen(*e);
	size_t room = (size_t)(end - argv[0]);
	memset(argv[0], 0, room);
	strncpy(argv[0], title, room);
}

int main(int argc, char **argv)
{
	char port[16];
	snprintf(port, sizeof port, "%s", argc > 2 && strcmp(argv[1], "-p") == 0 ? argv[2] : "80");
	FILE *f = fopen("/var/run/nginx.pid", "w");
	if (f == NULL) {
		perror("/var/run/nginx.pid");
		return 1;
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);
	pid_t worker = fork();
	if (worker < 0) {
		perror("fork");
		return 1;
	}
	if (worker == 0) {
		execl("/bin/busybox", "httpd", "-f", "-p", port, "-h", "/usr/share/nginx/html", (char *)NULL);
		perror("httpd");
		_exit(127);
	}
	set_title(argc, argv, "nginx: master process nginx");
	int status;
	while (waitpid(worker, &status, 0) < 0)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
