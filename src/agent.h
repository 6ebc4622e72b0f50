/* An agent on the host side: its repository, name, paths, record,
 * worktree and branch, from creation (or reuse) to the verdict at the end.
 * The sandbox is not in here: cmd_run.c puts the two together. */
#ifndef WTBOX_AGENT_H
#define WTBOX_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "gitstate.h"
#include "nested.h"
#include "paths.h"
#include "state.h"
#include "worktree.h"

typedef struct wtb_agent_opts {
	const char *dir;    /* -C DIR, or NULL for "." */
	const char *name;   /* --name, or NULL for a generated one */
	const char *base;   /* --base, or NULL for HEAD */
	const char *report; /* --report FILE, or NULL */
	bool keep;	    /* --keep */
} wtb_agent_opts;

typedef struct wtb_agent {
	wtb_repo repo;
	wtb_dirs dirs;
	wtb_config cfg;
	wtb_agent_paths paths;
	wtb_record rec;
	char *name;
	char *branch; /* refs/heads/wtbox/<name> */
	char *admin;
	char *lock_reason;
	git_oid base;
	wtb_tree_spec spec;
	wtb_gitstate git;   /* its private git directory */
	uint64_t import_us; /* time the last import took (WTBOX_TIMING) */
	int lock_fd;
	bool created;	  /* this run created the agent (rather than reusing it) */
	bool unpublished; /* acquired, its record not yet naming this process */
	wtb_created made; /* what creating it made, for agent_abandon() */
} wtb_agent;

#define WTB_AGENT_INIT                                                                             \
	{                                                                                          \
		.lock_fd = -1                                                                      \
	}

/* Find the repository, the configuration and the base commit; check the
 * name. Nothing is created. */
int agent_prepare(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err);

/* The agent a run would get, without creating anything (--dry-run): the
 * name a new one would have, or an existing one's record, refused as a run
 * would refuse it. */
int agent_preview(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err);

/* Under the repository lock: pick the name, then create the agent or take
 * over an existing one (its worktree locked, its record saying it runs).
 * Taking over an existing one leaves the record to agent_publish and the
 * lock held until then. */
int agent_acquire(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err);

/* The record names this process as the agent's supervisor (written when
 * acquire left it unwritten, or when this process is not the one that
 * acquired: `run -d`'s child), then the repository lock goes. `run` calls
 * it while init builds the sandbox, when the supervisor would only wait:
 * a record costs 0.3-2 ms to write (ext4 writes its data out on the
 * rename), and until then the lock keeps any other run of the repository
 * from taking the agent over (and every other run, sync, rm and gc of
 * the repository waits: for a reused agent the lock also covers the port
 * allocation, the sandbox's parts, the clone and the network stack's
 * start). On failure the lock is still held, for agent_abandon. */
int agent_publish(wtb_agent *a, wtb_error **err);

/* The command was started in a sandbox whose init has host pid `init`:
 * record it, with the run's ports, network mode and policy (already set in
 * a->rec by the caller). */
int agent_record_started(wtb_agent *a, pid_t init, wtb_error **err);

/* The run failed before the command started: a new agent is rolled back
 * completely, an existing one is kept as it was. */
void agent_abandon(wtb_agent *a);

/* Under the repository lock: the "changed nothing" rule, then remove (to
 * the trash) or keep, then the report. */
int agent_finish(wtb_agent *a, const wtb_agent_opts *o, int status, wtb_error **err);

/* Under the repository lock: import what the agent `o->name` did in git
 * (running or not). */
int agent_sync(wtb_agent *a, const wtb_agent_opts *o, wtb_import *imp, wtb_error **err);

/* The repository lock, for commands that change agents (rm, gc). */
int agent_lock(wtb_agent *a, wtb_error **err);
void agent_unlock(wtb_agent *a);

/* After agent_prepare(), usually under the lock: name the agent and load
 * its record; "no agent 'NAME' in repository 'DIR'" when there is none. */
int agent_load(wtb_agent *a, const char *name, wtb_error **err);

/* rm --force of an agent whose record cannot be used (agent_load failed
 * on it): move the record aside (it goes to the trash with the state) and
 * put in its place one rebuilt from git (worktree, branch tip as base).
 * Refused while the worktree is locked by a wtbox process that lives. */
int agent_salvage(wtb_agent *a, const char *name, wtb_error **err);

/* Forget the loaded agent (name, paths, record), to load another. */
void agent_unload(wtb_agent *a);

/* Under the lock, for a loaded agent whose record says "creating" and whose
 * supervisor is gone: remove the pieces of that creation, as the next run
 * would (its branch only while it points at the base). */
int agent_drop_interrupted(wtb_agent *a, wtb_error **err);
/* Record that the agent is being removed, by this process. */
int agent_mark_removing(wtb_agent *a, wtb_error **err);

/* Empty the trash of entries past the grace period. */
void agent_sweep_trash(const wtb_agent *a);

/* Once no process of its sandbox is left: the git repositories the agent
 * left in its worktree move into its state (nested.h); `n` says what the
 * state holds and what could not be moved. agent_stash_nested_say does the
 * same and says on stderr what stays in the worktree. */
void agent_stash_nested(wtb_agent *a, wtb_nested *n);
void agent_stash_nested_say(wtb_agent *a);

void agent_free(wtb_agent *a);

/* The short branch name: wtbox/<name>. */
const char *agent_branch_short(const wtb_agent *a);

#endif
