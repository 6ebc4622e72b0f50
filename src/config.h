/* User and repository configuration -> typed struct. cJSON stays here.
 *
 * Sources, later ones extending earlier ones:
 *   built-in defaults
 *   $XDG_CONFIG_HOME/wtbox/config.json     (the user's)
 *   <main checkout>/.wtbox.json            (the repository's, as the host
 *                                           sees it: never an agent's copy)
 */
#ifndef WTBOX_CONFIG_H
#define WTBOX_CONFIG_H

#include <stdbool.h>

#include "error.h"
#include "util.h"

typedef struct wtb_config {
	/* Patterns for ignored files that may be thrown away with an
	 * unchanged worktree: "dir/" names a directory at any depth, a
	 * pattern with a '/' elsewhere is matched against the whole path,
	 * any other against the file's base name (fnmatch). */
	strv disposable;
	long trash_grace; /* seconds a removed worktree stays in the trash */
	/* Seconds the worktree's status may take (WTBOX_STATUS_TIMEOUT):
	 * past that the verdict is "keep". */
	long status_timeout;
	/* Seconds the import of its git work may take (WTBOX_IMPORT_TIMEOUT):
	 * past that, the work stays in its private git directory. */
	long import_timeout;
} wtb_config;

void config_defaults(wtb_config *cfg);
/* Apply one JSON document; `source` names it in errors. Pure. */
int config_apply(wtb_config *cfg, const char *json, const char *source, wtb_error **err);
/* Defaults, then each file that exists, then WTBOX_TRASH_GRACE,
 * WTBOX_STATUS_TIMEOUT and WTBOX_IMPORT_TIMEOUT. */
int config_load(wtb_config *cfg, const char *user_dir, const char *workdir, wtb_error **err);
void config_free(wtb_config *cfg);

/* Is the ignored path (relative, '/'-separated, a directory ends in '/')
 * disposable? Pure. */
bool config_is_disposable(const wtb_config *cfg, const char *path);

#endif
