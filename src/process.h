/* Process bookkeeping of the supervisor: signals and exit statuses. */
#ifndef WTBOX_PROCESS_H
#define WTBOX_PROCESS_H

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

/* A pidfd for `pid`, only if it is the process that started at `start`
 * (clock ticks since boot, proc_start_time()). The start time is checked
 * again after opening: a pid reused in between is never taken for it.
 * -1 with errno set (ESRCH: not that process) otherwise. */
int process_pidfd_verified(pid_t pid, uint64_t start);

/* Signal the process a pidfd names (pidfd_send_signal). */
int process_pidfd_kill(int pidfd, int sig);

#endif
