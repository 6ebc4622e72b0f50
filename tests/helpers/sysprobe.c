/* sysprobe: makes system calls with harmless bad arguments and reports how
 * each failed, to tell a seccomp filter's answer from the kernel's.
 *
 *   sysprobe CALL...     one line CALL=RESULT per call, in order
 *   sysprobe CALL*N      CALL N times (at most 10^9), one line CALL*N=RESULT:
 *                        the first result that differs from the first
 *                        call's, else the first call's
 *   sysprobe list        the calls it knows, one per line
 *
 * RESULT is `ok` when the call succeeded, else the errno's name (EPERM,
 * ENOSYS, EFAULT...). Without a filter every call below fails with an
 * error of the kernel's (EBADF, EFAULT, EINVAL, ESRCH, EOPNOTSUPP) or
 * succeeds harmlessly; under a filter that denies it, with the policy's
 * errno. The i386_* calls are made with `int $0x80` (the 32-bit ABI) from
 * this 64-bit process, x32_* with bit 30 of the number set: a filter that
 * only knew x86_64 would let them through.
 *
 * Exit status: 0, or 2 on an unknown call. Plain C, static, no project
 * headers: it runs inside any sandbox. */
#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define BADPTR ((void *)1)

static long sys(long nr, long a, long b, long c, long d, long e)
{
	return syscall(nr, a, b, c, d, e, 0L);
}

#if defined(__x86_64__)
/* A system call through the i386 entry point: 32-bit number and
 * arguments, result in eax. */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#define X32_BIT 0x40000000L
#endif

static long call(const char *name)
{
	if (strcmp(name, "keyctl") == 0)
		return sys(SYS_keyctl, -1, 0, 0, 0, 0);
	if (strcmp(name, "add_key") == 0)
		return sys(SYS_add_key, 0, 0, 0, 0, 0);
	if (strcmp(name, "request_key") == 0)
		return sys(SYS_request_key, 0, 0, 0, 0, 0);
	if (strcmp(name, "perf_event_open") == 0)
		return sys(SYS_perf_event_open, 0, 0, -1, -1, 0);
	if (strcmp(name, "io_uring_setup") == 0)
		return sys(SYS_io_uring_setup, 1, 0, 0, 0, 0);
	if (strcmp(name, "mount") == 0)
		return sys(SYS_mount, 0, 0, 0, 0, 0);
	if (strcmp(name, "umount2") == 0)
		return sys(SYS_umount2, 0, 0, 0, 0, 0);
	if (strcmp(name, "unshare") == 0)
		return sys(SYS_unshare, -1, 0, 0, 0, 0);
	if (strcmp(name, "setns") == 0)
		return sys(SYS_setns, -1, 0, 0, 0, 0);
	/* CLONE_NEWUSER with CLONE_FS is refused by the kernel: no child. */
	if (strcmp(name, "clone_newuser") == 0)
		return sys(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0);
	if (strcmp(name, "clone_newns") == 0)
		return sys(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0);
	if (strcmp(name, "clone3") == 0)
		return sys(SYS_clone3, 0, 0, 0, 0, 0);
	if (strcmp(name, "clock_settime") == 0)
		return sys(SYS_clock_settime, -1, 0, 0, 0, 0);
	if (strcmp(name, "settimeofday") == 0)
		return sys(SYS_settimeofday, (long)BADPTR, 0, 0, 0, 0);
	if (strcmp(name, "personality_query") == 0)
		return sys(SYS_personality, 0xffffffffL, 0, 0, 0, 0);
	if (strcmp(name, "personality_linux32") == 0)
		return sys(SYS_personality, PER_LINUX32, 0, 0, 0, 0);
	if (strcmp(name, "personality_norandom") == 0)
		return sys(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, 0, 0);
	if (strcmp(name, "ioctl_tiocsti") == 0)
		return sys(SYS_ioctl, -1, TIOCSTI, (long)"x", 0, 0);
	/* The kernel reads the request as 32 bits: so must the filter. */
	if (strcmp(name, "ioctl_tiocsti_high") == 0)
		return sys(SYS_ioctl, -1, 0x100000000L | TIOCSTI, (long)"x", 0, 0);
	if (strcmp(name, "ioctl_tioclinux") == 0)
		return sys(SYS_ioctl, -1, TIOCLINUX, (long)"x", 0, 0);
	if (strcmp(name, "ioctl_tcgets") == 0)
		return sys(SYS_ioctl, -1, TCGETS, 0, 0, 0);
	if (strcmp(name, "ptrace") == 0)
		return sys(SYS_ptrace, PTRACE_PEEKDATA, -1, 0, 0, 0);
	if (strcmp(name, "socket_unix") == 0)
		return sys(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0);
	if (strcmp(name, "socket_inet6") == 0)
		return sys(SYS_socket, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0);
	if (strcmp(name, "socket_netlink") == 0)
		return sys(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0, 0, 0);
	if (strcmp(name, "socket_vsock") == 0)
		return sys(SYS_socket, AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0);
	if (strcmp(name, "getpid") == 0)
		return sys(SYS_getpid, 0, 0, 0, 0, 0);
#if defined(__x86_64__)
	/* i386 numbers: getpid 20, mount 21, keyctl 288, unshare 310. */
	if (strcmp(name, "i386_getpid") == 0)
		return int80(20, 0, 0, 0);
	if (strcmp(name, "i386_keyctl") == 0)
		return int80(288, -1, 0, 0);
	if (strcmp(name, "i386_unshare") == 0)
		return int80(310, -1, 0, 0);
	if (strcmp(name, "i386_mount") == 0)
		return int80(21, 0, 0, 0);
	if (strcmp(name, "x32_getpid") == 0)
		return sys(X32_BIT | SYS_getpid, 0, 0, 0, 0, 0);
	if (strcmp(name, "x32_keyctl") == 0)
		return sys(X32_BIT | SYS_keyctl, -1, 0, 0, 0, 0);
	if (strcmp(name, "x32_unshare") == 0)
		return sys(X32_BIT | SYS_unshare, -1, 0, 0, 0, 0);
#endif
	errno = 0;
	return -2;
}

static const char *const calls[] = {
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "io_uring_setup",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "clone_newuser",
    "clone_newns",
    "clone3",
    "clock_settime",
    "settimeofday",
    "personality_query",
    "personality_linux32",
    "personality_norandom",
    "ioctl_tiocsti",
    "ioctl_tiocsti_high",
    "ioctl_tioclinux",
    "ioctl_tcgets",
    "ptrace",
    "socket_unix",
    "socket_inet6",
    "socket_netlink",
    "socket_vsock",
    "getpid",
    "i386_getpid",
    "i386_keyctl",
    "i386_unshare",
    "i386_mount",
    "x32_getpid",
    "x32_keyctl",
    "x32_unshare",
};

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			printf("%s\n", calls[i]);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		char name[64];
		char *star = strchr(argv[i], '*');
		long r, times = 1;

		snprintf(name, sizeof(name), "%.*s", star ? (int)(star - argv[i]) : 63, argv[i]);
		if (star != NULL) {
			char *end;

			times = strtol(star + 1, &end, 10);
			if (*end != '\0' || times < 1 || times > 1000000000L) {
				fprintf(stderr, "sysprobe: bad count in '%s'\n", argv[i]);
				return 2;
			}
		}
		errno = 0;
		r = call(name);
		if (r == -2 && errno == 0) {
			fprintf(stderr, "sysprobe: unknown call '%s'\n", name);
			return 2;
		}
		for (long k = 1; k < times; k++) {
			int first = r < 0 ? errno : 0;
			long again;

			errno = 0;
			again = call(name);
			if ((again < 0 ? errno : 0) != first) {
				r = again;
				break;
			}
			errno = first;
		}
		if (r >= 0)
			printf("%s=ok\n", argv[i]);
		else
			printf("%s=%s\n", argv[i],
			       strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		/* A personality that worked is put back. */
		if (strncmp(argv[i], "personality_", 12) == 0 && r >= 0)
			personality(PER_LINUX);
	}
	return 0;
}
