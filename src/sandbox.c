#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf.h"
#include "caps.h"
#include "channel.h"
#include "denials.h"
#include "forward.h"
#include "net.h"
#include "process.h"
#include "pty.h"
#include "userns.h"
#include "util.h"

extern char **environ;

#define NAMESPACES                                                                                 \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | \
	 CLONE_NEWCGROUP)

/* Signals the supervisor passes to the command (through init), and
 * SIGCHLD, which both read from a signalfd. */
static void run_signals(sigset_t *set)
{
	static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,  SIGQUIT,
					SIGUSR1, SIGUSR2, SIGWINCH};

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	/* SIGHUP ignored when wtbox started (nohup) stays ignored, for wtbox
	 * and, inherited, for the command. (A shell starts background jobs
	 * with SIGINT and SIGQUIT ignored too, but only against the
	 * terminal's ^C; one sent on purpose is passed on.) */
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++) {
		struct sigaction sa;

		if (forwarded[i] == SIGHUP && sigaction(SIGHUP, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(set, forwarded[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Inside: the command.                                                */

/* Why the command could not be executed, for init to report. */
typedef struct exec_report {
	int errnum;
	int stage; /* 0: exec, 1: setup before exec */
	char what[256];
} exec_report;

static _Noreturn void command_fail(int fd, int stage, wtb_error *err, int errnum)
{
	exec_report r = {.errnum = err ? err->errnum : errnum, .stage = stage};

	if (err != NULL)
		snprintf(r.what, sizeof(r.what), "%s", err->msg);
	(void)!write(fd, &r, sizeof(r));
	_exit(127);
}

/* Terminal, cwd, and nothing of wtbox's leaking into the command. */
static void command_place(const wtb_sandbox *sb, const wtb_pty *pty, int report)
{
	wtb_error *err = NULL;

	if (pty_command_setup(pty, &err) < 0)
		command_fail(report, 1, err, 0);
	if (chdir(sb->cwd) < 0) {
		wtb_error_errno(&err, "cannot change to '%s'", sb->cwd);
		command_fail(report, 1, err, 0);
	}
	if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0) {
		wtb_error_errno(&err, "cannot close wtbox's files");
		command_fail(report, 1, err, 0);
	}
}

/* The command's own steps, in the order that matters: terminal and cwd
 * first, then capabilities, then no_new_privs, then (last, so it does not
 * have to allow the setup calls) seccomp, then exec. `sock` is the
 * channel to the supervisor (init's end, inherited).
 *
 * With `go` >= 0 the command was forked before init built the sandbox
 * (init_fork_early): capabilities, no_new_privs and seccomp come first,
 * while init mounts, then it waits for init's word on `go`, and only then
 * takes its terminal (a session of its own), cwd and fds, and execs;
 * init_fork_early checked that the filter lets those calls through. */
static _Noreturn void command_exec(const wtb_sandbox *sb, const wtb_pty *pty, int report, int sock,
				   int go)
{
	wtb_error *err = NULL;
	int listener = -1;
	sigset_t none;
	char word = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (go < 0)
		command_place(sb, pty, report);
	if (caps_drop_all(&err) < 0)
		command_fail(report, 1, err, 0);
	/* Last before exec, so that it need not allow the setup's calls;
	 * no_new_privs (set above) is what lets an unprivileged process
	 * load it. */
	if (sb->filter != NULL && filter_load(sb->filter, &listener, &err) < 0)
		command_fail(report, 1, err, 0);
	/* --log-denials: the supervisor answers the filter's notifications.
	 * Until it has the listener, a denied call would wait: the policy
	 * allows sendmsg (denials_prepare checked), and when the hand-over
	 * fails, closing the listener turns a wait into ENOSYS. */
	if (listener >= 0 && msg_send_fd(sock, WTB_MSG_NOTIFY, listener) < 0) {
		wtb_error_errno(&err, "cannot pass the seccomp listener to wtbox");
		closep(&listener);
		command_fail(report, 1, err, 0);
	}
	closep(&listener);
	if (go >= 0) {
		ssize_t n;

		/* The sandbox is built; anything else (init gone) ends here. */
		do
			n = read(go, &word, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || word != 'g')
			_exit(127);
		command_place(sb, pty, report);
	}
	environ = (char **)sb->envp;
	execvp(sb->argv[0], sb->argv);
	command_fail(report, 0, NULL, errno);
}

/* ------------------------------------------------------------------ */
/* Inside: init, pid 1 of the sandbox.                                 */

static _Noreturn void init_fail(int sock, wtb_error *err)
{
	msg_send_error(sock, err);
	_exit(WTB_EXIT_ERROR);
}

/* A command forked before the sandbox was built (-1 in `pid` when not). */
typedef struct early_cmd {
	pid_t pid;
	int report;	/* read end of the exec report pipe */
	int go;		/* write end of the go pipe */
	bool moved;	/* kept off init's CPU until its go */
	cpu_set_t cpus; /* init's, for the go */
} early_cmd;

/* The CPUs init may run on, as set (Cpus_allowed_list of
 * /proc/self/status, read while the host's /proc is there): with those
 * not online now, which sched_getaffinity leaves out and a command
 * given its result would never use, not even once they are online. */
static bool own_cpus(cpu_set_t *set)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *status = NULL;
	char *at, *end;

	if (read_file("/proc/self/status", 1 << 16, &status, NULL, &err) < 0 ||
	    (at = strstr(status, "\nCpus_allowed_list:")) == NULL)
		return false;
	at += strlen("\nCpus_allowed_list:");
	CPU_ZERO(set);
	for (;;) {
		unsigned long lo, hi;

		at += strspn(at, " \t");
		lo = hi = strtoul(at, &end, 10);
		if (end == at)
			return false;
		if (*end == '-') {
			at = end + 1;
			hi = strtoul(at, &end, 10);
			if (end == at)
				return false;
		}
		if (lo > hi || hi >= CPU_SETSIZE)
			return false;
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*end != ',')
			return *end == '\n' || *end == '\0';
		at = end + 1;
	}
}

/* The early command's first steps (its filter's load above all) are to
 * run beside init's, on another CPU. A scheduler that packs tasks onto
 * few CPUs (some virtual machines' do) queues it behind init on init's
 * CPU instead, while another is idle, and it starts only once init is
 * done: about 1 ms in two runs of three, measured. So its CPUs are,
 * until its go, init's but the one init is on. */
static bool keep_off_this_cpu(pid_t pid, const cpu_set_t *cpus)
{
	cpu_set_t others = *cpus;
	int here = sched_getcpu();

	if (here < 0 || here >= CPU_SETSIZE)
		return false;
	CPU_CLR(here, &others);
	return CPU_COUNT(&others) > 0 && sched_setaffinity(pid, sizeof(others), &others) == 0;
}

/* Whether `f` lets the calls through that an early command makes after
 * loading it (see command_exec): the filter is run here on each of them,
 * with the arguments they will have, as the kernel would run it. */
static bool filter_lets_early_steps(const wtb_filter *f, int go, int report)
{
	struct {
		long nr;
		uint64_t args[3];
	} calls[] = {
	    {SYS_read, {(uint64_t)go, 0, 1}},
	    {SYS_setsid, {0}},
	    {SYS_chdir, {0}},
	    {SYS_close_range, {3, ~0U, 4}},
	    {SYS_execve, {0}},
	    {SYS_write, {(uint64_t)report, 0, sizeof(exec_report)}},
	    {SYS_exit_group, {127}},
	};

	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		/* arches[0] is the native ABI (filter.c puts it first). */
		struct seccomp_data d = {.nr = (int)calls[i].nr, .arch = f->arches[0]};
		uint32_t ret;

		memcpy(d.args, calls[i].args, sizeof(calls[i].args));
		ret = bpf_seccomp_run(&f->prog, &d) & SECCOMP_RET_ACTION_FULL;
		if (ret != SECCOMP_RET_ALLOW && ret != SECCOMP_RET_LOG)
			return false;
	}
	return true;
}

/* Once init is in its new root, before it builds the view there: fork the
 * command, which drops its capabilities and loads its filter (about 0.4 ms
 * for the default policy: the kernel checks, converts and JIT-compiles
 * some 1200 instructions) while init builds the sandbox on the other CPU,
 * and then waits for init. Not with a terminal (its pty exists only after
 * the mounts), not with --log-denials (the listener's hand-over), not when
 * the filter would refuse one of the last steps: then the command is
 * forked after the mounts, as init_start_command does. */
static early_cmd init_fork_early(const wtb_sandbox *sb, const wtb_pty *pty, int sock,
				 const cpu_set_t *cpus)
{
	early_cmd e = {.pid = -1, .report = -1, .go = -1};
	int rep[2], go[2];

	if (pty->wanted || sb->answer != NULL)
		return e;
	if (pipe2(rep, O_CLOEXEC) < 0)
		return e;
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(rep[0]);
		close(rep[1]);
		return e;
	}
	if (sb->filter == NULL || filter_lets_early_steps(sb->filter, go[0], rep[1]))
		e.pid = fork();
	if (e.pid == 0) {
		close(rep[0]);
		close(go[1]);
		command_exec(sb, pty, rep[1], sock, go[0]);
	}
	close(rep[1]);
	close(go[0]);
	if (e.pid < 0) {
		close(rep[0]);
		close(go[1]);
		return e;
	}
	if (cpus != NULL) {
		e.cpus = *cpus;
		e.moved = keep_off_this_cpu(e.pid, cpus);
	}
	/* A command that failed before its go leaves no reader: that write
	 * must not kill init. The command, forked already, keeps its own
	 * disposition; init forks no other. */
	signal(SIGPIPE, SIG_IGN);
	e.report = rep[0];
	e.go = go[1];
	return e;
}

/* Start the command (or let the early one go); tell the supervisor
 * whether exec worked. */
static pid_t init_start_command(const wtb_sandbox *sb, const wtb_pty *pty, int sock,
				early_cmd *early)
{
	wtb_error *err = NULL;
	exec_report r;
	int pipefd[2];
	ssize_t n;
	pid_t pid;

	if (early->pid > 0) {
		pid = early->pid;
		pipefd[0] = early->report;
		/* Before the go, all of init's CPUs again, as any command of
		 * init's has. Should that fail, the command would run on fewer:
		 * it never gets the go. (Gone already, it has reported why.) */
		if (early->moved && sched_setaffinity(pid, sizeof(early->cpus), &early->cpus) < 0 &&
		    errno != ESRCH) {
			wtb_error_errno(&err, "cannot give the command its CPUs");
			init_fail(sock, err);
		}
		/* A command that failed to prepare has said so already. */
		(void)!write(early->go, "g", 1);
		close(early->go);
	} else {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			wtb_error_errno(&err, "cannot create pipe");
			init_fail(sock, err);
		}
		pid = fork();
		if (pid < 0) {
			wtb_error_errno(&err, "cannot start the command");
			init_fail(sock, err);
		}
		if (pid == 0) {
			close(pipefd[0]);
			command_exec(sb, pty, pipefd[1], sock, -1);
		}
		close(pipefd[1]);
	}
	do
		n = read(pipefd[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n != (ssize_t)sizeof(r)) {
		msg_send(sock, WTB_MSG_STARTED, pid);
		return pid;
	}
	r.what[sizeof(r.what) - 1] = '\0';
	if (r.stage == 0) {
		wtb_error_set(&err, r.errnum, "cannot run '%s'", sb->argv[0]);
		err->status = r.errnum == ENOENT ? WTB_EXIT_NOTFOUND : WTB_EXIT_NOEXEC;
	} else {
		wtb_error_set(&err, r.errnum, "%s", r.what);
	}
	waitpid(pid, NULL, 0);
	init_fail(sock, err);
}

/* Whether a process of the sandbox other than init is alive: not gone,
 * not a zombie whose threads have all exited. Processes `wtbox exec`
 * started are the sandbox's but not init's children (their parent is on
 * the host): kill(-1) reaches them, init's waitpid does not. Read from
 * the sandbox's own /proc. */
static bool others_alive(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool alive = false;

	if (d == NULL)
		return false;
	while (!alive && (e = readdir(d)) != NULL) {
		long pid = strtol(e->d_name, NULL, 10);
		wtb_proc_stat st;

		/* Not a process, init itself, or gone meanwhile. */
		if (pid <= 1 || proc_stat_read((pid_t)pid, &st) < 0)
			continue;
		/* A zombie leader whose other threads still run is alive. */
		alive = (st.state != 'Z' && st.state != 'X') || st.threads > 1;
	}
	closedir(d);
	return alive;
}

/* Reap everything; once the command is gone, end every other process of
 * the sandbox and report the command's status. */
static void init_reap(int sock, pid_t cmd)
{
	int ws, cmd_status = 0;
	bool cmd_done = false;
	pid_t p;

	while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
		if (p == cmd) {
			cmd_status = ws;
			cmd_done = true;
		}
	if (!cmd_done)
		return;
	/* kill(-1) from pid 1 reaches every process in this pid namespace. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	/* What is not init's child dies of the same SIGKILL, a moment later:
	 * EXIT promises that nothing of the sandbox runs any more (the
	 * supervisor's verdict starts on it). As long as that takes: init's
	 * own exit would wait as long (a pid namespace goes only when every
	 * task in it is gone). */
	while (others_alive())
		usleep(1000);
	msg_send(sock, WTB_MSG_EXIT, cmd_status);
	_exit(0);
}

static _Noreturn void init_loop(int sock, int netchan, pid_t cmd)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int sfd, ep, n;
	struct epoll_event ev, evs[4];
	wtb_msg m;

	run_signals(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = sfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = sock};
	epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev);
	if (netchan >= 0) {
		ev = (struct epoll_event){.events = EPOLLIN, .data.fd = netchan};
		epoll_ctl(ep, EPOLL_CTL_ADD, netchan, &ev);
	}
	init_reap(sock, cmd); /* it may be gone already */
	for (;;) {
		n = epoll_wait(ep, evs, 4, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGCHLD)
					init_reap(sock, cmd);
				else
					kill(cmd, (int)si.ssi_signo);
			} else if (evs[i].data.fd == netchan) {
				/* The port forwarder's requests for sockets. */
				if (net_serve(netchan) < 0)
					epoll_ctl(ep, EPOLL_CTL_DEL, netchan, NULL);
			} else if (msg_recv(sock, &m) < 0) {
				/* The supervisor is gone: so is the sandbox (pid 1
				 * exiting takes every process with it). */
				_exit(WTB_EXIT_ERROR);
			} else if (m.type == WTB_MSG_TERM_ALL) {
				kill(-1, SIGTERM);
			}
		}
	}
}

/* Close every fd above the standard ones but the channels (`b` may be
 * -1): the supervisor's other files (libgit2's, the signalfd, the host's
 * listening sockets) are none of the sandbox's business. */
static void close_all_except(int a, int b)
{
	int lo = b < 0 || a < b ? a : b, hi = b < 0 ? -1 : (a < b ? b : a);

	syscall(SYS_close_range, 3, lo - 1, 0);
	if (hi < 0) {
		syscall(SYS_close_range, lo + 1, ~0U, 0);
		return;
	}
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0U, 0);
}

/* The sandbox's steps, in order. Runs as pid 1 of the new namespaces. */
static _Noreturn void sandbox_child(const wtb_sandbox *sb, wtb_pty *pty, int sock, int netchan)
{
	wtb_mount_work work = WTB_MOUNT_WORK_INIT;
	wtb_error *err = NULL;
	int master = -1;
	early_cmd early;
	cpu_set_t cpus;
	bool have_cpus;
	wtb_msg m;
	pid_t cmd;

	close_all_except(sock, netchan);

	/* 1. Die with the supervisor, even when it is SIGKILLed; pid 1
	 *    dying takes the whole pid namespace along. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(WTB_EXIT_ERROR);
	/* 2. Wait for the uid/gid maps (the supervisor writes them); an end
	 *    of stream here means the supervisor died before. */
	if (msg_recv(sock, &m) < 0 || m.type != WTB_MSG_GO)
		_exit(WTB_EXIT_ERROR);
	/* 2a. A session keyring of its own: the host's session keyring (and
	 *     through it the user's keys) is not the sandbox's. Where keyctl
	 *     is unavailable, so are the host's keys. Before any fork: the
	 *     command inherits it. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS &&
	    errno != EPERM) {
		wtb_error_errno(&err, "cannot give the sandbox its own keyring");
		init_fail(sock, err);
	}
	/* 2b. The network stack's part inside (slirp4netns's IPv6), before
	 *     the host's /proc goes: it sets a sysctl of the namespace. */
	if (sb->net != NULL)
		netstack_inside(sb->net);
	/* 3. The filesystem view: what it takes from the host opened, an
	 *    empty root entered and the host's tree detached... */
	have_cpus = !pty->wanted && sb->answer == NULL && own_cpus(&cpus);
	if (mount_plan_enter(sb->plan, &work, &err) < 0)
		init_fail(sock, err);
	/* 3a. ...the command forked, when it can prepare itself meanwhile:
	 *     it inherits what init is now (credentials, keyring, the new
	 *     root) and follows what init builds in the namespaces they
	 *     share; what init changes in itself from here on (its session)
	 *     is not the command's... */
	early = init_fork_early(sb, pty, sock, have_cpus ? &cpus : NULL);
	/* 3b. ...and the view built in the new root. */
	if (mount_plan_populate(sb->plan, &work, &err) < 0)
		init_fail(sock, err);
	mount_work_close(&work);
	/* 4. Host name and loopback of the new uts and net namespaces. */
	if (sethostname(sb->hostname, strlen(sb->hostname)) < 0) {
		wtb_error_errno(&err, "cannot set the host name '%s'", sb->hostname);
		init_fail(sock, err);
	}
	if (net_loopback_up(&err) < 0)
		init_fail(sock, err);
	/* 4a. --allow-host-port: listeners inside, served by the supervisor,
	 *     there before the command can try them. */
	if (netchan >= 0 && net_send_listeners(netchan, sb->allow_ports, sb->nallow, &err) < 0)
		init_fail(sock, err);
	/* 5. Out of the supervisor's session: terminal signals reach only
	 *    the supervisor, which forwards them once. The host's terminal
	 *    is replaced by a pty of the sandbox's devpts, whose master goes
	 *    to the supervisor for the relay. */
	setsid();
	if (pty_create(pty, &master, &err) < 0)
		init_fail(sock, err);
	if (master >= 0 && msg_send_fd(sock, WTB_MSG_PTY, master) < 0) {
		wtb_error_errno(&err, "cannot pass the sandbox's terminal");
		init_fail(sock, err);
	}
	closep(&master);
	if (pty_init_stdio(pty, &err) < 0)
		init_fail(sock, err);
	/* 6. The command, then init's own work until it ends. */
	cmd = init_start_command(sb, pty, sock, &early);
	closep(&pty->slave);
	init_loop(sock, netchan, cmd);
}

/* ------------------------------------------------------------------ */
/* Outside: the supervisor.                                            */

typedef struct supervisor {
	pid_t init;
	int sock;
	int sigfd;
	int timerfd;
	int ep;
	wtb_pty pty;
	const wtb_filter *answer; /* --log-denials */
	wtb_denials denials;
	wtb_forward fwd;
	unsigned master_ev, out_ev; /* what epoll watches on the pty fds */
	int timer_stage;	    /* 0 armed, 1 SIGTERM sent, 2 SIGKILL sent */
	bool init_done;
	bool terminated; /* SIGTERM came: the whole sandbox was told to stop */
	bool got_exit;
	int exit_ws;
	wtb_error *child_err;
	wtb_netstack net; /* --net=private */
} supervisor;

static void watch(supervisor *s, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	if (fd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch(supervisor *s, int fd)
{
	if (fd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
}

static void set_watch(supervisor *s, int fd, unsigned *cur, unsigned want)
{
	struct epoll_event ev = {.events = want, .data.fd = fd};

	if (fd < 0 || *cur == want)
		return;
	epoll_ctl(s->ep, want == 0 ? EPOLL_CTL_DEL : (*cur == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD),
		  fd, &ev);
	*cur = want;
}

/* Read the pty only while there is room, wait on the terminal only while
 * there is something for it. */
static void sync_pty_watch(supervisor *s)
{
	set_watch(s, s->pty.master, &s->master_ev, pty_master_events(&s->pty));
	set_watch(s, s->pty.host_out, &s->out_ev, pty_out_events(&s->pty));
}

static void on_signal(supervisor *s)
{
	struct signalfd_siginfo si;
	int ws;

	if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		if (waitpid(s->init, &ws, WNOHANG) == s->init)
			s->init_done = true;
		return;
	}
	if (si.ssi_signo == SIGWINCH && s->pty.master >= 0) {
		pty_resize(&s->pty);
		return;
	}
	/* SIGTERM (wtbox stop, or anyone's kill) stops the whole sandbox,
	 * not only the command: what it started in the background gets the
	 * same chance to end cleanly. The other signals are the command's. */
	if (si.ssi_signo == SIGTERM) {
		s->terminated = true;
		msg_send(s->sock, WTB_MSG_TERM_ALL, 0);
		return;
	}
	kill(s->init, (int)si.ssi_signo);
}

static void on_message(supervisor *s, const wtb_sandbox *sb)
{
	wtb_msg m;
	int fd = -1;

	if (msg_recv_fd(s->sock, &m, &fd) < 0) {
		unwatch(s, s->sock);
		return;
	}
	switch (m.type) {
	case WTB_MSG_PTY: {
		_cleanup_error_ wtb_error *perr = NULL;

		if (fd < 0 || s->pty.master >= 0) {
			closep(&fd);
			break;
		}
		/* Without raw mode the relay still works, only line by line. */
		if (pty_start(&s->pty, steal_fd(fd), &perr) < 0)
			wtb_error_report(perr);
		sync_pty_watch(s);
		watch(s, s->pty.host_in);
		break;
	}
	case WTB_MSG_NOTIFY: {
		_cleanup_error_ wtb_error *derr = NULL;

		if (fd < 0 || s->answer == NULL || s->denials.fd >= 0) {
			closep(&fd);
			break;
		}
		/* Without the listener, denied calls fail with ENOSYS. */
		if (denials_start(&s->denials, s->answer, steal_fd(fd), &derr) < 0) {
			wtb_error_report(derr);
			break;
		}
		s->denials.crlf = s->pty.raw && isatty(STDERR_FILENO);
		watch(s, s->denials.fd);
		break;
	}
	case WTB_MSG_ERROR:
		if (s->child_err == NULL)
			msg_to_error(&m, &s->child_err);
		break;
	case WTB_MSG_EXIT:
		s->got_exit = true;
		s->exit_ws = m.value;
		break;
	case WTB_MSG_STARTED:
		if (sb->on_started != NULL)
			sb->on_started(sb->ctx, s->init);
		break;
	default:
		break;
	}
}

static void on_timer(supervisor *s, const wtb_sandbox *sb)
{
	struct itimerspec grace = {.it_value.tv_sec = WTB_TIMEOUT_GRACE};
	uint64_t ticks;

	if (read(s->timerfd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	if (s->timer_stage == 0) {
		fprintf(stderr, "wtbox: timeout of %u s reached; stopping the sandbox\n",
			sb->timeout);
		msg_send(s->sock, WTB_MSG_TERM_ALL, 0);
		timerfd_settime(s->timerfd, 0, &grace, NULL);
		s->timer_stage = 1;
	} else if (s->timer_stage == 1) {
		kill(s->init, SIGKILL);
		s->timer_stage = 2;
	}
}

static void supervise(supervisor *s, const wtb_sandbox *sb)
{
	struct epoll_event evs[8];

	/* Until init is gone, or, without a terminal to relay, until it said
	 * that every other process is: it only exits after that (it cannot
	 * be traced or written to from inside, holding capabilities the
	 * command lacks), and the caller's verdict need not wait for the
	 * kernel to take its namespaces apart. With a terminal, the relay
	 * reads until init, the last holder of the pty, is gone. */
	while (!s->init_done && !(s->got_exit && s->pty.master < 0)) {
		int n = epoll_wait(s->ep, evs, 8, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == s->sigfd) {
				on_signal(s);
			} else if (fd == s->sock) {
				on_message(s, sb);
			} else if (fd == s->timerfd) {
				on_timer(s, sb);
			} else if (fd == s->fwd.ep) {
				forward_dispatch(&s->fwd);
			} else if (fd == s->denials.fd) {
				/* One notification per wake-up: level-triggered,
				 * the rest waits its turn behind signals and the
				 * timer. */
				if (!denials_handle(&s->denials, evs[i].events)) {
					unwatch(s, fd);
					denials_close(&s->denials);
				}
			} else {
				bool was_in = fd == s->pty.host_in;

				pty_relay(&s->pty, fd);
				if (was_in && s->pty.host_in < 0)
					unwatch(s, fd);
				sync_pty_watch(s);
			}
		}
	}
	/* A last message may still be queued behind the exit. */
	while (!s->got_exit && s->child_err == NULL) {
		wtb_msg m;

		if (msg_recv(s->sock, &m) < 0)
			break;
		if (m.type == WTB_MSG_EXIT) {
			s->got_exit = true;
			s->exit_ws = m.value;
		} else if (m.type == WTB_MSG_ERROR) {
			msg_to_error(&m, &s->child_err);
		}
	}
	pty_drain(&s->pty);
}

static int start_child(supervisor *s, const wtb_sandbox *sb, int child_sock, int child_net,
		       wtb_error **err)
{
	/* clone() as fork(): the child continues on a copy of this stack,
	 * as pid 1 of its new namespaces. */
	pid_t pid = (pid_t)syscall(SYS_clone, NAMESPACES | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		return userns_clone_error(errno, err);
	if (pid == 0)
		sandbox_child(sb, &s->pty, child_sock, child_net);
	s->init = pid;
	return 0;
}

/* 3b. --net=private: the stack joins the sandbox's user namespace (so
 *     the maps must exist) and configures its interface before init
 *     goes on, so the command starts with its network up. */
static int start_network(supervisor *s, const wtb_sandbox *sb, wtb_error **err)
{
	if (sb->net == NULL)
		return 0;
	return netstack_start(sb->net, s->init, &s->net, err);
}

/* A stop signal that waits, blocked, in `set`: 0 if none. */
static int stop_pending(const sigset_t *set)
{
	static const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(stops); i++)
		if (sigismember(set, stops[i]) && sigismember(&pending, stops[i]))
			return stops[i];
	return 0;
}

static void supervisor_close(supervisor *s)
{
	forward_close(&s->fwd);
	netstack_stop(&s->net);
	denials_close(&s->denials);
	pty_close(&s->pty);
	closep(&s->sock);
	closep(&s->sigfd);
	closep(&s->timerfd);
	closep(&s->ep);
	wtb_error_free(&s->child_err);
}

/* The supervisor's steps, in order. */
int sandbox_run(const wtb_sandbox *sb, wtb_sandbox_result *res, wtb_error **err)
{
	__attribute__((cleanup(supervisor_close)))
	supervisor s = {.init = -1,
			.sock = -1,
			.sigfd = -1,
			.timerfd = -1,
			.ep = -1,
			.pty = {.master = -1, .slave = -1, .host_in = -1, .host_out = -1},
			.answer = sb->answer,
			.denials = WTB_DENIALS_INIT,
			.fwd = WTB_FORWARD_INIT,
			.net = WTB_NETSTACK_INIT};
	_cleanup_close_ int child_sock = -1, net_sock = -1, child_net = -1;
	bool forwarding = sb->nlisteners > 0 || sb->nallow > 0;
	sigset_t set, old;
	int pair[2], r = -1, ws, stop = 0;

	memset(res, 0, sizeof(*res));
	res->exiting = -1;
	/* 1. Everything the child needs exists before clone: the channel,
	 *    the terminal, the signal mask it inherits (init reads the
	 *    same signals from a signalfd). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return wtb_error_errno(err, "cannot create the sandbox's channel");
	s.sock = pair[0];
	child_sock = pair[1];
	if (forwarding) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
			return wtb_error_errno(err, "cannot create the port forwarder's channel");
		net_sock = pair[0];
		child_net = pair[1];
	}
	pty_prepare(&s.pty);
	run_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* A stop signal that came after the caller's last look, before the
	 * block: the command is not started. */
	if (process_interrupted() != 0) {
		res->status = 128 + process_interrupted();
		r = 0;
		goto out;
	}
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.sigfd < 0 || s.ep < 0) {
		wtb_error_errno(err, "cannot watch the sandbox");
		goto out;
	}
	/* 2. The namespaces, with init in them. */
	if (start_child(&s, sb, child_sock, child_net, err) < 0)
		goto out;
	closep(&child_sock);
	closep(&child_net);
	/* 2a. The forwarder takes the host's listeners. Each relayed
	 *     connection costs the supervisor two to six fds: its soft limit goes up
	 *     to the hard one (the sandbox keeps the limits it had). */
	if (forwarding) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (forward_start(&s.fwd, steal_fd(net_sock), sb->listeners, sb->nlisteners,
				  sb->nallow, err) < 0) {
			kill(s.init, SIGKILL);
			waitpid(s.init, NULL, 0);
			goto out;
		}
	}
	/* 3. Its identity, then let it build the rest, unless a stop signal
	 *    came meanwhile (the network stack can take a while to start):
	 *    then the command is not started. */
	if (userns_write_maps(s.init, getuid(), getgid(), sb->as_root, err) < 0 ||
	    start_network(&s, sb, err) < 0 || (stop = stop_pending(&set)) != 0 ||
	    msg_send(s.sock, WTB_MSG_GO, 0) < 0) {
		kill(s.init, SIGKILL);
		waitpid(s.init, NULL, 0);
		if (stop != 0) {
			res->status = 128 + stop;
			r = 0;
		} else {
			wtb_error_wrap(err, "cannot start the sandbox");
		}
		goto out;
	}
	/* 3a. The caller's work while init mounts (on the other CPU, where
	 *     there is one). */
	if (sb->on_building != NULL && sb->on_building(sb->ctx, err) < 0) {
		kill(s.init, SIGKILL);
		waitpid(s.init, NULL, 0);
		goto out;
	}
	/* 4. Relay, forward and wait until every process of it is gone. */
	watch(&s, s.sigfd);
	watch(&s, s.sock);
	watch(&s, s.fwd.ep);
	if (sb->timeout > 0) {
		struct itimerspec t = {.it_value.tv_sec = sb->timeout};

		s.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		timerfd_settime(s.timerfd, 0, &t, NULL);
		watch(&s, s.timerfd);
	}
	supervise(&s, sb);
	pty_restore(&s.pty);
	/* 4b. The network stack goes with the sandbox (on the error paths,
	 *     supervisor_close stops it). */
	netstack_stop(&s.net);
	/* 5. What happened. */
	res->timed_out = s.timer_stage > 0;
	if (s.child_err != NULL) {
		if (!s.init_done)
			waitpid(s.init, NULL, 0);
		*err = steal_ptr(s.child_err);
		goto out;
	}
	if (!s.init_done)
		res->exiting = s.init;
	res->started = true;
	ws = s.got_exit ? s.exit_ws : (SIGKILL & 0x7f);
	res->status = res->timed_out ? 124 : process_exit_status(ws);
	res->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	res->terminated = s.terminated;
	r = 0;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

void sandbox_reap(pid_t *exiting)
{
	if (*exiting > 0)
		while (waitpid(*exiting, NULL, 0) < 0 && errno == EINTR)
			;
	*exiting = -1;
}
