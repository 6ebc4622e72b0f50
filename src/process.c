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

static volatile sig_atomic_t interrupted = 0;

/* Outside the sandbox's run (which reads signals from a signalfd), a stop
 * signal is only remembered: the run then skips the command, or finishes
 * what it does, and still cleans up. */
static void remember_signal(int sig)
{
	if (interrupted == 0)
		interrupted = sig;
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
