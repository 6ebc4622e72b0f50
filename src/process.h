/* Process bookkeeping of the supervisor: signals, exit statuses, and what
 * the command leaves behind. */
#ifndef WTBOX_PROCESS_H
#define WTBOX_PROCESS_H

#include <sys/types.h>

#include "error.h"

/* Make this process the reaper of every orphan the command leaves, so
 * they can be counted (and, once sandboxed, killed). */
int process_become_subreaper(wtb_error **err);

/* From now on SIGTERM, SIGHUP, SIGINT and SIGQUIT do not end wtbox: the
 * first one is remembered (process_interrupted() returns it), so the run
 * can skip the command and still clean up. While the sandbox runs, the
 * same signals are read from a signalfd and forwarded to the command. */
void process_trap_signals(void);
int process_interrupted(void);

/* Processes still alive below this one (zombies are reaped first). */
int process_count_descendants(void);

/* The exit status as a shell reports it. Pure. */
int process_exit_status(int wait_status);

#endif
