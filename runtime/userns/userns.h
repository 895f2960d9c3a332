#ifndef YOROI_USERNS_H
#define YOROI_USERNS_H

// yoroi_userns_holder starts a process in a new user namespace that shares the caller's
// memory and only waits to be killed; 0 or -errno.
int yoroi_userns_holder(int *pid, void **stack);

// yoroi_userns_free releases the holder's stack once the holder has been reaped.
void yoroi_userns_free(void *stack);

#endif
