/* wtbox run -d: the caller prepares the run (worktree, ports, record) and
 * forks; the child becomes the agent's supervisor in a session of its
 * own, and tells the caller over a socket when the command runs ("up",
 * with the lines to print) or, by closing it, that the run failed (its
 * exit status says how). Errors before "up" go to the caller's stderr;
 * everything after goes to the agent's log. */
#ifndef WTBOX_DETACH_H
#define WTBOX_DETACH_H

#include <stdbool.h>

#include "error.h"

typedef struct wtb_detach {
	bool on;	/* this process is a detached supervisor */
	bool up;	/* the caller was told the command runs */
	int sock;	/* to the caller, until up */
	int caller_out; /* the caller's stdout and stderr, while fds 1 and 2 */
	int caller_err; /* are the log (between redirect and up) */
} wtb_detach;

#define WTB_DETACH_INIT                                                                            \
	{                                                                                          \
		.sock = -1, .caller_out = -1, .caller_err = -1                                     \
	}

/* Fork. In the caller: closes *child_only (a lock the child goes on
 * holding; set to -1), then waits for the child's word and returns 1
 * with the exit status in *status (0 once up, the child's status
 * otherwise). In the child: returns 0, in a new session with stdin on
 * /dev/null. */
int detach_start(wtb_detach *d, int *child_only, int *status, wtb_error **err);

/* Right before the sandbox is built (it inherits fds 1 and 2): from now
 * on stdout and stderr append to `log` (created 0600), which gets a line
 * saying which command starts. */
int detach_redirect(wtb_detach *d, const char *log, char *const *argv, wtb_error **err);

/* The command could not be started: stdout and stderr are the caller's
 * again, for the error and the report. */
void detach_restore(wtb_detach *d);

/* The command runs: the caller prints `summary` and exits 0. */
void detach_up(wtb_detach *d, const char *summary);

void detach_close(wtb_detach *d);

#endif
