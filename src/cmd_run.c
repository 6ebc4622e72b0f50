/* wtbox run: one agent, one worktree, one command in a sandbox. The order
 * of a whole run is run_agent(). */
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "denials.h"
#include "detach.h"
#include "env.h"
#include "error.h"
#include "filter.h"
#include "filtercache.h"
#include "mount.h"
#include "netstack.h"
#include "nsenter.h"
#include "policy.h"
#include "ports.h"
#include "process.h"
#include "report.h"
#include "sandbox.h"
#include "userns.h"
#include "util.h"

extern char **environ;

static const char run_usage[] =
    "usage: wtbox run [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD in a sandbox, in the agent's own worktree on branch wtbox/NAME,\n"
    "created from REV (or reused when the agent exists). When CMD ends, every\n"
    "process of the sandbox is stopped; a worktree in which nothing changed is\n"
    "removed (to the trash); otherwise it is kept and a report says what changed.\n"
    "The exit status is CMD's (124: timeout, 125: wtbox failed, 126: CMD not\n"
    "executable, 127: CMD not found, 128+N: CMD killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -n, --name NAME      agent name (default: a generated one); letters, digits,\n"
    "                       '.', '_', '-', at most 64\n"
    "  -b, --base REV       start the branch from REV (default: HEAD)\n"
    "  -k, --keep           keep the worktree even if nothing changed\n"
    "  -r, --report FILE    write the report as JSON to FILE\n"
    "      --ro PATH        make host PATH visible read-only (repeatable)\n"
    "      --rw PATH        make host PATH visible read-write (repeatable)\n"
    "  -e, --env NAME[=VAL] pass host variable NAME, or set it (repeatable)\n"
    "      --root           appear as uid/gid 0 inside (default: your own ids)\n"
    "  -t, --timeout SECS   stop the sandbox after SECS seconds (exit 124)\n"
    "      --policy NAME|FILE\n"
    "                       seccomp policy: a shipped one by NAME (default,\n"
    "                       nested, strict; see 'wtbox policy list') or a FILE in\n"
    "                       the Docker/OCI format; 'none': no filter (default:\n"
    "                       default)\n"
    "      --log-denials    print one line per distinct system call the policy\n"
    "                       denies: 'wtbox: denied keyctl (curl, pid 12)'\n"
    "      --net MODE       the sandbox's network: 'private' (default): loopback\n"
    "                       and outbound connections through slirp4netns or\n"
    "                       pasta (WTBOX_NETSTACK picks one), the host's loopback\n"
    "                       not reachable; 'none': loopback only\n"
    "  -p, --publish [HOSTPORT:]PORT\n"
    "                       forward host 127.0.0.1:HOSTPORT (default: one from\n"
    "                       the range) to PORT inside (repeatable); the agent's\n"
    "                       own port, $PORT inside, is always forwarded\n"
    "      --port-range A-B host ports to allocate from (default 20000-29999,\n"
    "                       or WTBOX_PORT_RANGE)\n"
    "      --allow-host-port PORT\n"
    "                       let the sandbox reach host 127.0.0.1:PORT as\n"
    "                       localhost:PORT (repeatable)\n"
    "      --dry-run        print the sandbox's plan and exit; creates nothing\n"
    "  -d, --detach         run in the background: return once CMD runs, print the\n"
    "                       agent's name, branch, worktree, ports and log; CMD's\n"
    "                       output goes to the log (wtbox logs NAME); the agent\n"
    "                       is kept when it ends (see wtbox ls, wait, stop)\n"
    "  -h, --help           show this help\n";

/* The symlinks to make again inside (grants and HOME given through one). */
typedef struct link_list {
	wtb_link *v;
	size_t n;
} link_list;

static void link_list_clear(link_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].target);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* `given` (absolute) resolves to `real`: when they differ and only the last
 * component is a link, the link can be made again inside. When the parent
 * itself goes through a link, the path is reachable at its real place only
 * (a mount point may not pass through a symlink). */
static void link_add(link_list *l, const char *given, const char *real)
{
	_cleanup_free_ char *parent = xstrdup(given);
	_cleanup_free_ char *real_parent = NULL;
	char *slash = strrchr(parent, '/');

	if (strcmp(given, real) == 0 || slash == NULL || slash == parent)
		return;
	*slash = '\0';
	real_parent = realpath(parent, NULL);
	if (real_parent == NULL || strcmp(real_parent, parent) != 0)
		return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (wtb_link){.path = xstrdup(given), .target = xstrdup(real)};
}

typedef struct run_opts {
	wtb_agent_opts agent;
	strv ro, rw; /* canonical host paths */
	link_list links;
	strv env;
	bool as_root;
	bool dry_run;
	unsigned timeout;
	const char *policy; /* NAME, FILE or "none" */
	bool log_denials;
	wtb_port_range range;
	const char *range_src; /* where the range came from, for messages */
	wtb_publish *publish;  /* -p */
	size_t npublish;
	uint16_t *allow; /* --allow-host-port */
	size_t nallow;
	bool detach;	 /* -d */
	wtb_detach *det; /* -d: this process is the detached supervisor */
	const char *net; /* "private" or "none" */
	char **argv;
} run_opts;

static void run_opts_free(run_opts *o)
{
	strv_clear(&o->ro);
	strv_clear(&o->rw);
	strv_clear(&o->env);
	link_list_clear(&o->links);
	free(o->publish);
	free(o->allow);
}

enum {
	OPT_RO = 256,
	OPT_RW,
	OPT_ROOT,
	OPT_DRY_RUN,
	OPT_POLICY,
	OPT_LOG_DENIALS,
	OPT_PORT_RANGE,
	OPT_ALLOW_HOST_PORT,
	OPT_NET,
	OPT_DETACH = 'd',
};

static int add_publish(run_opts *o, const char *arg, wtb_error **err)
{
	wtb_publish p;

	if (publish_parse(arg, &p, err) < 0)
		return -1;
	for (size_t i = 0; i < o->npublish; i++) {
		if (o->publish[i].inside == p.inside)
			return wtb_error_set(err, 0, "port %u is published twice", p.inside);
		if (p.host != 0 && o->publish[i].host == p.host)
			return wtb_error_set(err, 0, "host port %u is published twice", p.host);
	}
	o->publish = xrealloc(o->publish, (o->npublish + 1) * sizeof(*o->publish));
	o->publish[o->npublish++] = p;
	return 0;
}

static int add_allow(run_opts *o, const char *arg, wtb_error **err)
{
	uint16_t port;

	if (port_parse(arg, "--allow-host-port", &port, err) < 0)
		return -1;
	for (size_t i = 0; i < o->nallow; i++)
		if (o->allow[i] == port)
			return 0;
	o->allow = xrealloc(o->allow, (o->nallow + 1) * sizeof(*o->allow));
	o->allow[o->nallow++] = port;
	return 0;
}

/* A granted path: it must exist, and the sandbox uses its canonical form
 * (a mount point may not pass through a symlink). */
static int add_grant(strv *list, link_list *links, const char *opt, const char *path,
		     wtb_error **err)
{
	char *real = realpath(path, NULL);
	_cleanup_free_ char *cwd = NULL, *given = NULL, *why = NULL;

	if (real == NULL && errno == ENOENT)
		return wtb_error_set(err, 0, "cannot grant %s '%s': it does not exist", opt, path);
	if (real == NULL)
		return wtb_error_errno(err, "cannot grant %s '%s'", opt, path);
	why = mount_grant_refusal(real, NULL, NULL);
	if (why != NULL) {
		wtb_error_set(err, 0, "cannot grant %s '%s': %s", opt, path, why);
		free(real);
		return -1;
	}
	strv_push(list, real);
	cwd = getcwd(NULL, 0);
	given = path[0] == '/' || cwd == NULL ? xstrdup(path) : path_join(cwd, path);
	/* "dir/", "dir/." and "a//dir" name dir itself, no link; a path
	 * with ".." is shown at its real place only. */
	{
		_cleanup_free_ char *plain = path_plain(given);

		if (plain != NULL)
			link_add(links, plain, real);
	}
	return 0;
}

static int parse_timeout(const char *arg, unsigned *out, wtb_error **err)
{
	unsigned long v;

	if (parse_digits(arg, UINT_MAX / 2, &v) < 0 || v == 0)
		return wtb_error_set(err, 0, "invalid --timeout '%s': expected whole seconds > 0",
				     arg);
	*out = (unsigned)v;
	return 0;
}

static int parse_one(int opt, run_opts *o, wtb_error **err)
{
	switch (opt) {
	case 'n':
		o->agent.name = optarg;
		return 0;
	case 'b':
		o->agent.base = optarg;
		return 0;
	case 'k':
		o->agent.keep = true;
		return 0;
	case 'r':
		o->agent.report = optarg;
		return 0;
	case OPT_RO:
		return add_grant(&o->ro, &o->links, "--ro", optarg, err);
	case OPT_RW:
		return add_grant(&o->rw, &o->links, "--rw", optarg, err);
	case 'e':
		if (env_check_arg(optarg, err) < 0)
			return -1;
		strv_push(&o->env, xstrdup(optarg));
		return 0;
	case OPT_ROOT:
		o->as_root = true;
		return 0;
	case 't':
		return parse_timeout(optarg, &o->timeout, err);
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case OPT_POLICY:
		o->policy = optarg;
		return 0;
	case OPT_LOG_DENIALS:
		o->log_denials = true;
		return 0;
	case 'p':
		return add_publish(o, optarg, err);
	case OPT_PORT_RANGE:
		o->range_src = "--port-range";
		return port_range_parse(optarg, "--port-range", &o->range, err);
	case OPT_ALLOW_HOST_PORT:
		return add_allow(o, optarg, err);
	case OPT_DETACH:
		o->detach = true;
		return 0;
	case OPT_NET:
		if (strcmp(optarg, "private") != 0 && strcmp(optarg, "none") != 0)
			return wtb_error_set(err, 0, "invalid --net '%s': expected private or none",
					     optarg);
		o->net = optarg;
		return 0;
	}
	return -1;
}

/* What one option cannot tell alone, checked before anything is made. */
static int check_opts(const run_opts *o, wtb_error **err)
{
	/* The denials are the filter's: without one there is nothing to
	 * report, and the run would say nothing where the user expects a
	 * line per denied call. */
	if (o->log_denials && strcmp(o->policy, "none") == 0)
		return wtb_error_set(err, 0,
				     "--log-denials needs a seccomp filter, and --policy=none has "
				     "none");
	/* Inside, 127.0.0.1:PORT of an allowed host port is wtbox's. */
	for (size_t i = 0; i < o->npublish; i++)
		for (size_t k = 0; k < o->nallow; k++)
			if (o->publish[i].inside == o->allow[k])
				return wtb_error_set(
				    err, 0,
				    "port %u is both published (-p) and the host's "
				    "(--allow-host-port): inside, it can be only one",
				    o->allow[k]);
	/* An allowed host port that is wtbox's own forwarder of this run. */
	for (size_t i = 0; i < o->npublish; i++)
		for (size_t k = 0; k < o->nallow; k++)
			if (o->publish[i].host != 0 && o->publish[i].host == o->allow[k])
				return wtb_error_set(
				    err, 0,
				    "host port %u is both published (-p %u:%u) and allowed "
				    "(--allow-host-port): it would be this sandbox's own port",
				    o->allow[k], o->publish[i].host, o->publish[i].inside);
	if (o->agent.report != NULL)
		return report_check(o->agent.report, err);
	return 0;
}

/* -1 with *exit_now set: stop here (help, or a usage error). */
static int parse_opts(int argc, char **argv, run_opts *o, int *exit_now)
{
	static const struct option longopts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"base", required_argument, NULL, 'b'},
	    {"keep", no_argument, NULL, 'k'},
	    {"report", required_argument, NULL, 'r'},
	    {"ro", required_argument, NULL, OPT_RO},
	    {"rw", required_argument, NULL, OPT_RW},
	    {"env", required_argument, NULL, 'e'},
	    {"root", no_argument, NULL, OPT_ROOT},
	    {"timeout", required_argument, NULL, 't'},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"log-denials", no_argument, NULL, OPT_LOG_DENIALS},
	    {"publish", required_argument, NULL, 'p'},
	    {"port-range", required_argument, NULL, OPT_PORT_RANGE},
	    {"allow-host-port", required_argument, NULL, OPT_ALLOW_HOST_PORT},
	    {"detach", no_argument, NULL, OPT_DETACH},
	    {"net", required_argument, NULL, OPT_NET},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* The options that take one value; --ro, --rw, --env, -p and
	 * --allow-host-port add one more each time. */
	static const int once[] = {'n', 'b', 'r', 't', OPT_POLICY, OPT_PORT_RANGE, OPT_NET, 0};
	_cleanup_error_ wtb_error *err = NULL;
	const char *twice;
	unsigned seen = 0;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:n:b:kr:e:t:p:dh", longopts, NULL)) != -1) {
		if ((twice = cmd_given_twice(longopts, once, &seen, opt)) != NULL) {
			*exit_now = cmd_usage_error("run", "option '%s' given twice", twice);
			return -1;
		}
		switch (opt) {
		case 'h':
			fputs(run_usage, stdout);
			*exit_now = 0;
			return -1;
		case ':':
			*exit_now = cmd_usage_error("run", "option '%s' needs an argument",
						    cmd_bad_option(argv));
			return -1;
		case '?':
			*exit_now =
			    cmd_usage_error("run", "unknown option '%s'", cmd_bad_option(argv));
			return -1;
		default:
			if (parse_one(opt, o, &err) < 0) {
				*exit_now = wtb_error_report(err);
				return -1;
			}
		}
	}
	if (optind >= argc) {
		*exit_now = cmd_usage_error("run", "no command given");
		return -1;
	}
	if (check_opts(o, &err) < 0) {
		*exit_now = wtb_error_report(err);
		return -1;
	}
	if (o->range_src == NULL) {
		const char *env = getenv("WTBOX_PORT_RANGE");

		o->range_src = env && env[0] ? "WTBOX_PORT_RANGE" : "default";
		if (port_range_parse(env && env[0] ? env : WTB_PORT_RANGE_DEFAULT,
				     "WTBOX_PORT_RANGE", &o->range, &err) < 0) {
			*exit_now = wtb_error_report(err);
			return -1;
		}
	}
	o->argv = argv + optind;
	return 0;
}

/* ------------------------------------------------------------------ */

/* The seccomp policy of the run, compiled. */
typedef struct run_policy {
	bool none;
	wtb_policy policy;
	wtb_filter filter;
	bool log_denials;
	wtb_filter notify; /* --log-denials: what the command loads */
	char *cache;	   /* where compiled filters are kept */
	char *file;	   /* a policy file's absolute path, for the record */
} run_policy;

static void run_policy_free(run_policy *rp)
{
	free(rp->cache);
	free(rp->file);
	policy_free(&rp->policy);
	filter_free(&rp->filter);
	filter_free(&rp->notify);
}

/* --log-denials: the same policy once more, with its errors as
 * notifications; the real filter answers them. */
static int compile_notify(run_policy *rp, const wtb_policy_env *env, wtb_error **err)
{
	static const wtb_filter_opts notify = {.notify = true};

	rp->log_denials = true;
	if (filter_compile_cached(&rp->notify, &rp->policy, env, &notify, rp->cache, NULL, err) <
		0 ||
	    denials_prepare(&rp->filter, err) < 0)
		return wtb_error_wrap(err, "policy '%s'", rp->policy.source);
	return 0;
}

static int load_policy(const run_opts *o, run_policy *rp, wtb_error **err)
{
	const char *debug_env = getenv("WTBOX_DEBUG");
	bool debug = debug_env && strcmp(debug_env, "1") == 0, hit = false;
	wtb_policy_env env;

	if (strcmp(o->policy, "none") == 0) {
		rp->none = true;
		return 0;
	}
	policy_env_host(&env);
	/* A dry run creates nothing, the cache included. */
	rp->cache = o->dry_run ? NULL : filter_cache_dir();
	/* Read, and parsed only when the cache does not have its filter. */
	if (policy_read(&rp->policy, o->policy, err) < 0)
		return -1;
	/* The file just read, by its absolute path, for the record. */
	if (policy_arg_is_file(o->policy))
		rp->file = realpath(o->policy, NULL);
	if (filter_compile_cached(&rp->filter, &rp->policy, &env, NULL, rp->cache, &hit, err) < 0 ||
	    (o->log_denials && compile_notify(rp, &env, err) < 0))
		return -1;
	if (debug)
		fprintf(stderr, "wtbox: debug: policy '%s': filter %s\n", rp->policy.source,
			hit ? "from the cache" : "compiled");
	for (size_t i = 0; debug && i < rp->filter.skipped.n; i++)
		fprintf(stderr, "wtbox: debug: policy '%s': %s: unknown system call '%s' skipped\n",
			rp->policy.source, rp->filter.skipped_at.v[i], rp->filter.skipped.v[i]);
	return 0;
}

static void print_policy(const run_policy *rp)
{
	_cleanup_free_ char *arches = NULL;

	if (rp->none) {
		printf("  seccomp   none (--policy=none: no filter)\n");
		return;
	}
	arches = filter_arches_text(&rp->filter);
	printf("  seccomp   %s: default %s, %zu rules, arches %s", rp->policy.source,
	       policy_action_name(rp->policy.default_action), rp->filter.nrules, arches);
	if (rp->filter.skipped.n > 0)
		printf(", %zu unknown syscalls skipped", rp->filter.skipped.n);
	putchar('\n');
	if (rp->log_denials)
		printf("  denials   reported on stderr (--log-denials)\n");
}

/* The host ports of a run, held (bound) from allocation until the
 * supervisor ends. [0] is the agent's PORT. */
typedef struct run_ports {
	wtb_listener *v;
	size_t n;
} run_ports;

static void run_ports_free(run_ports *rp)
{
	for (size_t i = 0; i < rp->n; i++)
		listener_close(&rp->v[i]);
	free(rp->v);
	rp->v = NULL;
	rp->n = 0;
}

/* Ports not to allocate: those the run holds already, and the allowed
 * host ports (the agent's PORT is the same number inside, where wtbox has
 * those). */
static uint16_t *held_ports(const run_ports *rp, const uint16_t *allow, size_t nallow,
			    size_t *nheld)
{
	uint16_t *held = xcalloc(rp->n + nallow + 1, sizeof(*held));
	size_t n = 0;

	for (size_t i = 0; i < rp->n; i++)
		if (rp->v[i].port != 0)
			held[n++] = rp->v[i].port;
	for (size_t i = 0; i < nallow; i++)
		held[n++] = allow[i];
	*nheld = n;
	return held;
}

/* The port this agent had last time for `inside` (0 for its own PORT). */
static uint16_t previous_port(const wtb_record *rec, uint16_t inside)
{
	for (size_t i = 0; i < rec->nports; i++)
		if (inside == 0 ? i == 0 : (i > 0 && rec->ports[i].inside == inside))
			return rec->ports[i].host;
	return 0;
}

static int allocate_one(run_ports *rp, size_t slot, const run_opts *o, uint16_t preferred,
			uint16_t inside, wtb_error **err)
{
	size_t nheld;
	_cleanup_free_ uint16_t *held = held_ports(rp, o->allow, o->nallow, &nheld);
	wtb_listener l = WTB_LISTENER_INIT;

	if (port_allocate(&o->range, preferred, held, nheld, &l, err) < 0)
		return wtb_error_wrap(err, "cannot allocate a port (range %u-%u, %s)", o->range.lo,
				      o->range.hi, o->range_src);
	if (inside != 0)
		l.inside = inside;
	rp->v[slot] = l;
	return 0;
}

/* Bind every host port of the run: explicit ones first (they are the
 * user's word), then the agent's PORT (the one it had last time when free,
 * else one derived from its name), then the other published ports. The
 * list is the agent's PORT, then the -p ports in the order given. */
static int allocate_ports(run_ports *rp, const run_opts *o, const wtb_agent *a, wtb_error **err)
{
	uint16_t preferred = previous_port(&a->rec, 0);
	run_ports got = {.v = xcalloc(o->npublish + 1, sizeof(wtb_listener)), .n = o->npublish + 1};

	for (size_t i = 0; i < got.n; i++)
		got.v[i] = (wtb_listener)WTB_LISTENER_INIT;
	for (size_t i = 0; i < o->npublish; i++) {
		wtb_listener l = WTB_LISTENER_INIT;

		if (o->publish[i].host == 0)
			continue;
		if (port_bind(o->publish[i].host, &l, err) < 0) {
			if ((*err)->errnum == EADDRINUSE) {
				wtb_error_free(err);
				wtb_error_set(err, 0, "cannot publish host port %u: it is in use",
					      o->publish[i].host);
			}
			run_ports_free(&got);
			return -1;
		}
		l.inside = o->publish[i].inside;
		got.v[i + 1] = l;
	}
	if (allocate_one(&got, 0, o, preferred ? preferred : port_preferred(&o->range, a->name), 0,
			 err) < 0) {
		run_ports_free(&got);
		return -1;
	}
	for (size_t i = 0; i < o->npublish; i++) {
		uint16_t prev = previous_port(&a->rec, o->publish[i].inside);

		if (o->publish[i].host != 0)
			continue;
		if (allocate_one(&got, i + 1, o, prev ? prev : (uint16_t)(got.v[0].port + 1),
				 o->publish[i].inside, err) < 0) {
			run_ports_free(&got);
			return -1;
		}
	}
	*rp = got;
	return 0;
}

/* The mappings go in the record (for the next run, and for `ls`). */
static void record_ports(wtb_agent *a, const run_ports *rp)
{
	free(a->rec.ports);
	a->rec.ports = xcalloc(rp->n + 1, sizeof(*a->rec.ports));
	for (size_t i = 0; i < rp->n; i++)
		a->rec.ports[i] = (wtb_port_map){.host = rp->v[i].port, .inside = rp->v[i].inside};
	a->rec.nports = rp->n;
}

static void print_ports(const wtb_agent *a, const run_ports *rp)
{
	for (size_t i = 0; i < rp->n; i++)
		fprintf(stderr, "%s: http://127.0.0.1:%u -> :%u\n", a->name, rp->v[i].port,
			rp->v[i].inside);
}

/* What the sandbox is made of, for one agent: its mounts and environment. */
typedef struct sandbox_parts {
	wtb_root_list root;
	link_list links;
	wtb_mount_plan plan;
	char **env;
	char *home, *home_env, *agent_tmp, *agent_home, *agent_cache, *gitconfig, *xdg_gitconfig;
	char *worktree;
	/* --net=private: the stack (found before anything is created), the
	 * resolv.conf for inside and where it goes. */
	bool net_private;
	wtb_netstack_cfg net;
	char *resolv_conf, *resolv_at;
} sandbox_parts;

static void parts_free(sandbox_parts *p)
{
	root_list_free(&p->root);
	link_list_clear(&p->links);
	mount_plan_free(&p->plan);
	strv_freep(&p->env);
	free(p->home);
	free(p->home_env);
	free(p->agent_tmp);
	free(p->agent_home);
	free(p->agent_cache);
	free(p->gitconfig);
	free(p->xdg_gitconfig);
	free(p->worktree);
	netstack_cfg_free(&p->net);
	free(p->resolv_conf);
	free(p->resolv_at);
}

/* The canonical form of a path that may not exist yet (dry run). */
static char *canonical(const char *path)
{
	char *real = realpath(path, NULL);

	return real ? real : xstrdup(path);
}

/* Grants that only the agent's places show wrong: its worktree, the .git
 * in it, its resolv.conf. Checked before anything is made. A new agent's
 * worktree does not exist yet, so no grant (which must exist) names it. */
static int check_grants(const run_opts *o, const wtb_agent *a, wtb_error **err)
{
	_cleanup_free_ char *worktree = NULL, *resolv_at = NULL;
	const strv *lists[] = {&o->ro, &o->rw};
	const char *opts[] = {"--ro", "--rw"};

	if (o->agent.name != NULL) {
		wtb_agent_paths paths;

		agent_paths_init(&paths, &a->dirs, a->repo.id, o->agent.name);
		worktree = canonical(paths.worktree);
		agent_paths_free(&paths);
	}
	if (strcmp(o->net, "private") == 0)
		resolv_at = mount_resolv_point();
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			_cleanup_free_ char *why =
			    mount_grant_refusal(lists[l]->v[i], worktree, resolv_at);

			if (why != NULL)
				return wtb_error_set(err, 0, "cannot grant %s '%s': %s", opts[l],
						     lists[l]->v[i], why);
		}
	return 0;
}

/* A host file to show read-only inside, if there is one. */
static char *existing_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	return canonical(path);
}

static const char *user_name(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u != NULL && u[0] != '\0')
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "user";
}

static int build_parts(sandbox_parts *p, const wtb_agent *a, const run_opts *o, unsigned port,
		       wtb_error **err)
{
	_cleanup_free_ char *gc = path_join(getenv("HOME"), ".gitconfig");
	_cleanup_free_ char *xgc = NULL, *xdg = NULL, *cache = NULL;
	const char *xdg_env = getenv("XDG_CONFIG_HOME");

	xdg =
	    xdg_env && xdg_env[0] == '/' ? xstrdup(xdg_env) : path_join(getenv("HOME"), ".config");
	xgc = path_join(xdg, "git/config");
	if (root_list_read(&p->root, err) < 0)
		return -1;
	p->home = canonical(getenv("HOME"));
	/* HOME inside is the host's string; through a link when it is one. */
	link_add(&p->links, getenv("HOME"), p->home);
	p->home_env = xstrdup(p->links.n > 0 ? getenv("HOME") : p->home);
	for (size_t i = 0; i < o->links.n; i++)
		link_add(&p->links, o->links.v[i].path, o->links.v[i].target);
	p->agent_tmp = path_join(a->paths.state, "tmp");
	p->agent_home = path_join(a->paths.state, "home");
	p->agent_cache = path_join(a->paths.state, "cache");
	p->gitconfig = existing_file(gc);
	p->xdg_gitconfig = existing_file(xgc);
	p->worktree = canonical(a->spec.path);
	if (p->net_private) {
		p->resolv_conf = path_join(a->paths.state, "resolv.conf");
		p->resolv_at = mount_resolv_point();
	}
	wtb_plan_input in = {
	    .root = &p->root,
	    .home = p->home,
	    .worktree = p->worktree,
	    .git_objects = a->git.objects,
	    .git_private = a->git.dir,
	    .gitfile = a->git.gitfile,
	    .checkout = a->repo.workdir,
	    .agent_tmp = p->agent_tmp,
	    .agent_home = p->agent_home,
	    .agent_cache = p->agent_cache,
	    .gitconfig = p->gitconfig,
	    .xdg_gitconfig = p->xdg_gitconfig,
	    .ro = &o->ro,
	    .rw = &o->rw,
	    .links = p->links.v,
	    .nlinks = p->links.n,
	    .resolv_conf = p->resolv_conf,
	    .resolv_at = p->resolv_at,
	};
	mount_plan_build(&p->plan, &in);
	cache = mount_cache_dir(p->home_env);
	wtb_env_input env = {
	    .host = environ,
	    .user = user_name(),
	    .home = p->home_env,
	    .cache = cache,
	    .name = a->name,
	    .branch = agent_branch_short(a),
	    .worktree = p->worktree,
	    .port = port,
	    .extra = &o->env,
	};
	p->env = env_build(&env);
	return 0;
}

static void print_network(const sandbox_parts *p)
{
	_cleanup_free_ char *desc = NULL;

	if (!p->net_private) {
		printf("  network   none: loopback only\n");
		return;
	}
	desc = netstack_describe(&p->net);
	printf("  network   private: loopback, and outbound through %s\n", desc);
	printf("  dns       %s (bound at %s)\n", netstack_dns(p->net.kind), p->resolv_at);
}

/* --net=private: the stack is found before anything of the run exists;
 * without one the run fails rather than run with another network. */
static int find_network(const run_opts *o, sandbox_parts *p, wtb_error **err)
{
	p->net_private = strcmp(o->net, "private") == 0;
	if (!p->net_private)
		return 0;
	return netstack_find(&p->net, getenv("PATH"), getenv("WTBOX_NETSTACK"), err);
}

/* The stack's files in the agent's state directory: the sandbox's
 * resolv.conf, and the stack's log (its messages never reach the
 * terminal). */
static int write_network_files(const wtb_agent *a, sandbox_parts *p, wtb_error **err)
{
	_cleanup_free_ char *conf = NULL, *host = NULL;
	_cleanup_error_ wtb_error *herr = NULL;
	size_t len;

	if (!p->net_private)
		return 0;
	/* Which resolvers the host has decides their order inside. */
	if (read_file("/etc/resolv.conf", 1u << 20, &host, &len, &herr) < 0)
		host = NULL;
	conf = netstack_resolv_conf(p->net.kind, host);
	p->net.log = path_join(a->paths.state, "netstack.log");
	return replace_file_if_changed(p->resolv_conf, conf, strlen(conf), 0644, err);
}

static void print_plan(const wtb_agent *a, const run_opts *o, const sandbox_parts *p,
		       const run_policy *rp, const run_ports *ports)
{
	unsigned id = (unsigned)getuid(), gid = (unsigned)getgid();

	printf("wtbox: dry run for agent '%s' (nothing is created)\n", a->name);
	printf("  worktree  %s (branch %s)\n", p->worktree, agent_branch_short(a));
	printf("  namespaces user mount pid net uts ipc cgroup\n");
	printf("  uid map   %u -> %u, gid map %u -> %u (setgroups denied)\n", o->as_root ? 0 : id,
	       id, o->as_root ? 0 : gid, gid);
	printf("  hostname  %s\n", a->name);
	print_network(p);
	printf("  ports     from %u-%u (%s), free now:", o->range.lo, o->range.hi, o->range_src);
	for (size_t i = 0; i < ports->n; i++)
		printf("%s 127.0.0.1:%u -> :%u", i ? "," : "", ports->v[i].port,
		       ports->v[i].inside);
	putchar('\n');
	for (size_t i = 0; i < o->nallow; i++)
		printf("  host port 127.0.0.1:%u reachable inside as localhost:%u\n", o->allow[i],
		       o->allow[i]);
	printf("  privileges no capabilities, no_new_privs\n");
	print_policy(rp);
	if (o->timeout > 0)
		printf("  timeout   %u s (SIGTERM, SIGKILL %d s later)\n", o->timeout,
		       WTB_TIMEOUT_GRACE);
	printf("mounts:\n");
	mount_plan_print(stdout, &p->plan);
	printf("environment:\n");
	for (char **e = p->env; *e != NULL; e++)
		printf("  %s\n", *e);
	printf("cwd: %s\ncommand:", p->worktree);
	for (char **arg = o->argv; *arg != NULL; arg++)
		printf(" %s", *arg);
	putchar('\n');
}

/* ------------------------------------------------------------------ */
/* run -d                                                              */

/* What `run -d` prints once the command runs. */
static char *detach_summary(const wtb_agent *a, const sandbox_parts *p)
{
	char *text = xasprintf("name      %s\nbranch    %s\nworktree  %s\n", a->name,
			       agent_branch_short(a), p->worktree);

	for (size_t i = 0; i < a->rec.nports; i++) {
		char *more = xasprintf("%sport      http://127.0.0.1:%u -> :%u\n", text,
				       a->rec.ports[i].host, a->rec.ports[i].inside);

		free(text);
		text = more;
	}
	char *more = xasprintf("%slog       %s\n", text, a->paths.log);

	free(text);
	return more;
}

/* The record says what ran and where its output goes. */
static void record_command(wtb_agent *a, const run_opts *o)
{
	strv argv = {0};

	for (char **arg = o->argv; *arg != NULL; arg++)
		strv_push(&argv, xstrdup(*arg));
	strv_freep(&a->rec.command);
	a->rec.command = argv.v;
	a->rec.detached = o->detach;
	free(a->rec.log);
	a->rec.log = o->detach ? xstrdup(a->paths.log) : NULL;
}

/* What on_started needs: the agent, the run's options, parts and policy
 * (the command's environment and filter, which `wtbox exec` gives its
 * commands too). */
typedef struct started_ctx {
	wtb_agent *a;
	const run_opts *o;
	const sandbox_parts *p;
	const run_policy *rp;
} started_ctx;

/* The record names this run's supervisor, and the repository lock goes:
 * the sandbox is being built meanwhile. */
static int on_building(void *ctx, wtb_error **err)
{
	started_ctx *c = ctx;

	return agent_publish(c->a, err);
}

static void on_started(void *ctx, pid_t init)
{
	started_ctx *c = ctx;
	_cleanup_error_ wtb_error *err = NULL;

	/* Only `ls` and `exec` read these: the run goes on without. The
	 * environment and the filter (the plain one, also with
	 * --log-denials) first: a record naming the sandbox means exec can
	 * go. Saved before a detached caller returns, so that stop finds
	 * the sandbox. */
	if (agent_env_save(c->a->paths.state, c->p->env, &err) < 0 ||
	    (!c->rp->none && agent_filter_save(c->a->paths.state, &c->rp->filter, &err) < 0)) {
		wtb_error_report(err);
		wtb_error_free(&err);
	}
	if (agent_record_started(c->a, init, &err) < 0)
		wtb_error_report(err);
	if (c->o->det != NULL) {
		_cleanup_free_ char *summary = detach_summary(c->a, c->p);

		detach_up(c->o->det, summary);
	}
}

/* Run the command in its sandbox. Returns -1 only when the sandbox could
 * not be built (then nothing ran); a command that could not be executed
 * (126/127) is a status like any other, with `*started` false. */
static int run_sandboxed(wtb_agent *a, const run_opts *o, const sandbox_parts *p,
			 const run_policy *rp, run_ports *ports, int *status, bool *started,
			 pid_t *exiting, wtb_error **err)
{
	wtb_sandbox sb = {
	    .hostname = a->name,
	    .as_root = o->as_root,
	    .plan = &p->plan,
	    .argv = o->argv,
	    .envp = p->env,
	    .cwd = p->worktree,
	    .timeout = o->timeout,
	    .filter = rp->none		? NULL
		      : rp->log_denials ? &rp->notify
					: &rp->filter,
	    .answer = rp->log_denials ? &rp->filter : NULL,
	    .net = p->net_private ? &p->net : NULL,
	    .on_started = on_started,
	    .on_building = on_building,
	    .ctx = &(started_ctx){.a = a, .o = o, .p = p, .rp = rp},
	    .listeners = ports->v,
	    .nlisteners = ports->n,
	    .allow_ports = o->allow,
	    .nallow = o->nallow,
	};
	wtb_sandbox_result res;
	int r = sandbox_run(&sb, &res, err);

	*exiting = r == 0 ? res.exiting : -1;
	/* -d: a command that did not start is reported to the caller. */
	if (o->det != NULL)
		detach_restore(o->det);
	a->rec.signal = r == 0 ? res.signal : 0;
	a->rec.stopped = r == 0 && (res.terminated || process_interrupted() == SIGTERM);
	*started = r == 0 && res.started;
	if (r == 0) {
		if (!res.started)
			fprintf(stderr, "wtbox: interrupted by signal %d; command not started\n",
				res.status - 128);
		*status = res.status;
		return 0;
	}
	if ((*err)->status == WTB_EXIT_NOEXEC || (*err)->status == WTB_EXIT_NOTFOUND) {
		*status = (*err)->status;
		wtb_error_report(*err);
		wtb_error_free(err);
		return 0;
	}
	return -1;
}

/* WTBOX_TIMING=1: how long each phase took and the supervisor's peak
 * memory, on stderr, for scripts/bench.sh. */
typedef struct run_timing {
	bool on;
	uint64_t t[5]; /* start, prepared, acquired, sandbox done, finished */
	int n;
} run_timing;

static void timing_mark(run_timing *t)
{
	if (t->on && t->n < (int)ARRAY_SIZE(t->t))
		t->t[t->n++] = now_us();
}

static void timing_print(const run_timing *t, const wtb_agent *a)
{
	_cleanup_free_ char *status = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	const char *hwm = NULL, *anon = NULL;

	if (!t->on || t->n < 5)
		return;
	if (read_file("/proc/self/status", 1 << 16, &status, NULL, &err) == 0) {
		hwm = strstr(status, "VmHWM:");
		anon = strstr(status, "RssAnon:");
	}
	/* Peak RSS counts the shared pages of every library mapped; RssAnon
	 * is what this process alone costs. */
	fprintf(stderr,
		"wtbox: timing prepare=%llu acquire=%llu sandbox=%llu finish=%llu us "
		"(import=%llu us), peak rss=%ld kB, anon=%ld kB\n",
		(unsigned long long)(t->t[1] - t->t[0]), (unsigned long long)(t->t[2] - t->t[1]),
		(unsigned long long)(t->t[3] - t->t[2]), (unsigned long long)(t->t[4] - t->t[3]),
		(unsigned long long)a->import_us, hwm ? strtol(hwm + 6, NULL, 10) : -1L,
		anon ? strtol(anon + 8, NULL, 10) : -1L);
}

static int run_agent(const run_opts *o, int *status, wtb_error **err)
{
	__attribute__((cleanup(agent_free))) wtb_agent a = WTB_AGENT_INIT;
	__attribute__((cleanup(parts_free))) sandbox_parts parts = {0};
	__attribute__((cleanup(run_policy_free))) run_policy policy = {0};
	__attribute__((cleanup(run_ports_free))) run_ports ports = {0};
	/* Reaped last: the verdict need not wait for its namespaces to go. */
	__attribute__((cleanup(sandbox_reap))) pid_t exiting = -1;
	const char *timing_env = getenv("WTBOX_TIMING");
	bool started = false;
	run_timing timing = {.on = timing_env && strcmp(timing_env, "1") == 0};

	timing_mark(&timing);

	/* A signal must not stop wtbox half-way through creating or removing
	 * a worktree: trap them for the whole run. */
	process_trap_signals();
	/* The seccomp filter is compiled first: a bad policy fails before
	 * anything of the run exists. */
	if (load_policy(o, &policy, err) < 0 || find_network(o, &parts, err) < 0)
		return -1;
	if (agent_prepare(&a, &o->agent, err) < 0 || check_grants(o, &a, err) < 0)
		return -1;
	timing_mark(&timing);
	if (o->dry_run) {
		/* The ports are bound as the run would bind them, and let go:
		 * a port that is taken now is an error now. */
		if (agent_preview(&a, &o->agent, err) < 0 ||
		    allocate_ports(&ports, o, &a, err) < 0 ||
		    build_parts(&parts, &a, o, ports.v[0].port, err) < 0)
			return -1;
		print_plan(&a, o, &parts, &policy, &ports);
		*status = 0;
		return 0;
	}
	/* The rules are compiled: from here on only the filters are used,
	 * and the supervisor need not carry the parsed policy. */
	policy_free(&policy.policy);
	if (policy.none)
		fprintf(stderr, "wtbox: warning: --policy=none: the command runs without a seccomp "
				"filter\n");
	if (userns_precheck(err) < 0 || agent_acquire(&a, &o->agent, err) < 0)
		return -1;
	free(a.rec.policy);
	/* A policy file is recorded by its absolute path, taken when it was
	 * read: `wtbox exec` reads it again, from wherever it is started. */
	a.rec.policy = xstrdup(policy.file != NULL ? policy.file : o->policy);
	free(a.rec.net);
	a.rec.net = xstrdup(o->net);
	if (allocate_ports(&ports, o, &a, err) < 0 ||
	    build_parts(&parts, &a, o, ports.v[0].port, err) < 0 ||
	    write_network_files(&a, &parts, err) < 0) {
		agent_abandon(&a);
		return -1;
	}
	record_ports(&a, &ports);
	timing_mark(&timing);
	record_command(&a, o);
	/* -d: the caller did the git work, the child supervises. A child
	 * forked here (not at the start) holds only what it copies of
	 * wtbox's heap and the pages it touches from now on: it never runs
	 * the code that opened the repository and made the worktree, so an
	 * idle agent costs less. The caller waits for "up" and returns; the
	 * run, its worktree and its ports are the child's. */
	if (o->det != NULL) {
		int r;

		malloc_trim(0);
		/* The repository lock, when the record is still to be
		 * published, is the child's to release. */
		r = detach_start(o->det, &a.lock_fd, status, err);
		if (r > 0)
			return 0;
		/* At once, not while init builds the sandbox: until the
		 * record names this child, `wtbox stop` would signal the
		 * caller, which does not pass it on. */
		if (r < 0 || agent_publish(&a, err) < 0) {
			agent_abandon(&a);
			return -1;
		}
	}
	/* -d: the sandbox inherits stdout and stderr: the log from here. */
	if (o->det != NULL && detach_redirect(o->det, a.paths.log, o->argv, err) < 0) {
		agent_abandon(&a);
		return -1;
	}
	if (o->det == NULL) {
		fprintf(stderr, "wtbox: agent '%s' on branch '%s' at '%s'\n", a.name,
			agent_branch_short(&a), parts.worktree);
		print_ports(&a, &ports);
	}
	/* A stop signal that came before this point skips the command
	 * (sandbox_run checks once signals are blocked). */
	if (run_sandboxed(&a, o, &parts, &policy, &ports, status, &started, &exiting, err) < 0) {
		agent_abandon(&a);
		return -1;
	}
	timing_mark(&timing);
	/* -d: once up, what ls, logs and wait tell of the agent outlives
	 * the run; a run that never started leaves nothing, as run does. */
	wtb_agent_opts finish = o->agent;
	if (o->det != NULL && o->det->up)
		finish.keep = true;
	/* An agent from an earlier run stays when this one's command never
	 * started (a mistyped command, say): its home and cache are what
	 * that earlier run left, not this run's to throw away. */
	if (!started && !a.created && !finish.keep) {
		fprintf(stderr, "wtbox: agent '%s' kept as it was: the command did not start\n",
			a.name);
		finish.keep = true;
	}
	if (agent_finish(&a, &finish, *status, err) < 0)
		return -1;
	agent_sweep_trash(&a);
	timing_mark(&timing);
	timing_print(&timing, &a);
	return 0;
}

static int run_main(int argc, char **argv, const wtb_global *g)
{
	__attribute__((cleanup(run_opts_free)))
	run_opts o = {.agent.dir = g->dir, .policy = "default", .net = "private"};
	__attribute__((cleanup(detach_close))) wtb_detach det = WTB_DETACH_INIT;
	_cleanup_error_ wtb_error *err = NULL;
	int status = 0, exit_now = 0;

	if (parse_opts(argc, argv, &o, &exit_now) < 0)
		return exit_now;
	/* -d: run_agent forks once the worktree is ready; its child is
	 * the supervisor. */
	if (o.detach && !o.dry_run)
		o.det = &det;
	if (run_agent(&o, &status, &err) < 0)
		return wtb_error_report(err);
	return status;
}

const wtb_command cmd_run_def = {
    .name = "run",
    .summary = "run a command in a sandbox, in an agent's own worktree",
    .usage = run_usage,
    .run = run_main,
};
