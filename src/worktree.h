/* The repository side, with libgit2 only (it runs no hooks and no filters):
 * open, create an agent's branch and worktree with rollback, lock, inspect
 * what the agent changed, and remove. */
#ifndef WTBOX_WORKTREE_H
#define WTBOX_WORKTREE_H

#include <stdbool.h>
#include <sys/types.h>

#include <git2.h>

#include "config.h"
#include "error.h"
#include "util.h"

typedef struct wtb_repo {
	git_repository *git;
	char *commondir; /* canonical, no trailing '/' */
	char *workdir;	 /* the main checkout, no trailing '/' */
	char *id;	 /* see repo_id_make() */
	/* The last worktree looked up (see worktree_handle in worktree.c),
	 * and its admin name. */
	git_worktree *wt;
	char *wt_admin;
} wtb_repo;

/* Discover the repository containing `start`. A bare repository is an
 * error; an unborn HEAD is one only when `need_head`. */
int repo_open(wtb_repo *out, const char *start, bool need_head, wtb_error **err);
void repo_close(wtb_repo *r);

/* Resolve `rev` (NULL: HEAD) to a commit. */
int repo_resolve_commit(wtb_repo *r, const char *rev, git_oid *out, wtb_error **err);

/* What the agent's worktree is, in git's terms. */
typedef struct wtb_tree_spec {
	const char *name;   /* agent name */
	const char *branch; /* refs/heads/wtbox/<name> */
	const char *admin;  /* <commondir>/worktrees/<admin> */
	const char *path;   /* the worktree directory */
} wtb_tree_spec;

/* <commondir>/worktrees/<admin> (caller frees). */
char *worktree_admin_dir(wtb_repo *r, const wtb_tree_spec *t);

/* Refuse to touch what wtbox did not create: an existing branch, admin
 * dir or directory at the worktree path. */
int worktree_check_free(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err);
/* True when branch, admin dir and directory are all absent. */
bool worktree_is_free(wtb_repo *r, const wtb_tree_spec *t);

/* What a creation made, so a failure undoes exactly that. */
typedef struct wtb_created {
	bool branch;
	bool admin;
	bool dir;
} wtb_created;

/* Create branch + worktree at `base` and lock it with `reason`. The
 * caller has checked worktree_check_free() (libgit2 itself refuses to
 * clobber a branch, admin dir or directory that appeared since). On failure
 * everything in *made is rolled back before returning. */
int worktree_create(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base, const char *reason,
		    wtb_created *made, wtb_error **err);
/* Undo a creation (also used when a later step of `run` fails). */
void worktree_rollback(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base,
		       const wtb_created *made);

/* An existing agent's worktree: check it is registered and present. */
int worktree_check_existing(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err);

/* Lock in git's sense (git worktree list shows it), replacing a stale
 * lock; unlock. */
int worktree_lock(wtb_repo *r, const wtb_tree_spec *t, const char *reason, wtb_error **err);
int worktree_unlock(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err);
/* 1 when git's lock on the worktree is one wtbox set (its reason starts
 * with WTB_LOCK_REASON_PREFIX), 0 when unlocked or locked by someone
 * else, -1 on error. */
#define WTB_LOCK_REASON_PREFIX "wtbox: in use by agent '"
/* The reflog message of an agent branch's creation. */
#define WTB_BRANCH_LOG "wtbox: agent branch"
int worktree_locked_by_wtbox(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err);
/* The same, with the pid the lock names (0 when it names none). */
int worktree_lock_owner(wtb_repo *r, const wtb_tree_spec *t, pid_t *pid, wtb_error **err);
/* Whether `path` is where wtbox puts agent NAME's worktree for some
 * repository: .../wtbox/<repo-id>/NAME (*id, if asked: that repo-id,
 * caller frees). */
bool worktree_path_is_wtbox(const char *path, const char *name, char **id);
/* Where git's admin directory `admin` says its worktree is (NULL when it
 * does not exist or says nothing; caller frees). */
char *worktree_path_of(wtb_repo *r, const char *admin);

/* What differs from "changed nothing". */
typedef struct wtb_changes {
	char head[GIT_OID_HEXSZ + 1]; /* tip of the agent's branch */
	size_t ahead;		      /* commits on the branch not in base */
	bool branch_moved;	      /* tip != base (ahead may be 0: reset back) */
	char *head_ref;		      /* worktree HEAD when it is not the branch */
	bool gitfile_changed;	      /* its .git file no longer names its admin dir */
	strv staged, modified, deleted, untracked, ignored;
	/* Its other branches in the shared repository (wtbox/NAME@BRANCH,
	 * full names): filled by the caller (agent.c), which knows them. */
	strv branches;
	/* Git repositories it left in the worktree, now kept in its state
	 * (nested.h), and those that could not be moved ("PATH: REASON"):
	 * filled by the caller too. */
	strv nested, nested_stuck;
	/* Sandbox processes alive at the verdict: always 0, because the
	 * sandbox's init ends them all before it reports; kept in the report
	 * so that consumers see it said. */
	int processes_left;
} wtb_changes;

int changes_collect(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base, const wtb_config *cfg,
		    wtb_changes *out, wtb_error **err);
bool changes_any(const wtb_changes *c);
void changes_free(wtb_changes *c);

/* Take an unchanged worktree away: its directory moves into `trash_entry`
 * (a new directory), git's admin data is pruned and the branch is deleted
 * if it still points at `base`. */
int worktree_remove(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base,
		    const char *trash_entry, wtb_error **err);

/* rm and gc: move the worktree directory, if it is there, to
 * `<trash_entry>/worktree` (*moved says whether it was) and prune git's
 * admin data, locked or not. The branch is left alone. */
int worktree_discard(wtb_repo *r, const wtb_tree_spec *t, const char *trash_entry, bool *moved,
		     wtb_error **err);

/* gc: the agents' worktrees (admin name "wtbox-*") whose directory is gone,
 * as admin names. */
int worktree_list_vanished(wtb_repo *r, strv *admins, wtb_error **err);

/* gc: prune git's admin data of a worktree whose directory is gone. */
int worktree_prune_admin(wtb_repo *r, const char *admin, wtb_error **err);

#endif
