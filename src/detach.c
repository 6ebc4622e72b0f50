#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"
#include "util.h"

#define UP_WORD "up\n"
/* The summary is a few lines; more is not the child speaking. */
#define UP_MAX 65536

/* In the caller: everything the child sends, until it closes. ^C (or
 * SIGTERM, SIGQUIT) while the child is still starting the run is the
 * child's: it does not start the command, or passes the signal on to
 * it, and ends the run as a foreground run would. A hangup is not passed
 * on: the child is made to outlive the caller's terminal. */
static int caller_wait(int sock, pid_t child, int *status)
{
	static const int passed_on[] = {SIGINT, SIGTERM, SIGQUIT};
	_cleanup_free_ char *buf = xmalloc(UP_MAX + 1);
	struct pollfd p = {.fd = sock, .events = POLLIN};
	sigset_t stops, old;
	/* One that came before the fork, the child has as well. */
	bool passed = process_interrupted() != 0;
	size_t len = 0;
	ssize_t n;
	int ws;

	sigemptyset(&stops);
	for (size_t i = 0; i < ARRAY_SIZE(passed_on); i++)
		sigaddset(&stops, passed_on[i]);
	sigprocmask(SIG_BLOCK, &stops, &old);
	for (;;) {
		int sig = process_interrupted();

		/* Looked at with the signals blocked, waited for with them
		 * open: none is missed between the two. */
		if (sig != 0 && sig != SIGHUP && !passed) {
			kill(child, sig);
			passed = true;
		}
		if (ppoll(&p, 1, NULL, &old) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = read(sock, buf + len, UP_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == UP_MAX)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	buf[len] = '\0';
	if (str_has_prefix(buf, UP_WORD)) {
		fputs(buf + strlen(UP_WORD), stdout);
		*status = 0;
		return 1;
	}
	/* The child said why on the caller's stderr, which it still had. */
	while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(ws))
		fprintf(stderr,
			"wtbox: the agent's supervisor died before its command started "
			"(signal %d)\n",
			WTERMSIG(ws));
	*status = WIFEXITED(ws) && WEXITSTATUS(ws) != 0 ? WEXITSTATUS(ws) : WTB_EXIT_ERROR;
	return 1;
}

int detach_start(wtb_detach *d, int *child_only, int *status, wtb_error **err)
{
	_cleanup_close_ int null = -1;
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return wtb_error_errno(err, "cannot start a detached run");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pair[0]);
		close(pair[1]);
		return wtb_error_errno(err, "cannot start a detached run");
	}
	if (pid > 0) {
		_cleanup_close_ int sock = pair[0];

		close(pair[1]);
		closep(child_only);
		return caller_wait(sock, pid, status);
	}
	close(pair[0]);
	d->on = true;
	d->sock = pair[1];
	/* Its own session: no terminal, so no SIGHUP when the caller's
	 * terminal closes, and no ^C of the caller's shell. */
	setsid();
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0)
		return wtb_error_errno(err, "cannot open '/dev/null'");
	return 0;
}

static void log_header(char *const *argv)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "wtbox: %s: run started (supervisor pid %d):", when, (int)getpid());
	for (char *const *a = argv; *a != NULL; a++)
		fprintf(stderr, " %s", *a);
	fputc('\n', stderr);
}

int detach_redirect(wtb_detach *d, const char *log, char *const *argv, wtb_error **err)
{
	_cleanup_close_ int fd = -1;

	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return wtb_error_errno(err, "cannot open log '%s'", log);
	fflush(stdout);
	d->caller_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	d->caller_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (d->caller_out < 0 || d->caller_err < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0) {
		wtb_error_errno(err, "cannot write to log '%s'", log);
		detach_restore(d);
		return -1;
	}
	log_header(argv);
	return 0;
}

void detach_restore(wtb_detach *d)
{
	if (d->up || d->caller_out < 0)
		return;
	fflush(stdout);
	dup2(d->caller_out, STDOUT_FILENO);
	dup2(d->caller_err, STDERR_FILENO);
	closep(&d->caller_out);
	closep(&d->caller_err);
}

void detach_up(wtb_detach *d, const char *summary)
{
	_cleanup_free_ char *msg = xasprintf("%s%s", UP_WORD, summary);

	if (!d->on || d->up)
		return;
	/* A caller that is gone (^C) changes nothing: the run goes on. */
	(void)!send(d->sock, msg, strlen(msg), MSG_NOSIGNAL);
	d->up = true;
	detach_close(d);
}

void detach_close(wtb_detach *d)
{
	closep(&d->sock);
	closep(&d->caller_out);
	closep(&d->caller_err);
}
