/* Where wtbox keeps things (XDG base directories, mode 0700). */
#ifndef WTBOX_PATHS_H
#define WTBOX_PATHS_H

#include "error.h"

/* Resolved base directories of this user. */
typedef struct wtb_dirs {
	char *data;   /* $XDG_DATA_HOME/wtbox */
	char *state;  /* $XDG_STATE_HOME/wtbox */
	char *config; /* $XDG_CONFIG_HOME/wtbox */
} wtb_dirs;

/* From the environment; an XDG variable that is unset, empty or relative
 * is ignored, as the XDG spec says, and $HOME's default is used. */
int dirs_from_env(wtb_dirs *out, wtb_error **err);
void dirs_free(wtb_dirs *d);

/* "<basename of workdir>-<12 hex>": readable, and distinct for two
 * repositories with the same directory name because the hash is of the
 * canonical common git directory. The basename keeps [A-Za-z0-9._-] (other
 * bytes become '_', a leading '.' too) and at most 32 bytes. Pure. */
char *repo_id_make(const char *workdir, const char *commondir);

/* Paths of one agent. */
typedef struct wtb_agent_paths {
	char *repo_data;   /* <data>/<repo-id>: parent of the worktrees */
	char *repo_state;  /* <state>/<repo-id> */
	char *worktree;	   /* <data>/<repo-id>/<name> */
	char *state;	   /* <state>/<repo-id>/<name> */
	char *record;	   /* <state>/<repo-id>/<name>/record.json */
	char *log;	   /* <state>/<repo-id>/<name>/log: output of `run -d` */
	char *nested;	   /* <state>/<repo-id>/<name>/nested (nested.h) */
	char *trash;	   /* <data>/trash */
	char *state_trash; /* <state>/trash: for state that cannot be renamed
			    * into <data>/trash (another file system) */
} wtb_agent_paths;

/* <state>/<repo-id>/.lock: serialises creation and removal of this
 * repository's worktrees. The dot keeps it apart from agent names, which
 * cannot start with one. */
char *repo_lock_path(const wtb_dirs *d, const char *repo_id);

void agent_paths_init(wtb_agent_paths *p, const wtb_dirs *d, const char *repo_id, const char *name);
void agent_paths_free(wtb_agent_paths *p);

#endif
