/* The agent's private git directory and the import of its work.
 *
 * Inside the sandbox the worktree's ".git" names <state>/git, a git
 * directory of the agent's own: HEAD, refs, index, config and an object
 * store that has the shared one as a read-only alternate. Nothing of the
 * shared repository is writable inside. The host side brings the work
 * back: new objects into the shared store, the agent's branch (and the
 * branches it created, as wtbox/<name>@<branch>), the index and HEAD of
 * the worktree. Everything the agent wrote is read without following a
 * symlink (through a snapshot of hard links while the sandbox may run),
 * and checked (hashes, object types, index checksum and paths) before the
 * host uses it. */
#ifndef WTBOX_GITSTATE_H
#define WTBOX_GITSTATE_H

#include <stdbool.h>
#include <stdio.h>

#include <git2.h>

#include "error.h"
#include "util.h"
#include "worktree.h"

/* Where the agent's git state lives, under its state directory. */
typedef struct wtb_gitstate {
	char *dir;	  /* <state>/git: the private git directory */
	char *gitfile;	  /* <state>/gitfile: shown as <worktree>/.git inside */
	char *base;	  /* <state>/git-base: the refs as the agent was given them */
	char *carried;	  /* <state>/git-index: checksum of the index last carried */
	char *objects;	  /* <commondir>/objects: the shared store */
	const char *name; /* agent name */
	long timeout;	  /* seconds the import may take (WTBOX_IMPORT_TIMEOUT) */
} wtb_gitstate;

void gitstate_init(wtb_gitstate *g, const wtb_repo *r, const char *state, const char *name);
void gitstate_free(wtb_gitstate *g);

/* One ref brought to the host. */
typedef struct wtb_import_ref {
	char *ref;		     /* host ref, "refs/heads/wtbox/<name>[@<branch>]" */
	char *from;		     /* the agent's ref */
	char old[GIT_OID_HEXSZ + 1]; /* "" when the host ref is new */
	char new[GIT_OID_HEXSZ + 1];
	size_t commits; /* commits that were new to the shared store */
	bool forced;	/* not a fast-forward (amend, rebase, reset) */
} wtb_import_ref;

typedef struct wtb_import {
	wtb_import_ref *refs;
	size_t nrefs;
	strv refused;	     /* "REF: why", the agent's refs left where they are */
	strv notes;	     /* what the user may want to know */
	size_t objects;	     /* objects copied into the shared store */
	bool index;	     /* the worktree's index was replaced by the agent's */
	bool index_refused;  /* the agent's index could not be taken */
	char *head;	     /* the worktree's HEAD was moved to this ref */
	bool head_elsewhere; /* HEAD inside is detached, or on a ref not imported */
} wtb_import;

void import_free(wtb_import *imp);
bool import_any(const wtb_import *imp);
void import_print(FILE *f, const char *name, const wtb_import *imp);

/* Under the repository lock: bring what the agent did into the shared
 * repository. `live`: its sandbox may be running (sync), so files are
 * linked into a snapshot before libgit2 reads them. A private directory
 * that does not exist (yet) imports nothing. Errors leave the shared
 * repository consistent; what was not imported stays in the private
 * directory. */
int gitstate_import(const wtb_gitstate *g, wtb_repo *r, const wtb_tree_spec *t, bool live,
		    wtb_import *out, wtb_error **err);

/* An import that writes a pack puts a keep file beside it (in the shared
 * store's objects/pack) until the refs are updated. gitstate_keep_owner:
 * whether `name` in `packdir` is one, of a wtbox process of this host and
 * pid namespace (its pid in `pid`; `this_boot`: of the current boot, else
 * that process is gone); gitstate_keep_half: whether its pack's index is
 * missing (the import was killed between the two renames);
 * gitstate_keep_finish: that pack deleted if so, then the keep. */
bool gitstate_keep_owner(const char *packdir, const char *name, pid_t *pid, bool *this_boot);
bool gitstate_keep_half(const char *packdir, const char *name);
int gitstate_keep_finish(const char *packdir, const char *name, wtb_error **err);

/* Under the repository lock, before the sandbox starts: create the private
 * directory or bring it up to date with the host (its refs mirror the
 * host's, except those the agent changed and that were not imported; the
 * index is the host worktree's when `take_index`). */
int gitstate_refresh(const wtb_gitstate *g, wtb_repo *r, const wtb_tree_spec *t, bool take_index,
		     wtb_error **err);

#endif
