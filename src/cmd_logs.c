/* wtbox logs NAME [-f]: the output of a detached agent's command, and its
 * supervisor's messages, from the agent's log file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "process.h"
#include "registry.h"
#include "util.h"

static const char logs_usage[] =
    "usage: wtbox logs [-f] NAME\n"
    "\n"
    "Print the log of agent NAME: the output (stdout and stderr) of the commands\n"
    "started with 'wtbox run -d', and what wtbox said about them after they\n"
    "started (denied system calls, the final report). Each run appends to it.\n"
    "\n"
    "Options:\n"
    "  -f, --follow  keep printing what is added until the agent's run ends\n"
    "  -h, --help    show this help\n";

/* How often -f looks for more: the wait for the supervisor's end is the
 * timer, so an ended run is noticed at once. */
#define FOLLOW_POLL_MS 100

/* Copy what was added to the log since the last call. */
static int copy_more(int fd, const char *path, wtb_error **err)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wtb_error_errno(err, "cannot read log '%s'", path);
		if (n == 0)
			return 0;
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return wtb_error_errno(err, "cannot write the log");
	}
}

static int show_log(const char *dir, const char *name, bool follow, wtb_error **err)
{
	__attribute__((cleanup(found_free))) wtb_found f = {0};
	_cleanup_close_ int fd = -1, pidfd = -1;
	bool alive;

	if (registry_find(&f, dir, name, err) < 0)
		return -1;
	if (f.rec.log == NULL)
		return wtb_error_set(err, 0,
				     "agent '%s' has no log: only 'wtbox run -d' writes one; a "
				     "foreground run's output went to its terminal",
				     name);
	/* Opened before the supervisor is looked at: nothing written after
	 * that look can be missed. */
	fd = open(f.rec.log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return wtb_error_errno(err, "cannot open the log of agent '%s' '%s'", name,
				       f.rec.log);
	found_status(&f, &alive);
	if (follow && alive)
		pidfd = process_open_verified(f.rec.pid, f.rec.pid_start);
	for (;;) {
		bool gone = pidfd < 0 || process_wait_gone(pidfd, FOLLOW_POLL_MS);

		if (copy_more(fd, f.rec.log, err) < 0)
			return -1;
		if (gone)
			return 0;
	}
}

static int logs_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_error_ wtb_error *err = NULL;
	bool follow = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			follow = true;
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return cmd_usage_error("logs", "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind >= argc)
		return cmd_usage_error("logs", "no agent name given");
	if (optind + 1 < argc)
		return cmd_usage_error("logs", "one agent name only");
	if (show_log(g->dir, argv[optind], follow, &err) < 0)
		return wtb_error_report(err);
	return 0;
}

const wtb_command cmd_logs_def = {
    .name = "logs",
    .summary = "print (or follow) a detached agent's output",
    .usage = logs_usage,
    .run = logs_main,
};
