/* The agents wtbox knows: their records under the state directory, read
 * without any lock. Records are replaced by rename, so a reader sees one
 * whole record or another; a record that cannot be read is reported by
 * name and skipped, and never hides the others. */
#ifndef WTBOX_REGISTRY_H
#define WTBOX_REGISTRY_H

#include <stdbool.h>

#include "error.h"
#include "paths.h"
#include "state.h"
#include "worktree.h"

typedef struct wtb_registry {
	wtb_record *v;
	size_t n, cap;
} wtb_registry;

/* The records of repository `repo_id`, or of every repository when it is
 * NULL, sorted by repository and name. A missing state directory is an
 * empty list; one that cannot be read is an error. */
int registry_read(wtb_registry *out, const wtb_dirs *d, const char *repo_id, wtb_error **err);
void registry_free(wtb_registry *r);

/* One agent, by name, of the repository at `dir` (-C DIR or "."). */
typedef struct wtb_found {
	wtb_repo repo;
	wtb_dirs dirs;
	wtb_agent_paths paths;
	wtb_record rec;
} wtb_found;

/* The name is checked (name_validate); an unknown one is an error that
 * names the repository. */
int registry_find(wtb_found *out, const char *dir, const char *name, wtb_error **err);
/* Read the record again (after the supervisor changed it). */
int registry_reload(wtb_found *f, wtb_error **err);
/* Whether the record is gone: a run that changed nothing removes its
 * agent as it ends (not --keep, not detached). */
bool found_removed(const wtb_found *f);
void found_free(wtb_found *f);

/* Whether the agent's supervisor runs, and its status. */
wtb_status found_status(const wtb_found *f, bool *alive);

#endif
