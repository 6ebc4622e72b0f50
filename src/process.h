/* Process bookkeeping of the supervisor: signals and exit statuses. */
#ifndef WTBOX_PROCESS_H
#define WTBOX_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* From now on SIGTERM, SIGHUP, SIGINT and SIGQUIT do not end wtbox: the
 * first one is remembered (process_interrupted() returns it), so the run
 * can skip the command and still clean up. While the sandbox runs, the
 * same signals are read from a signalfd and forwarded to the command. */
void process_trap_signals(void);
int process_interrupted(void);

/* The exit status as a shell reports it. Pure. */
int process_exit_status(int wait_status);

/* Processes wtbox did not start (another wtbox's supervisor, a sandbox's
 * init) are reached through a pidfd, opened first and then checked
 * against the start time recorded for them: a pid alone may have been
 * reused, and a signal through the pidfd reaches only the process it was
 * opened for. -1 when the process is gone or the pid is another's (errno
 * ESRCH). */
int process_open_verified(pid_t pid, uint64_t start);
/* Wait at most timeout_ms (-1: as long as it takes) for the process to
 * end; true when it has. */
bool process_wait_gone(int pidfd, int timeout_ms);
int process_signal(int pidfd, int sig);

#endif
