#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* The child's heap: enough for any status or object a repository of
 * source code has, far below what would push the host into swap. Packs
 * that libgit2 maps read-only are not data and do not count. */
#define CHILD_DATA_MAX (2ULL << 30)
#define REPLY_MAX      (512u << 20)

static _Noreturn void child_main(pid_t parent, int fd, wtb_child_fn fn, void *arg)
{
	wtb_error *err = NULL;
	FILE *f;

	/* The parent may have died before the prctl: then nobody waits. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
	    (f = fdopen(fd, "w")) == NULL)
		_exit(1);
	/* A SIGBUS is what it is here for: no core file of up to 2 GiB in
	 * the user's directory. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
#ifndef __SANITIZE_ADDRESS__
	/* The sanitizer's shadow memory counts as data: no cap there (its
	 * allocator has its own, set in main.c). */
	setrlimit(RLIMIT_DATA, &(struct rlimit){CHILD_DATA_MAX, CHILD_DATA_MAX});
#endif
	if (fn(arg, f, &err) < 0) {
		_cleanup_free_ char *msg = wtb_error_text(err);

		reply_put(f, 'E', msg);
	}
	_exit(fclose(f) == 0 ? 0 : 1);
}

/* Read until the child closes the pipe, within `secs`. */
static int read_all(int fd, const wtb_child_opts *o, char **out, size_t *len, wtb_error **err)
{
	/* Clamped: a deadline of more than a year is none. */
	long secs = o->secs < 1 ? 1 : o->secs > 365L * 86400 ? 365L * 86400 : o->secs;
	uint64_t deadline = now_ms() + (uint64_t)secs * 1000;
	size_t cap = 1 << 16;
	ssize_t n;

	*out = xmalloc(cap);
	*len = 0;
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ready;

		if (now >= deadline)
			return wtb_error_set(err, 0, "it took more than %ld s (%s)%s%s", o->secs,
					     o->knob, o->hint ? "; " : "", o->hint ? o->hint : "");
		ready = poll(&p, 1, deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now));
		if (ready < 0 && errno != EINTR)
			return wtb_error_errno(err, "cannot wait for it");
		if (ready <= 0)
			continue;
		if (*len == cap) {
			if (cap >= REPLY_MAX)
				return wtb_error_set(err, 0, "its reply is larger than %u MiB",
						     REPLY_MAX >> 20);
			cap *= 2;
			*out = xrealloc(*out, cap);
		}
		n = read(fd, *out + *len, cap - *len);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return wtb_error_errno(err, "cannot read it");
		if (n == 0)
			return 0;
		if (n > 0)
			*len += (size_t)n;
	}
}

int child_run(wtb_child_fn fn, void *arg, const wtb_child_opts *o, char **reply, size_t *len,
	      wtb_error **err)
{
	int fds[2], ws = 0, r;
	pid_t pid, parent = getpid();

	*reply = NULL;
	*len = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return wtb_error_errno(err, "cannot create a pipe");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return wtb_error_errno(err, "cannot fork");
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(parent, fds[1], fn, arg);
	}
	close(fds[1]);
	r = read_all(fds[0], o, reply, len, err);
	close(fds[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	if (WIFSIGNALED(ws))
		return wtb_error_set(err, 0, "it was killed by signal %d (%s)", WTERMSIG(ws),
				     strsignal(WTERMSIG(ws)));
	if (WEXITSTATUS(ws) != 0)
		return wtb_error_set(err, 0, "it exited with status %d", WEXITSTATUS(ws));
	return 0;
}

void reply_put(FILE *f, char tag, const char *text)
{
	fputc(tag, f);
	fputs(text, f);
	fputc('\0', f);
}

void reply_put_num(FILE *f, char tag, size_t n)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", n);
	reply_put(f, tag, num);
}

int reply_next(const char *buf, size_t len, size_t *at, char *tag, const char **text,
	       wtb_error **err)
{
	const char *rec = buf + *at;
	const char *end;

	if (*at >= len)
		return 0;
	end = memchr(rec, '\0', len - *at);
	if (end == NULL || end == rec)
		return wtb_error_set(err, 0, "its reply is cut short");
	*at = (size_t)(end - buf) + 1;
	if (rec[0] == 'E')
		return wtb_error_set(err, 0, "%s", rec + 1);
	*tag = rec[0];
	*text = rec + 1;
	return 1;
}
