#include "netstack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* The default order, chosen by measurement (docs/BENCHMARKS.md,
 * scripts/bench-netstack.sh): the first one found in PATH is used. */
static const wtb_netstack_kind preference[] = {WTB_NETSTACK_SLIRP4NETNS, WTB_NETSTACK_PASTA};

#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS	 2000
#define GUARD_GRACE_MS	 1000

/* The fds a stack process (or pasta's guard) finds at fixed numbers. */
enum { FD_READY = 3, FD_EXIT = 4, FD_PID = 5 };
/* Where the supervisor keeps them before the fork, out of the way of the
 * numbers above. */
#define FD_HIGH 10

const char *netstack_name(wtb_netstack_kind kind)
{
	return kind == WTB_NETSTACK_PASTA ? "pasta" : "slirp4netns";
}

const char *netstack_package(wtb_netstack_kind kind)
{
	return kind == WTB_NETSTACK_PASTA ? "passt" : "slirp4netns";
}

const char *netstack_dns(wtb_netstack_kind kind)
{
	return kind == WTB_NETSTACK_PASTA ? WTB_PASTA_DNS : WTB_SLIRP_DNS;
}

int netstack_kind_parse(const char *name, wtb_netstack_kind *out)
{
	if (strcmp(name, "slirp4netns") == 0)
		*out = WTB_NETSTACK_SLIRP4NETNS;
	else if (strcmp(name, "pasta") == 0)
		*out = WTB_NETSTACK_PASTA;
	else
		return -1;
	return 0;
}

/* Whether the host's resolv.conf names resolvers of IPv6 only. */
static bool host_dns_v6_only(const char *host)
{
	bool v4 = false, v6 = false;

	for (const char *line = host; line != NULL && *line != '\0';) {
		const char *end = strchrnul(line, '\n');
		size_t n = strspn(line, " \t");

		if (strncmp(line + n, "nameserver", 10) == 0 &&
		    (line[n + 10] == ' ' || line[n + 10] == '\t')) {
			const char *addr = line + n + 10 + strspn(line + n + 10, " \t");
			size_t len = strcspn(addr, " \t\n#;");

			if (memchr(addr, ':', len) != NULL)
				v6 = true;
			else if (len > 0)
				v4 = true;
		}
		line = *end ? end + 1 : end;
	}
	return v6 && !v4;
}

/* slirp4netns forwards queries to 10.0.2.3 to the host's IPv4 resolvers
 * and those to fd00::3 to its IPv6 ones: both are listed, the family the
 * host has first (a resolver that does not answer costs each lookup a
 * timeout before the next is tried). */
char *netstack_resolv_conf(wtb_netstack_kind kind, const char *host)
{
	bool v6 = kind == WTB_NETSTACK_SLIRP4NETNS && host_dns_v6_only(host);

	if (kind == WTB_NETSTACK_PASTA)
		return xasprintf("# written by wtbox: the resolver of the sandbox's network (%s)\n"
				 "nameserver %s\n",
				 netstack_name(kind), netstack_dns(kind));
	return xasprintf("# written by wtbox: the resolvers of the sandbox's network (%s)\n"
			 "nameserver %s\nnameserver %s\n",
			 netstack_name(kind), v6 ? WTB_SLIRP_DNS6 : WTB_SLIRP_DNS,
			 v6 ? WTB_SLIRP_DNS : WTB_SLIRP_DNS6);
}

char *netstack_describe(const wtb_netstack_cfg *cfg)
{
	if (cfg->kind == WTB_NETSTACK_PASTA)
		return xasprintf("pasta (%s): the host's addresses and gateway (IPv4, and IPv6 "
				 "when the host has it), DNS %s forwarded to the host's resolver; "
				 "host loopback not reachable (--no-map-gw, -T none, -U none)",
				 cfg->path, WTB_PASTA_DNS);
	return xasprintf("slirp4netns (%s): 10.0.2.100/24 via %s, and %s/%d via %s when the "
			 "kernel has IPv6, DNS %s; host loopback not reachable "
			 "(--disable-host-loopback)",
			 cfg->path, WTB_SLIRP_GATEWAY, WTB_SLIRP_ADDR6, WTB_SLIRP_PREFIX6,
			 WTB_SLIRP_GATEWAY6, WTB_SLIRP_DNS);
}

char *netstack_which(const char *name, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *file = NULL;
		struct stat st;

		/* Only absolute entries: a tool is never taken from wherever
		 * wtbox happens to be started. */
		if (dir[0] != '/')
			continue;
		file = path_join(dir, name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
			return steal_ptr(file);
	}
	return NULL;
}

/* Both tools open the tun device as the user: a device only root may
 * open (some containers make it 0600) fails them, so say so before
 * anything is created. */
static int check_tun(const wtb_netstack_cfg *cfg, wtb_error **err)
{
	if (access("/dev/net/tun", R_OK | W_OK) == 0)
		return 0;
	return wtb_error_errno(err,
			       "--net=private: %s needs '/dev/net/tun' (mode 0666 on a standard "
			       "system; scripts/install-deps.sh sets it)",
			       netstack_name(cfg->kind));
}

static int find_tool(wtb_netstack_cfg *cfg, const char *path, const char *force, wtb_error **err)
{
	wtb_netstack_kind kind;

	memset(cfg, 0, sizeof(*cfg));
	if (force != NULL && force[0] != '\0') {
		if (netstack_kind_parse(force, &kind) < 0)
			return wtb_error_set(err, 0,
					     "invalid WTBOX_NETSTACK '%s': expected slirp4netns or "
					     "pasta",
					     force);
		cfg->kind = kind;
		cfg->path = netstack_which(netstack_name(kind), path);
		if (cfg->path == NULL)
			return wtb_error_set(err, 0,
					     "WTBOX_NETSTACK=%s: '%s' is not in PATH (apt-get "
					     "install %s)",
					     force, netstack_name(kind), netstack_package(kind));
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(preference); i++) {
		cfg->kind = preference[i];
		cfg->path = netstack_which(netstack_name(preference[i]), path);
		if (cfg->path != NULL)
			return 0;
	}
	return wtb_error_set(err, 0,
			     "--net=private needs %s or %s, neither is in PATH: apt-get install %s "
			     "(or %s), or use --net=none",
			     netstack_name(preference[0]), netstack_name(preference[1]),
			     netstack_package(preference[0]), netstack_package(preference[1]));
}

int netstack_find(wtb_netstack_cfg *cfg, const char *path, const char *force, wtb_error **err)
{
	if (find_tool(cfg, path, force, err) < 0 || check_tun(cfg, err) < 0) {
		netstack_cfg_free(cfg);
		return -1;
	}
	return 0;
}

void netstack_cfg_free(wtb_netstack_cfg *cfg)
{
	free(cfg->path);
	free(cfg->log);
	cfg->path = cfg->log = NULL;
}

/* ------------------------------------------------------------------ */
/* Processes.                                                          */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait up to `ms` for the child `pid` to exit (without reaping it). */
static bool wait_exit(pid_t pid, int ms)
{
	_cleanup_close_ int pfd = pidfd_open_(pid);
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	siginfo_t si;

	if (pfd >= 0) {
		while (poll(&p, 1, ms) < 0 && errno == EINTR)
			;
		return p.revents != 0;
	}
	/* No pidfd (kernel < 5.3): look every 10 ms. */
	for (int waited = 0; waited <= ms; waited += 10) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid != 0)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* Until a tool joins the sandbox's user namespace (which clears it), it
 * does not watch its exit fd yet: the parent's death kills it meanwhile.
 * Not for pasta's guard, which must outlive the supervisor long enough to
 * stop pasta. */
static void die_with(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
}

/* In a new child, before exec: the signals of a fresh process (the
 * supervisor blocks and traps its own), a session of its own so that the
 * terminal's ^C reaches only the supervisor, which stops the stack in
 * order; std fds on /dev/null and the log, `ready` and `exit` at fixed
 * numbers, nothing else open. No allocation here. */
static void child_setup(int null_fd, int log_fd, int ready, int exitfd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	setsid();
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
	    dup2(log_fd, STDERR_FILENO) < 0 || dup2(ready, FD_READY) < 0 ||
	    dup2(exitfd, FD_EXIT) < 0)
		_exit(127);
	syscall(SYS_close_range, FD_EXIT + 1, ~0U, 0);
}

/* pasta has no exit fd: a small guard (this fork of the supervisor, which
 * never execs) owns it. The guard tells the supervisor when pasta is
 * ready (pasta writes its pid file, here a pipe, once the namespace is
 * configured), and stops pasta when its exit fd ends: when the
 * supervisor closes it or dies. A SIGKILLed supervisor cannot leave
 * pasta behind. */
static _Noreturn void pasta_guard(const char *path, const char *const *argv)
{
	int pipefd[2], ws = 0;
	bool ready = false;
	pid_t guard = getpid(), pasta;
	int pfd;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		_exit(127);
	pasta = fork();
	if (pasta < 0)
		_exit(127);
	if (pasta == 0) {
		die_with(guard);
		if (dup2(pipefd[1], FD_PID) < 0)
			_exit(127);
		close(FD_READY);
		close(FD_EXIT);
		execv(path, (char *const *)argv);
		fprintf(stderr, "wtbox: cannot execute '%s': %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pfd = pidfd_open_(pasta);
	if (pfd < 0) {
		kill(pasta, SIGKILL);
		waitpid(pasta, NULL, 0);
		_exit(127);
	}
	for (;;) {
		struct pollfd p[3] = {{.fd = ready ? -1 : pipefd[0], .events = POLLIN},
				      {.fd = FD_EXIT, .events = POLLIN},
				      {.fd = pfd, .events = POLLIN}};
		char buf[32];

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			p[1].revents = POLLHUP;
		}
		if (p[2].revents != 0)
			break;
		if (p[1].revents != 0) {
			kill(pasta, SIGTERM);
			if (!wait_exit(pasta, GUARD_GRACE_MS))
				kill(pasta, SIGKILL);
			break;
		}
		if (p[0].revents != 0) {
			ssize_t n = read(pipefd[0], buf, sizeof(buf));

			/* A pid written means configured; an end without one
			 * means pasta is on its way out. */
			ready = true;
			if (n > 0 && buf[0] >= '1' && buf[0] <= '9')
				(void)!write(FD_READY, "1", 1);
			close(FD_READY);
		}
	}
	waitpid(pasta, &ws, 0);
	_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
}

typedef struct spawn_fds {
	int null_fd, log_fd, ready_w, exit_r;
} spawn_fds;

static pid_t spawn(const wtb_netstack_cfg *cfg, const char *const *argv, const spawn_fds *f)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_setup(f->null_fd, f->log_fd, f->ready_w, f->exit_r);
	if (cfg->kind == WTB_NETSTACK_PASTA)
		pasta_guard(cfg->path, argv);
	die_with(parent);
	execv(cfg->path, (char *const *)argv);
	fprintf(stderr, "wtbox: cannot execute '%s': %s\n", cfg->path, strerror(errno));
	_exit(127);
}

/* The reason a stack did not start: the last thing it said. */
static int start_error(const wtb_netstack_cfg *cfg, const char *why, wtb_error **err)
{
	_cleanup_free_ char *log = NULL;
	_cleanup_error_ wtb_error *rerr = NULL;
	char *line = NULL;

	if (why == NULL && cfg->log != NULL &&
	    read_file(cfg->log, 1 << 16, &log, NULL, &rerr) == 0) {
		/* slirp4netns says why first ("child failed" follows), pasta last;
		 * pasta also complains when there is no syslog: not the reason. */
		for (char *save = NULL, *l = strtok_r(log, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save))
			if (strstr(l, "to syslog") == NULL && l[strspn(l, " \t")] != '\0' &&
			    (line == NULL || cfg->kind == WTB_NETSTACK_PASTA))
				line = l;
	}
	if (why == NULL)
		why = line ? line : "it exited before the network was configured";
	return wtb_error_set(err, 0, "cannot start %s: %s", netstack_name(cfg->kind), why);
}

static int high(int *fd)
{
	int h = fcntl(*fd, F_DUPFD_CLOEXEC, FD_HIGH);

	closep(fd);
	*fd = h;
	return h;
}

int netstack_start(const wtb_netstack_cfg *cfg, pid_t init, wtb_netstack *ns, wtb_error **err)
{
	char userns[64], netns[64], user_opt[80];
	_cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int log_fd = -1, ready_r = -1, ready_w = -1, exit_r = -1;
	const char *runas = geteuid() == 0 ? "0:0" : NULL;
	struct pollfd p = {.events = POLLIN};
	int rd[2], ex[2], n;
	char c;

	snprintf(userns, sizeof(userns), "/proc/%d/ns/user", (int)init);
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)init);
	snprintf(user_opt, sizeof(user_opt), "--userns-path=%s", userns);
	/* --enable-ipv6 starts nothing of IPv6 on the host: the stack opens an
	 * IPv6 socket only for a connection the sandbox makes, so a host
	 * without IPv6 fails that connection, never the start. */
	const char *slirp_argv[] = {
	    cfg->path,		 "--configure",	 "--mtu=65520", "--disable-host-loopback",
	    "--enable-ipv6",	 "--ready-fd=3", "--exit-fd=4", user_opt,
	    "--netns-type=path", netns,		 WTB_SLIRP_TAP, NULL};
	/* -T/-U none: nothing bound on the host's loopback is forwarded in;
	 * -t/-u none: nothing of the sandbox is published on the host (wtbox
	 * forwards ports itself); --no-map-gw: the gateway address is not
	 * the host. As root pasta would switch to nobody, who cannot open the
	 * sandbox's namespaces. */
	const char *pasta_argv[] = {cfg->path,	   "--foreground",
				    "--quiet",	   "--config-net",
				    "-t",	   "none",
				    "-u",	   "none",
				    "-T",	   "none",
				    "-U",	   "none",
				    "--no-map-gw", "--dns-forward",
				    WTB_PASTA_DNS, "--pid",
				    "/dev/fd/5",   "--userns",
				    userns,	   "--netns",
				    netns,	   runas ? "--runas" : NULL,
				    runas,	   NULL};
	spawn_fds f;

	if (null_fd < 0)
		return wtb_error_errno(err, "cannot open '/dev/null'");
	log_fd = open(cfg->log ? cfg->log : "/dev/null",
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0)
		return wtb_error_errno(err, "cannot open '%s'", cfg->log);
	if (pipe2(rd, O_CLOEXEC) < 0)
		return wtb_error_errno(err, "cannot start %s", netstack_name(cfg->kind));
	ready_r = rd[0];
	ready_w = rd[1];
	if (pipe2(ex, O_CLOEXEC) < 0)
		return wtb_error_errno(err, "cannot start %s", netstack_name(cfg->kind));
	exit_r = ex[0];
	ns->exit_fd = ex[1];
	if (high(&null_fd) < 0 || high(&log_fd) < 0 || high(&ready_w) < 0 || high(&exit_r) < 0)
		return wtb_error_errno(err, "cannot start %s", netstack_name(cfg->kind));
	f = (spawn_fds){null_fd, log_fd, ready_w, exit_r};
	ns->pid = spawn(cfg, cfg->kind == WTB_NETSTACK_PASTA ? pasta_argv : slirp_argv, &f);
	if (ns->pid < 0) {
		closep(&ns->exit_fd);
		return wtb_error_errno(err, "cannot start %s", netstack_name(cfg->kind));
	}
	closep(&ready_w);
	closep(&exit_r);
	/* Ready: the interface is up with its address and default route. */
	p.fd = ready_r;
	while ((n = poll(&p, 1, READY_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (n > 0 && read(ready_r, &c, 1) == 1)
		return 0;
	netstack_stop(ns);
	return start_error(cfg, n == 0 ? "the network was not configured within 10 s" : NULL, err);
}

void netstack_stop(wtb_netstack *ns)
{
	closep(&ns->exit_fd);
	if (ns->pid <= 0)
		return;
	if (!wait_exit(ns->pid, STOP_TIMEOUT_MS))
		kill(ns->pid, SIGKILL);
	while (waitpid(ns->pid, NULL, 0) < 0 && errno == EINTR)
		;
	ns->pid = -1;
}

/* ------------------------------------------------------------------ */
/* Inside the sandbox (init).                                          */

/* One rtnetlink request, its attributes appended. */
typedef struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifaddrmsg addr;
		struct rtmsg route;
	} u;
	char attrs[64];
} nl_req;

static void nl_attr(nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send `r`, read the kernel's answer: 0 or -errno. */
static int nl_talk(int fd, nl_req *r)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr h;
		char buf[512];
	} ans;
	ssize_t n;

	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	do
		n = recv(fd, &ans, sizeof(ans), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(&ans.h, (size_t)n) || ans.h.nlmsg_type != NLMSG_ERROR ||
	    ans.h.nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(&ans.h))->error;
}

/* WTB_SLIRP_ADDR6 on the tap, without duplicate address detection (the
 * stack is the only other node on the link), and the default route via
 * the stack's gateway. */
static int slirp_ipv6_up(unsigned ifindex)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct in6_addr addr, gw;
	nl_req r;
	int rc;

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET6, WTB_SLIRP_ADDR6, &addr);
	inet_pton(AF_INET6, WTB_SLIRP_GATEWAY6, &gw);
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.addr));
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.u.addr = (struct ifaddrmsg){.ifa_family = AF_INET6,
				      .ifa_prefixlen = WTB_SLIRP_PREFIX6,
				      .ifa_flags = IFA_F_NODAD,
				      .ifa_scope = RT_SCOPE_UNIVERSE,
				      .ifa_index = ifindex};
	nl_attr(&r, IFA_LOCAL, &addr, sizeof(addr));
	nl_attr(&r, IFA_ADDRESS, &addr, sizeof(addr));
	if ((rc = nl_talk(fd, &r)) < 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.route));
	r.h.nlmsg_type = RTM_NEWROUTE;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.u.route = (struct rtmsg){.rtm_family = AF_INET6,
				   .rtm_table = RT_TABLE_MAIN,
				   .rtm_protocol = RTPROT_STATIC,
				   .rtm_scope = RT_SCOPE_UNIVERSE,
				   .rtm_type = RTN_UNICAST};
	nl_attr(&r, RTA_GATEWAY, &gw, sizeof(gw));
	nl_attr(&r, RTA_OIF, &ifindex, sizeof(ifindex));
	return nl_talk(fd, &r);
}

/* slirp4netns leaves IPv6 to SLAAC: its address and route come 2 to 3.5 s
 * after the stack is ready (duplicate address detection of the
 * link-local address, a router solicitation, detection again for the new
 * address), so a command that starts at once would find no IPv6. A fixed
 * address and route work at once. Router advertisements are turned off
 * first, so that SLAAC does not add a second address and route later:
 * through the host's /proc, which shows the sysctls of the reader's
 * network namespace (the sandbox's own /proc/sys is read-only). */
void netstack_inside(const wtb_netstack_cfg *cfg)
{
	_cleanup_close_ int ra = -1;
	unsigned ifindex;

	if (cfg->kind != WTB_NETSTACK_SLIRP4NETNS)
		return;
	ifindex = if_nametoindex(WTB_SLIRP_TAP);
	if (ifindex == 0)
		return;
	ra = open("/proc/sys/net/ipv6/conf/" WTB_SLIRP_TAP "/accept_ra", O_WRONLY | O_CLOEXEC);
	if (ra >= 0)
		(void)!write(ra, "0", 1);
	/* EAFNOSUPPORT (no IPv6 in the kernel), EACCES (disabled in the
	 * namespace): IPv4 only, as the kernel wants. */
	(void)slirp_ipv6_up(ifindex);
}
