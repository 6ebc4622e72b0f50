/* What removing an agent would lose: the inventory `wtbox rm` checks
 * before it removes anything, and the removal of the agent's branches. */
#ifndef WTBOX_UNSAVED_H
#define WTBOX_UNSAVED_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent.h"
#include "error.h"
#include "util.h"

typedef struct wtb_unsaved {
	bool running;	  /* its supervisor is alive */
	pid_t pid;	  /* the supervisor's pid when running */
	strv branches;	  /* its branches: wtbox/NAME and wtbox/NAME@BRANCH (full names) */
	strv tips;	  /* the hex id each of them points at */
	size_t unique;	  /* commits on them that no other branch, tag or remote has */
	strv changed;	  /* staged, modified or deleted paths of the worktree */
	strv untracked;	  /* untracked paths that are not ignored */
	strv unimported;  /* what stays only in its private git directory */
	strv nested;	  /* its own git repositories, kept in its state (nested.h) */
	strv stuck;	  /* those that could not be moved out of the worktree */
	bool no_worktree; /* the worktree directory is gone */
} wtb_unsaved;

/* Under the repository lock, for a loaded agent: import its git work
 * first (unless it runs), then list what would be lost. */
int unsaved_collect(wtb_agent *a, wtb_unsaved *u, wtb_error **err);
/* Its branches only (for a removal that was interrupted: the worktree and
 * the admin data may be gone already). */
int unsaved_branches(wtb_agent *a, wtb_unsaved *u, wtb_error **err);
bool unsaved_any(const wtb_unsaved *u);
/* "it is running (pid 12); 2 commits ... " (caller frees); NULL when
 * nothing would be lost. */
char *unsaved_text(const wtb_unsaved *u);
void unsaved_free(wtb_unsaved *u);

/* Under the repository lock, for a loaded agent whose supervisor is gone:
 * mark it "removing" in its record, then move its worktree to a new trash
 * entry, delete the branches listed in `u` (each only if it still points
 * where listed; the entry's "branches" file lists them) and move its state
 * to the trash last, with the record, so that a removal stopped half-way
 * can be run again. Says what it did on stdout. */
int unsaved_remove(wtb_agent *a, const wtb_unsaved *u, wtb_error **err);

/* The agent's branches and their tips (full names, hex ids). */
int agent_branches(wtb_repo *r, const char *name, strv *refs, strv *tips, wtb_error **err);
/* Delete one ref if it still points at `hex`. */
int branch_delete_at(wtb_repo *r, const char *ref, const char *hex, wtb_error **err);

#endif
