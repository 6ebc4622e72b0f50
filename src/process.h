/* Running the agent's command (plain fork/exec until the sandbox exists)
 * and accounting for what it leaves behind. */
#ifndef WTBOX_PROCESS_H
#define WTBOX_PROCESS_H

#include <sys/types.h>

#include "error.h"

typedef struct wtb_spawn {
	char *const *argv; /* command and arguments */
	char *const *envp; /* its whole environment */
	const char *cwd;
} wtb_spawn;

/* Make this process the reaper of every orphan the command leaves, so
 * they can be counted (and, once sandboxed, killed). */
int process_become_subreaper(wtb_error **err);

/* From now on, SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1/2 and SIGWINCH do
 * not end wtbox: while the command runs they are passed on to it; before it
 * starts, a stop signal is remembered (process_interrupted() returns it) so
 * the run can skip the command and still clean up. */
void process_trap_signals(void);
int process_interrupted(void);

/* Start the command and wait for it. Signals sent to wtbox (SIGTERM,
 * SIGHUP, SIGINT, SIGQUIT, SIGUSR1/2, SIGWINCH) are passed on to the
 * command; wtbox itself stays alive to clean up after it.
 * *status is its exit status, 128+N when killed by signal N, 127 / 126
 * when it could not be started (then err explains why). */
int process_run(const wtb_spawn *s, int *status, wtb_error **err);

/* Processes still alive below this one (zombies are reaped first). */
int process_count_descendants(void);

/* The exit status as a shell reports it. Pure. */
int process_exit_status(int wait_status);

#endif
