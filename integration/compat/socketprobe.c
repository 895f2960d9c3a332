/*
 * socketprobe creates sockets from a compat ABI process (built with -m32 or -mx32), through
 * the direct socket call and, where the ABI has it, through socketcall: the 32-bit
 * multiplexer whose arguments seccomp cannot see. One line per probe: its name and the
 * errno it got (0: the socket was created).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { af_unix = 1, af_inet = 2, af_netlink = 16, af_alg = 38, af_vsock = 40 };
enum { sock_stream = 1, sock_raw = 3, sock_seqpacket = 5 };

static int direct(long family, long type, long protocol)
{
	return syscall(SYS_socket, family, type, protocol) < 0 ? errno : 0;
}

#ifdef SYS_socketcall
static int multiplexed(long family, long type, long protocol)
{
	long args[3] = { family, type, protocol };
	return syscall(SYS_socketcall, 1 /* SYS_SOCKET */, args) < 0 ? errno : 0;
}
#endif

int main(void)
{
	printf("socket(unix) %d\n", direct(af_unix, sock_stream, 0));
	printf("socket(inet) %d\n", direct(af_inet, sock_stream, 0));
	printf("socket(netlink route) %d\n", direct(af_netlink, sock_raw, 0));
	printf("socket(vsock) %d\n", direct(af_vsock, sock_stream, 0));
	printf("socket(alg) %d\n", direct(af_alg, sock_seqpacket, 0));
	printf("socket(netlink netfilter) %d\n", direct(af_netlink, sock_raw, 12));
#ifdef SYS_socketcall
	printf("socketcall(unix) %d\n", multiplexed(af_unix, sock_stream, 0));
	printf("socketcall(vsock) %d\n", multiplexed(af_vsock, sock_stream, 0));
	printf("socketcall(alg) %d\n", multiplexed(af_alg, sock_seqpacket, 0));
	printf("socketcall(netlink route) %d\n", multiplexed(af_netlink, sock_raw, 0));
#endif
	return 0;
}
