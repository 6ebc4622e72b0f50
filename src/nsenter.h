/* Entering a running agent's sandbox from outside (wtbox exec, shell):
 * its namespaces, then the same steps as the sandbox's command. */
#ifndef WTBOX_NSENTER_H
#define WTBOX_NSENTER_H

#include <stdbool.h>

#include "error.h"
#include "filter.h"

/* The command's environment, kept while the agent runs so that exec gives
 * its commands the same: `<state>/env`, mode 0600, NUL-separated. */
int agent_env_save(const char *state, char *const *env, wtb_error **err);
int agent_env_load(const char *state, char ***env, wtb_error **err);

/* The seccomp filter the run gave its command, kept the same way, so that
 * exec gives its commands exactly that one, whatever became of the policy
 * file since: `<state>/filter`, mode 0600. */
int agent_filter_save(const char *state, const wtb_filter *f, wtb_error **err);
int agent_filter_load(const char *state, wtb_filter *f, wtb_error **err);

/* The run is over: both files go (the environment may hold what --env
 * passed, a token say, which has no reason to stay on disk). Best
 * effort. */
void agent_run_files_drop(const char *state);

typedef struct wtb_enter {
	int pidfd;		  /* the sandbox's init, verified by the caller */
	char *const *argv;	  /* the command */
	bool shell;		  /* argv[0] is $SHELL: /bin/sh when it is not inside */
	char *const *envp;	  /* its environment */
	const char *cwd;	  /* the worktree */
	const wtb_filter *filter; /* the agent's seccomp filter, or NULL */
} wtb_enter;

/* Run the command in the sandbox and wait for it. *status is its exit
 * status as a shell reports it (127 not found, 126 not executable, 128+N
 * killed by signal N). Fails (125) when the sandbox cannot be entered. */
int nsenter_run(const wtb_enter *e, int *status, wtb_error **err);

#endif
