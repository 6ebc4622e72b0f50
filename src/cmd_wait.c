/* wtbox wait NAME: until the agent's run ends; its exit status is the
 * command's. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "process.h"
#include "registry.h"
#include "util.h"

static const char wait_usage[] =
    "usage: wtbox wait NAME\n"
    "\n"
    "Wait until the run of agent NAME ends (when it runs), then exit with its\n"
    "command's exit status (128+N: killed by signal N; 124: its --timeout).\n"
    "An agent whose supervisor was killed has no status: wait fails (125); so\n"
    "does one that its run removed as it ended (it changed nothing; a\n"
    "foreground run without --keep), whose status that run gave.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static int wait_agent(const char *dir, const char *name, int *status, wtb_error **err)
{
	__attribute__((cleanup(found_free))) wtb_found f = {0};
	_cleanup_close_ int pidfd = -1;
	bool alive;

	if (registry_find(&f, dir, name, err) < 0)
		return -1;
	found_status(&f, &alive);
	if (alive) {
		/* A pidfd becomes readable when its process ends: no polling. */
		pidfd = process_open_verified(f.rec.pid, f.rec.pid_start);
		if (pidfd >= 0)
			process_wait_gone(pidfd, -1);
		/* The supervisor writes the final record before it exits, or
		 * removes the agent if it changed nothing (then the status
		 * was that run's to give). */
		if (found_removed(&f))
			return wtb_error_set(
			    err, 0,
			    "agent '%s' has no exit status: it changed nothing and "
			    "its run removed it as it ended (the run's own exit "
			    "status is the command's)",
			    name);
		if (registry_reload(&f, err) < 0)
			return -1;
	}
	if (f.rec.state == WTB_STATE_REMOVING)
		return wtb_error_set(
		    err, 0,
		    "agent '%s' has no exit status: it was being removed when its "
		    "wtbox (pid %d) was killed; 'wtbox rm %s' finishes the removal",
		    name, (int)f.rec.pid, name);
	if (f.rec.state == WTB_STATE_CREATING)
		return wtb_error_set(err, 0,
				     "agent '%s' has no exit status: its wtbox (pid %d) was killed "
				     "while creating it; 'wtbox gc' cleans up",
				     name, (int)f.rec.pid);
	if (f.rec.state != WTB_STATE_EXITED)
		return wtb_error_set(err, 0,
				     "agent '%s' has no exit status: its supervisor (pid %d) ended "
				     "without recording one (orphaned)",
				     name, (int)f.rec.pid);
	*status = f.rec.exit_status;
	return 0;
}

static int wait_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_error_ wtb_error *err = NULL;
	int opt, status = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(wait_usage, stdout);
			return 0;
		}
		return cmd_usage_error("wait", "unknown option '%s'", cmd_bad_option(argv));
	}
	if (optind >= argc)
		return cmd_usage_error("wait", "no agent name given");
	if (optind + 1 < argc)
		return cmd_usage_error("wait", "one agent name only");
	if (wait_agent(g->dir, argv[optind], &status, &err) < 0)
		return wtb_error_report(err);
	return status;
}

const wtb_command cmd_wait_def = {
    .name = "wait",
    .summary = "wait for an agent's run to end; exit with its status",
    .usage = wait_usage,
    .run = wait_main,
};
