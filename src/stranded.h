/* Agents whose repository is gone: deleted, or moved or renamed (the
 * repository id, and so the place of its agents, comes from its path).
 * No command can open that repository any more, so `wtbox -C OLD-PATH rm`
 * finds such an agent by the path its repository had, and can only move
 * its worktree and state to the trash: with the repository gone, nothing
 * can tell what they hold, so that takes --force. */
#ifndef WTBOX_STRANDED_H
#define WTBOX_STRANDED_H

#include <stdbool.h>

#include "error.h"
#include "paths.h"
#include "state.h"
#include "worktree.h"

/* Whether the git directory the record names is gone. */
bool record_repo_gone(const wtb_record *r);

/* After `ls` of repository `r` (moved or renamed): on stderr, how many of
 * its agents are listed under the path it had, and the ways out. They
 * are git's worktrees wtbox-NAME of `r` whose records say their
 * repository is gone. */
void stranded_say_moved(wtb_repo *r, const wtb_dirs *d);

/* The id of the repository whose working directory was `dir` (-C DIR or
 * "."; it need not exist any more), that is gone, and that has an agent
 * `name`; NULL when there is none. *workdir: `dir` as the record has it. */
char *stranded_find(const wtb_dirs *d, const char *dir, const char *name, char **workdir);

/* rm of agent `name` of the gone repository `repo_id` at `workdir`, under
 * that repository's lock, where the record must still say so. Refused
 * without `force`, unless it finishes a removal that was interrupted.
 * When the agent runs and `force` is given, *stop is set and `rec` holds
 * its record: the caller stops it, without the lock, and calls again with
 * `stopped` (then a record its run removed is no error). */
int stranded_remove(const wtb_dirs *d, const char *repo_id, const char *workdir, const char *name,
		    bool force, bool stopped, bool *stop, wtb_record *rec, wtb_error **err);

#endif
