/* Git repositories the agent left inside its worktree.
 *
 * A `.git` below the worktree's top level (a directory, a gitfile, a
 * symlink) makes a repository whose config the agent wrote. The host's git
 * goes into it on its own (`git status` enters a submodule) or when the
 * user's shell prompt looks at the current directory, and obeys that
 * config: a `core.fsmonitor` there is a command run on the host. So when
 * no process of the sandbox is left, every such `.git` moves out of the
 * worktree into the agent's state (never deleted), and before its next
 * run it moves back. */
#ifndef WTBOX_NESTED_H
#define WTBOX_NESTED_H

#include <stdbool.h>

#include "error.h"
#include "util.h"

/* The walk stops after this many entries (a `.git` beyond is not seen;
 * the result says so). */
#define WTB_NESTED_WALK_MAX 5000000

typedef struct wtb_nested {
	/* Paths (relative to the worktree, "sub/.git") of the repositories
	 * kept in the store, earlier runs' included. */
	strv stored;
	/* What could not be moved or looked at: "PATH: REASON" each. */
	strv stuck;
} wtb_nested;

/* Move every `.git` below the top of `worktree` into `store` (created
 * when needed; on the same file system as the worktree, or the move
 * fails and says so), then list what the store holds. Only when no
 * process of the sandbox is left. -1 only when the worktree itself cannot
 * be opened; a `.git` that cannot be moved goes into out->stuck. */
int nested_stash(const char *worktree, const char *store, wtb_nested *out, wtb_error **err);

/* Put back what the store holds, where nothing has taken its place since.
 * What stays is said on stderr, naming the agent. */
void nested_restore(const char *name, const char *worktree, const char *store);

/* The store holds at least one repository (or cannot be read). */
bool nested_any(const char *store);

void nested_free(wtb_nested *n);

#endif
