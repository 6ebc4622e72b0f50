/* wtbox stop NAME [-t SECONDS]: SIGTERM to every process of the agent's
 * sandbox, SIGKILL after the grace period; the supervisor lives on to
 * import the agent's git work and write the final record. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "process.h"
#include "registry.h"
#include "util.h"

#define STOP_GRACE_DEFAULT 10
/* How long the supervisor may take, once the sandbox is gone, to import
 * the agent's work and write its record (it may wait up to a minute for
 * the repository lock). */
#define STOP_FINISH_TIMEOUT_MS 120000

static const char stop_usage[] =
    "usage: wtbox stop [-t SECONDS] NAME\n"
    "\n"
    "Stop the run of agent NAME: SIGTERM to every process of its sandbox, then,\n"
    "if any is left after the grace period, SIGKILL. wtbox then imports the\n"
    "agent's git work and records how it ended, as when the command ends by\n"
    "itself; stop returns once that is done and prints it. Its worktree, branch\n"
    "and files are kept, unless its run removes it as a run that changed\n"
    "nothing does (a foreground run without --keep; stop says so). An agent\n"
    "that is not running is left alone.\n"
    "\n"
    "Options:\n"
    "  -t, --time SECONDS  grace period before SIGKILL (default: 10; 0: at once)\n"
    "  -h, --help          show this help\n";

static int parse_grace(const char *arg, unsigned *out, wtb_error **err)
{
	unsigned long v;

	if (parse_digits(arg, INT_MAX / 1000, &v) < 0)
		return wtb_error_set(err, 0, "invalid -t '%s': expected whole seconds >= 0", arg);
	*out = (unsigned)v;
	return 0;
}

static void print_ended(const wtb_found *f, const char *what)
{
	bool alive;
	wtb_status st = found_status(f, &alive);
	_cleanup_free_ char *text = record_status_text(&f->rec, st);

	if (st == WTB_STATUS_ORPHANED)
		printf("agent '%s' %s (orphaned: its supervisor is gone without a record of "
		       "the end)\n",
		       f->rec.name, what);
	else if (f->rec.state == WTB_STATE_EXITED)
		printf("agent '%s' %s (%s, exit status %d)\n", f->rec.name, what, text,
		       f->rec.exit_status);
	else
		printf("agent '%s' %s (%s)\n", f->rec.name, what, text);
}

/* SIGTERM to the supervisor, which passes it to every process of the
 * sandbox; SIGKILL to the sandbox's init (verified by its start time)
 * when some are left after the grace; then the supervisor's end. */
static int stop_running(wtb_found *f, int sup, unsigned grace, wtb_error **err)
{
	_cleanup_close_ int init = -1;

	init = process_open_verified(f->rec.sandbox_pid, f->rec.sandbox_start);
	if (process_signal(sup, SIGTERM) < 0) {
		if (errno == ESRCH)
			return 0;
		return wtb_error_errno(err, "cannot stop agent '%s' (pid %d)", f->rec.name,
				       (int)f->rec.pid);
	}
	if (init >= 0 && !process_wait_gone(init, (int)grace * 1000)) {
		fprintf(stderr, "wtbox: agent '%s' still runs after %u s: killing its sandbox\n",
			f->rec.name, grace);
		if (process_signal(init, SIGKILL) < 0 && errno != ESRCH)
			return wtb_error_errno(err,
					       "cannot kill the sandbox of agent '%s' (pid %d)",
					       f->rec.name, (int)f->rec.sandbox_pid);
	}
	if (!process_wait_gone(sup, STOP_FINISH_TIMEOUT_MS))
		return wtb_error_set(err, 0,
				     "agent '%s': its supervisor (pid %d) still runs %d s after "
				     "the sandbox was told to stop",
				     f->rec.name, (int)f->rec.pid, STOP_FINISH_TIMEOUT_MS / 1000);
	return 0;
}

static int stop_agent(const char *dir, const char *name, unsigned grace, wtb_error **err)
{
	__attribute__((cleanup(found_free))) wtb_found f = {0};
	_cleanup_close_ int sup = -1;
	bool alive;

	if (registry_find(&f, dir, name, err) < 0)
		return -1;
	found_status(&f, &alive);
	if (alive)
		sup = process_open_verified(f.rec.pid, f.rec.pid_start);
	if (sup < 0) {
		print_ended(&f, "is not running");
		return 0;
	}
	if (stop_running(&f, sup, grace, err) < 0)
		return -1;
	if (found_removed(&f)) {
		printf("agent '%s' stopped; it changed nothing and its run removed it\n", name);
		return 0;
	}
	if (registry_reload(&f, err) < 0)
		return -1;
	print_ended(&f, "stopped");
	return 0;
}

static int stop_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"time", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const int once[] = {'t', 0};
	_cleanup_error_ wtb_error *err = NULL;
	unsigned grace = STOP_GRACE_DEFAULT, seen = 0;
	const char *twice;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:h", longopts, NULL)) != -1) {
		if ((twice = cmd_given_twice(longopts, once, &seen, opt)) != NULL)
			return cmd_usage_error("stop", "option '%s' given twice", twice);
		switch (opt) {
		case 't':
			if (parse_grace(optarg, &grace, &err) < 0)
				return wtb_error_report(err);
			break;
		case 'h':
			fputs(stop_usage, stdout);
			return 0;
		case ':':
			return cmd_usage_error("stop", "option '%s' needs an argument",
					       cmd_bad_option(argv));
		default:
			return cmd_usage_error("stop", "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind >= argc)
		return cmd_usage_error("stop", "no agent name given");
	if (optind + 1 < argc)
		return cmd_usage_error("stop", "one agent name only");
	if (stop_agent(g->dir, argv[optind], grace, &err) < 0)
		return wtb_error_report(err);
	return 0;
}

const wtb_command cmd_stop_def = {
    .name = "stop",
    .summary = "stop an agent's run (SIGTERM, then SIGKILL after a grace period)",
    .usage = stop_usage,
    .run = stop_main,
};
