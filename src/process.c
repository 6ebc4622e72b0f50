#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t child_pid = -1;
static volatile sig_atomic_t interrupted = 0;

/* A signal the terminal generated (si_code SI_KERNEL) already reached the
 * command, which shares our process group: forwarding it would deliver it
 * twice (and a second ^C means "force quit" to many tools). Only signals
 * sent to wtbox itself, by kill(2) and friends, are passed on. */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	if (child_pid > 0) {
		if (info->si_code <= 0)
			kill(child_pid, sig);
	} else if (interrupted == 0 && sig != SIGWINCH && sig != SIGUSR1 && sig != SIGUSR2) {
		/* Before the command starts (or after it ended): remember the
		 * request; the run skips the command and still cleans up. */
		interrupted = sig;
	}
}

int process_become_subreaper(wtb_error **err)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return wtb_error_errno(err, "cannot become the reaper of the agent's processes");
	return 0;
}

int process_exit_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return WTB_EXIT_ERROR;
}

static const int forwarded[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

void process_trap_signals(void)
{
	struct sigaction fwd = {.sa_sigaction = forward_signal,
				.sa_flags = SA_RESTART | SA_SIGINFO};

	sigfillset(&fwd.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &fwd, NULL);
}

int process_interrupted(void)
{
	return interrupted;
}

/* Child side: only async-signal-safe calls between fork and exec. */
static _Noreturn void exec_child(const wtb_spawn *s, int report_fd, const sigset_t *oldmask)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int e;

	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &dfl, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (chdir(s->cwd) < 0) {
		e = errno;
	} else {
		execvpe(s->argv[0], s->argv, s->envp);
		e = errno;
	}
	/* The parent reads errno from the pipe; close-on-exec tells it that
	 * exec succeeded when nothing arrives. */
	(void)!write(report_fd, &e, sizeof(e));
	_exit(127);
}

static int read_exec_errno(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

int process_run(const wtb_spawn *s, int *status, wtb_error **err)
{
	sigset_t all, oldmask;
	int pipefd[2];
	int ws, exec_errno;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return wtb_error_errno(err, "cannot create pipe");
	/* Block signals across fork so the handler never sees a stale pid. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &oldmask);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(pipefd[0]);
		close(pipefd[1]);
		return wtb_error_errno(err, "cannot fork");
	}
	if (pid == 0)
		exec_child(s, pipefd[1], &oldmask);
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(pipefd[1]);
	exec_errno = read_exec_errno(pipefd[0]);
	close(pipefd[0]);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	child_pid = -1;
	if (exec_errno != 0) {
		*status = exec_errno == ENOENT ? WTB_EXIT_NOTFOUND : WTB_EXIT_NOEXEC;
		wtb_error_set(err, exec_errno, "cannot run '%s'", s->argv[0]);
		(*err)->status = *status;
		return -1;
	}
	*status = process_exit_status(ws);
	return 0;
}

/* Parent pid of `pid` from /proc/PID/stat, -1 if gone. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

int process_count_descendants(void)
{
	pid_t self = getpid();
	pid_t *pids = NULL, *ppids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int count = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			pids = xrealloc(pids, cap * sizeof(*pids));
			ppids = xrealloc(ppids, cap * sizeof(*ppids));
		}
		pids[n] = (pid_t)pid;
		ppids[n] = parent_of((pid_t)pid);
		n++;
	}
	closedir(d);
	/* Orphans are re-parented to this subreaper, but a child of a living
	 * orphan still hangs below it: walk the tree, not just one level. */
	{
		bool *mine = xcalloc(n, sizeof(bool));
		bool grew = true;

		while (grew) {
			grew = false;
			for (size_t i = 0; i < n; i++) {
				if (mine[i])
					continue;
				bool child = ppids[i] == self;

				for (size_t j = 0; j < n && !child; j++)
					child = mine[j] && ppids[i] == pids[j];
				if (child) {
					mine[i] = true;
					count++;
					grew = true;
				}
			}
		}
		free(mine);
	}
	free(pids);
	free(ppids);
	return count;
}
