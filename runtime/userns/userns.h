#ifndef YOROI_USERNS_H
#define YOROI_USERNS_H

// yoroi_userns_holder starts a process in a new user namespace that shares the caller's
// memory and only waits to be killed, and gives its pid and a pidfd; 0 or -errno.
int yoroi_userns_holder(int *pid, int *pidfd, void **stack);

// yoroi_userns_free releases the holder's stack once the holder has been reaped.
void yoroi_userns_free(void *stack);

// YOROI_MAPS_SIZE bounds each of the maps read (340 lines of the kernel's at most).
#define YOROI_MAPS_SIZE 16384

// yoroi_userns_maps is what yoroi_userns_maps reads of the user namespace at fd.
struct yoroi_userns_maps {
	int fd;
	int err;
	char uid[YOROI_MAPS_SIZE];
	long uid_len;
	char gid[YOROI_MAPS_SIZE];
	long gid_len;
};

// yoroi_userns_maps reads the uid and gid maps of the user namespace m->fd from a process
// that joins it; 0 or -errno.
int yoroi_userns_maps(struct yoroi_userns_maps *m);

#endif
