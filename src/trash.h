/* The trash: removed worktrees wait here for a grace period, so a wrong
 * "changed nothing" verdict can be undone by moving the directory back. */
#ifndef WTBOX_TRASH_H
#define WTBOX_TRASH_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "util.h"

/* Create a new entry "<repo-id>.<name>.<unix time>.<pid>" in `trash_dir`. */
int trash_new_entry(const char *trash_dir, const char *repo_id, const char *name, char **out,
		    wtb_error **err);

/* Move `src` into the entry as `<entry>/<what>`. When that crosses file
 * systems, it goes to `<alt_dir>/<entry name>` instead (same name, so one
 * sweep rule covers both). *dest says where it went. */
int trash_move(const char *src, const char *entry, const char *what, const char *alt_dir,
	       char **dest, wtb_error **err);

/* The time an entry was made, from its name; -1 if it is not an entry.
 * Pure. */
int64_t trash_entry_time(const char *entry_name);

/* An entry being deleted is first renamed ".deleting.<pid>.<entry>":
 * for such a name, <entry> (inside `name`) and *pid; NULL otherwise.
 * Pure. */
const char *trash_deleting_entry(const char *name, pid_t *pid);

/* The names of the entries older than `grace` seconds, and of the
 * deletions whose process is gone (killed half-way). */
void trash_expired(const char *trash_dir, long grace, strv *names);

/* Delete the entry `name` (claimed by a rename first), or finish the
 * deletion `name` names. */
int trash_delete(const char *trash_dir, const char *name, wtb_error **err);

/* Delete entries older than `grace` seconds and finish deletions that
 * were killed half-way. Errors are reported, not returned: emptying the
 * trash never fails a run. */
void trash_sweep(const char *trash_dir, long grace);

#endif
