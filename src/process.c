#include "process.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t interrupted = 0;

/* Outside the sandbox's run (which reads signals from a signalfd), a stop
 * signal is only remembered: the run then skips the command, or finishes
 * what it does, and still cleans up. */
static void remember_signal(int sig)
{
	if (interrupted == 0)
		interrupted = sig;
}

int process_exit_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return WTB_EXIT_ERROR;
}

void process_trap_signals(void)
{
	static const int stops[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
	struct sigaction sa = {.sa_handler = remember_signal, .sa_flags = SA_RESTART};

	/* Children are waited for: an inherited "ignore SIGCHLD" would have
	 * the kernel reap them behind wtbox's back. */
	signal(SIGCHLD, SIG_DFL);
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(stops); i++) {
		struct sigaction old;

		/* SIGHUP ignored at start (nohup) stays ignored. */
		if (stops[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(stops[i], &sa, NULL);
	}
}

int process_interrupted(void)
{
	return interrupted;
}

int process_open_verified(pid_t pid, uint64_t start)
{
	int fd;

	if (pid <= 0 || start == 0 || proc_start_time(pid) != start) {
		errno = ESRCH;
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/* Checked again after the open: if the pid still names the process
	 * that started at `start`, the pidfd names it too. */
	if (proc_start_time(pid) != start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

bool process_wait_gone(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	uint64_t end = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)(end > now_ms() ? end - now_ms() : 0);
		int n = poll(&p, 1, left);

		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
}

int process_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}
