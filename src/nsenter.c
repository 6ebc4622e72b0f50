#include "nsenter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "channel.h"
#include "filtercache.h"
#include "process.h"
#include "pty.h"
#include "util.h"

extern char **environ;

#define ENV_MAX (1 << 20)

/* Every namespace of the sandbox. With a pidfd, setns() enters them all
 * at once, or none. */
#define NAMESPACES                                                                                 \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | \
	 CLONE_NEWCGROUP)

int agent_env_save(const char *state, char *const *env, wtb_error **err)
{
	_cleanup_free_ char *path = path_join(state, "env");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	for (char *const *e = env; *e != NULL; e++)
		len += strlen(*e) + 1;
	buf = xmalloc(len + 1);
	len = 0;
	for (char *const *e = env; *e != NULL; e++) {
		size_t n = strlen(*e) + 1;

		memcpy(buf + len, *e, n);
		len += n;
	}
	/* Not fsynced: it describes a running sandbox, which a crash ends. */
	return write_file_replace(path, buf, len, 0600, err);
}

int agent_env_load(const char *state, char ***env, wtb_error **err)
{
	_cleanup_free_ char *path = path_join(state, "env");
	_cleanup_free_ char *buf = NULL;
	strv v = {0};
	size_t len = 0;

	if (read_file(path, ENV_MAX, &buf, &len, err) < 0)
		return -1;
	for (size_t i = 0; i < len;) {
		size_t n = strnlen(buf + i, len - i);

		char *one = strndup(buf + i, n);

		if (one == NULL)
			die_oom();
		strv_push(&v, one);
		i += n + 1;
	}
	if (v.v == NULL)
		v.v = xcalloc(1, sizeof(char *));
	*env = v.v;
	return 0;
}

/* In the format of the filter cache, under a key of its own: the file is
 * the agent's, not the cache's, and is never taken for a cache entry. */
static const char agent_filter_key[] = "wtbox agent filter";

int agent_filter_save(const char *state, const wtb_filter *f, wtb_error **err)
{
	_cleanup_free_ char *path = path_join(state, "filter");
	size_t len;
	_cleanup_free_ char *buf =
	    filter_encode(f, agent_filter_key, sizeof(agent_filter_key), &len);

	/* Not fsynced either: a crash ends the sandbox it is for. */
	return write_file_replace(path, buf, len, 0600, err);
}

int agent_filter_load(const char *state, wtb_filter *f, wtb_error **err)
{
	_cleanup_free_ char *path = path_join(state, "filter");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (read_file(path, 1 << 20, &buf, &len, err) < 0)
		return -1;
	if (filter_decode(f, buf, len, agent_filter_key, sizeof(agent_filter_key)) < 0)
		return wtb_error_set(err, EINVAL, "'%s' is not a seccomp filter saved by wtbox",
				     path);
	return 0;
}

void agent_run_files_drop(const char *state)
{
	_cleanup_free_ char *env = path_join(state, "env"), *filter = path_join(state, "filter");

	unlink(env);
	unlink(filter);
}

/* Signals wtbox exec passes on to the command, and SIGCHLD. */
static void exec_signals(sigset_t *set)
{
	static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,  SIGQUIT,
					SIGUSR1, SIGUSR2, SIGWINCH};

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(set, forwarded[i]);
}

/* ------------------------------------------------------------------ */
/* Inside: the command.                                                */

static _Noreturn void command_fail(const char *what, int errnum, int status)
{
	fprintf(stderr, "wtbox: %s: %s\n", what, strerror(errnum));
	_exit(status);
}

/* The same steps, in the same order, as the sandbox's own command
 * (sandbox.c command_exec): terminal and cwd, capabilities,
 * no_new_privs, seccomp last, exec. */
static _Noreturn void command_exec(const wtb_enter *e, const wtb_pty *pty)
{
	wtb_error *err = NULL;
	char *const *argv = e->argv;
	char *const sh[] = {(char *)"/bin/sh", NULL};
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pty_command_setup(pty, &err) < 0)
		command_fail(err->msg, err->errnum, WTB_EXIT_ERROR);
	if (chdir(e->cwd) < 0)
		command_fail("cannot change to the worktree", errno, WTB_EXIT_ERROR);
	if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0)
		command_fail("cannot close wtbox's files", errno, WTB_EXIT_ERROR);
	/* `wtbox shell`: the caller's $SHELL may not exist in the sandbox. */
	if (e->shell && access(argv[0], X_OK) < 0)
		argv = sh;
	if (caps_drop_all(&err) < 0)
		command_fail(err->msg, err->errnum, WTB_EXIT_ERROR);
	if (e->filter != NULL && filter_load(e->filter, NULL, &err) < 0)
		command_fail(err->msg, err->errnum, WTB_EXIT_ERROR);
	environ = (char **)e->envp;
	execvp(argv[0], argv);
	fprintf(stderr, "wtbox: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? WTB_EXIT_NOTFOUND : WTB_EXIT_NOEXEC);
}

/* ------------------------------------------------------------------ */
/* Between: the process that enters the namespaces.                    */

static _Noreturn void enter_fail(int sock, wtb_error *err)
{
	msg_send_error(sock, err);
	_exit(WTB_EXIT_ERROR);
}

/* Wait for the command, passing on the signals wtbox forwards. */
static _Noreturn void wait_command(int sock, pid_t cmd)
{
	sigset_t set;
	int sig, ws;

	exec_signals(&set);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(cmd, sig);
			continue;
		}
		if (waitpid(cmd, &ws, WNOHANG) == cmd) {
			msg_send(sock, WTB_MSG_EXIT, ws);
			_exit(0);
		}
	}
}

/* Its steps, in order. It never holds the user's terminal: a pty of the
 * sandbox's devpts takes the place of each terminal fd, and the master
 * goes out to the relay. */
static _Noreturn void enter_child(const wtb_enter *e, wtb_pty *pty, int sock)
{
	wtb_error *err = NULL;
	int master = -1;
	pid_t cmd;

	/* 1. Die with wtbox exec; nobody may ptrace or read this process
	 *    once it is in the sandbox's user namespace. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0) {
		wtb_error_errno(&err, "cannot prepare to enter the sandbox");
		enter_fail(sock, err);
	}
	/* 2. Every namespace of the sandbox's init at once (the pidfd names
	 *    exactly the process the caller verified). The user namespace
	 *    is the caller's child, so this gives the capabilities needed
	 *    for the others, in it only. */
	if (setns(e->pidfd, NAMESPACES) < 0) {
		wtb_error_errno(&err, "cannot enter the sandbox's namespaces");
		enter_fail(sock, err);
	}
	close(e->pidfd);
	/* 3. The sandbox's own session keyring, not the host's. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS &&
	    errno != EPERM) {
		wtb_error_errno(&err, "cannot give the command its own keyring");
		enter_fail(sock, err);
	}
	/* 4. The terminal: a pty of the sandbox's devpts. */
	if (pty_create(pty, &master, &err) < 0)
		enter_fail(sock, err);
	if (master >= 0 && msg_send_fd(sock, WTB_MSG_PTY, master) < 0) {
		wtb_error_errno(&err, "cannot pass the command's terminal");
		enter_fail(sock, err);
	}
	closep(&master);
	if (pty_init_stdio(pty, &err) < 0)
		enter_fail(sock, err);
	/* 5. The command: forked, so that it is in the sandbox's pid
	 *    namespace (and dies when the sandbox ends). */
	cmd = fork();
	if (cmd < 0) {
		wtb_error_errno(&err, "cannot start the command");
		enter_fail(sock, err);
	}
	if (cmd == 0) {
		close(sock);
		command_exec(e, pty);
	}
	closep(&pty->slave);
	msg_send(sock, WTB_MSG_STARTED, 0);
	wait_command(sock, cmd);
}

/* ------------------------------------------------------------------ */
/* Outside: wtbox exec, in the host's namespaces, with the terminal.   */

typedef struct outside {
	pid_t child;
	int sock, sigfd, ep;
	wtb_pty pty;
	unsigned master_ev, out_ev;
	bool child_done, got_exit;
	int exit_ws;
	wtb_error *child_err;
} outside;

static void outside_close(outside *o)
{
	pty_close(&o->pty);
	closep(&o->sock);
	closep(&o->sigfd);
	closep(&o->ep);
	wtb_error_free(&o->child_err);
}

static void watch_fd(outside *o, int fd, unsigned *cur, unsigned want)
{
	struct epoll_event ev = {.events = want, .data.fd = fd};

	if (fd < 0 || *cur == want)
		return;
	epoll_ctl(o->ep, want == 0 ? EPOLL_CTL_DEL : (*cur == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD),
		  fd, &ev);
	*cur = want;
}

static void sync_watch(outside *o)
{
	watch_fd(o, o->pty.master, &o->master_ev, pty_master_events(&o->pty));
	watch_fd(o, o->pty.host_out, &o->out_ev, pty_out_events(&o->pty));
}

static void on_message(outside *o)
{
	_cleanup_error_ wtb_error *perr = NULL;
	unsigned in_ev = 0;
	int fd = -1;
	wtb_msg m;

	if (msg_recv_fd(o->sock, &m, &fd) < 0) {
		epoll_ctl(o->ep, EPOLL_CTL_DEL, o->sock, NULL);
		return;
	}
	if (m.type == WTB_MSG_PTY && fd >= 0 && o->pty.master < 0) {
		if (pty_start(&o->pty, steal_fd(fd), &perr) < 0)
			wtb_error_report(perr);
		watch_fd(o, o->pty.host_in, &in_ev, EPOLLIN);
	} else if (m.type == WTB_MSG_ERROR && o->child_err == NULL) {
		msg_to_error(&m, &o->child_err);
	} else if (m.type == WTB_MSG_EXIT) {
		o->got_exit = true;
		o->exit_ws = m.value;
	}
	closep(&fd);
	sync_watch(o);
}

static void on_signal(outside *o)
{
	struct signalfd_siginfo si;
	int ws;

	if (read(o->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		if (waitpid(o->child, &ws, WNOHANG) == o->child)
			o->child_done = true;
	} else if (si.ssi_signo == SIGWINCH) {
		pty_resize(&o->pty);
	} else {
		kill(o->child, (int)si.ssi_signo);
	}
}

static void relay(outside *o)
{
	struct epoll_event evs[8], ev = {.events = EPOLLIN};

	ev.data.fd = o->sigfd;
	epoll_ctl(o->ep, EPOLL_CTL_ADD, o->sigfd, &ev);
	ev.data.fd = o->sock;
	epoll_ctl(o->ep, EPOLL_CTL_ADD, o->sock, &ev);
	while (!o->child_done) {
		int n = epoll_wait(o->ep, evs, 8, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == o->sigfd) {
				on_signal(o);
			} else if (fd == o->sock) {
				on_message(o);
			} else {
				bool was_in = fd == o->pty.host_in;

				pty_relay(&o->pty, fd);
				if (was_in && o->pty.host_in < 0)
					epoll_ctl(o->ep, EPOLL_CTL_DEL, fd, NULL);
				sync_watch(o);
			}
		}
	}
	/* Messages still queued behind the exit. */
	while (!o->got_exit && o->child_err == NULL) {
		wtb_msg m;

		if (msg_recv(o->sock, &m) < 0)
			break;
		if (m.type == WTB_MSG_EXIT) {
			o->got_exit = true;
			o->exit_ws = m.value;
		} else if (m.type == WTB_MSG_ERROR) {
			msg_to_error(&m, &o->child_err);
		}
	}
	pty_drain(&o->pty);
}

int nsenter_run(const wtb_enter *e, int *status, wtb_error **err)
{
	__attribute__((cleanup(outside_close)))
	outside o = {.child = -1, .sock = -1, .sigfd = -1, .ep = -1};
	_cleanup_close_ int child_sock = -1;
	sigset_t set, old;
	int pair[2], r = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return wtb_error_errno(err, "cannot create a channel");
	o.sock = pair[0];
	child_sock = pair[1];
	pty_prepare(&o.pty);
	exec_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	o.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	o.ep = epoll_create1(EPOLL_CLOEXEC);
	if (o.sigfd < 0 || o.ep < 0) {
		wtb_error_errno(err, "cannot watch the command");
		goto out;
	}
	o.child = fork();
	if (o.child < 0) {
		wtb_error_errno(err, "cannot start the command");
		goto out;
	}
	if (o.child == 0) {
		close(o.sock);
		enter_child(e, &o.pty, child_sock);
	}
	closep(&child_sock);
	relay(&o);
	pty_restore(&o.pty);
	if (o.child_err != NULL) {
		*err = steal_ptr(o.child_err);
		goto out;
	}
	if (!o.got_exit) {
		wtb_error_set(err, 0, "the command's end was not reported");
		goto out;
	}
	*status = process_exit_status(o.exit_ws);
	r = 0;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
