/* wtbox exec NAME -- CMD, wtbox shell NAME: run another command inside a
 * running agent's sandbox, with the agent's namespaces, policy,
 * capabilities (none) and environment. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cmd.h"
#include "error.h"
#include "filter.h"
#include "name.h"
#include "nsenter.h"
#include "process.h"
#include "util.h"

static const char exec_usage[] =
    "usage: wtbox exec NAME [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD inside the sandbox of the running agent NAME: in its namespaces\n"
    "(it sees the agent's files, /tmp, processes, host name and network), in\n"
    "its worktree, with its environment and seccomp policy, without any\n"
    "capability. The exit status is CMD's (127: not found, 126: not\n"
    "executable, 128+N: killed by signal N); 125 when wtbox failed (the agent\n"
    "does not exist or does not run). CMD ends when the sandbox ends.\n"
    "\n"
    "When stdin is a terminal, CMD gets a terminal of the sandbox's own,\n"
    "relayed by wtbox: the sandbox never touches yours.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static const char shell_usage[] =
    "usage: wtbox shell NAME\n"
    "\n"
    "An interactive shell inside the sandbox of the running agent NAME, as\n"
    "`wtbox exec NAME -- $SHELL` (/bin/sh when $SHELL is not there inside).\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

typedef struct exec_parts {
	wtb_filter filter;
	bool no_filter;
	char **env;
	char *cwd;
} exec_parts;

static void exec_parts_free(exec_parts *p)
{
	filter_free(&p->filter);
	strv_freep(&p->env);
	free(p->cwd);
}

/* The agent's seccomp filter: the one its run loaded, as the run saved
 * it (a policy file edited or removed since changes nothing). */
static int load_policy(exec_parts *p, const wtb_agent *a, wtb_error **err)
{
	if (a->rec.policy != NULL && strcmp(a->rec.policy, "none") == 0) {
		p->no_filter = true;
		return 0;
	}
	if (agent_filter_load(a->paths.state, &p->filter, err) < 0)
		return wtb_error_wrap(err, "cannot load the seccomp filter of agent '%s'", a->name);
	return 0;
}

static int exec_agent(const wtb_global *g, const char *name, char *const *argv, bool shell,
		      int *status, wtb_error **err)
{
	__attribute__((cleanup(agent_free))) wtb_agent a = WTB_AGENT_INIT;
	__attribute__((cleanup(exec_parts_free))) exec_parts p = {0};
	_cleanup_close_ int pidfd = -1;
	wtb_agent_opts o = {.dir = g->dir, .name = name};

	if (agent_prepare(&a, &o, err) < 0 || agent_load(&a, name, err) < 0)
		return -1;
	if (a.rec.state != WTB_STATE_RUNNING || !record_supervisor_alive(&a.rec) ||
	    a.rec.sandbox_pid <= 0)
		return wtb_error_set(err, 0, "agent '%s' is not running", name);
	/* The sandbox's init, by pid and start time; the pidfd then names
	 * exactly that process, whatever happens to the pid. */
	pidfd = process_open_verified(a.rec.sandbox_pid, a.rec.sandbox_start);
	if (pidfd < 0)
		return errno == ESRCH
			   ? wtb_error_set(err, 0,
					   "agent '%s' is not running (its sandbox is gone)", name)
			   : wtb_error_errno(err, "cannot open the sandbox of agent '%s'", name);
	if (load_policy(&p, &a, err) < 0 || agent_env_load(a.paths.state, &p.env, err) < 0)
		return wtb_error_wrap(err, "cannot enter agent '%s'", name);
	p.cwd = realpath(a.rec.worktree, NULL);
	if (p.cwd == NULL)
		return wtb_error_errno(err, "cannot find the worktree '%s' of agent '%s'",
				       a.rec.worktree, name);
	wtb_enter e = {
	    .pidfd = pidfd,
	    .argv = argv,
	    .shell = shell,
	    .envp = p.env,
	    .cwd = p.cwd,
	    .filter = p.no_filter ? NULL : &p.filter,
	};
	if (nsenter_run(&e, status, err) < 0)
		return wtb_error_wrap(err, "cannot run a command in agent '%s'", name);
	return 0;
}

/* NAME [--] CMD... or NAME alone (shell). */
static int exec_common(int argc, char **argv, const wtb_global *g, bool shell)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = shell ? "shell" : "exec";
	_cleanup_error_ wtb_error *err = NULL;
	const char *name;
	char *sh[2] = {NULL, NULL};
	int opt, status = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(shell ? shell_usage : exec_usage, stdout);
			return 0;
		}
		return cmd_usage_error(cmd, "unknown option '%s'", cmd_bad_option(argv));
	}
	if (optind >= argc)
		return cmd_usage_error(cmd, "no agent name given");
	name = argv[optind++];
	if (shell) {
		if (optind < argc)
			return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		sh[0] = getenv("SHELL");
		if (sh[0] == NULL || sh[0][0] != '/')
			sh[0] = (char *)"/bin/sh";
	} else {
		if (optind < argc && strcmp(argv[optind], "--") == 0)
			optind++;
		if (optind >= argc)
			return cmd_usage_error(cmd, "no command given");
	}
	if (name_validate(name, &err) < 0 ||
	    exec_agent(g, name, shell ? sh : argv + optind, shell, &status, &err) < 0)
		return wtb_error_report(err);
	return status;
}

static int exec_main(int argc, char **argv, const wtb_global *g)
{
	return exec_common(argc, argv, g, false);
}

static int shell_main(int argc, char **argv, const wtb_global *g)
{
	return exec_common(argc, argv, g, true);
}

const wtb_command cmd_exec_def = {
    .name = "exec",
    .summary = "run a command inside a running agent's sandbox",
    .usage = exec_usage,
    .run = exec_main,
};

const wtb_command cmd_shell_def = {
    .name = "shell",
    .summary = "an interactive shell inside a running agent's sandbox",
    .usage = shell_usage,
    .run = shell_main,
};
