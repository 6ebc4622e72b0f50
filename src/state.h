/* Agent records: one JSON file per agent, written atomically. cJSON stays
 * in state.c; everyone else sees wtb_record. */
#ifndef WTBOX_STATE_H
#define WTBOX_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define WTB_RECORD_VERSION 1

typedef enum wtb_run_state {
	WTB_STATE_CREATING, /* being created: branch and worktree may be partial */
	WTB_STATE_RUNNING,  /* a supervisor runs (or ran, if it died) the command */
	WTB_STATE_EXITED,   /* the command ended; exit_status holds its status */
	WTB_STATE_REMOVING, /* being removed: worktree, branches and state may be partial */
} wtb_run_state;

/* A forwarded port: host 127.0.0.1:host (and [::1]:host) to the
 * sandbox's localhost:inside. The first of a record's ports is the agent's
 * PORT, with host == inside. */
typedef struct wtb_port_map {
	uint16_t host;
	uint16_t inside;
} wtb_port_map;

typedef struct wtb_record {
	char *name;
	char *repo_id;
	char *repo;	/* the repository's common git directory */
	char *workdir;	/* the repository's main working directory */
	char *branch;	/* full ref name: refs/heads/wtbox/<name> */
	char *base;	/* hex id of the commit the branch started from */
	char *worktree; /* absolute path of the worktree */
	char *admin;	/* name of git's admin dir: <commondir>/worktrees/<admin> */
	wtb_run_state state;
	int exit_status;
	/* Supervisor identity: a pid alone is not proof of life (pids are
	 * reused, and a reboot resets them). */
	pid_t pid;
	uint64_t pid_start;
	char *boot_id;
	int64_t created; /* unix seconds */
	int64_t updated;
	/* Of the last run (absent in older records: empty, 0, NULL). */
	wtb_port_map *ports;
	size_t nports;
	char *net;    /* network mode: "none", "private" */
	char *policy; /* --policy as given: a name, a file or "none" */
	/* The sandbox's init as the host sees it, while it runs. */
	pid_t sandbox_pid;
	uint64_t sandbox_start;
	/* Background runs and how the last run ended (absent in older
	 * records: false, NULL, 0). */
	bool detached;	/* started with `run -d` */
	char *log;	/* the detached run's log file, or NULL */
	char **command; /* the last run's argv (NULL-terminated), or NULL */
	int signal;	/* the signal that ended the command, 0 when it exited */
	bool stopped;	/* the supervisor was told to stop it (SIGTERM: wtbox stop) */
	bool counted;	/* the last run ended and `ahead` and `dirty` were counted */
	uint32_t ahead; /* commits on the branch not in the base */
	uint32_t dirty; /* files changed in the worktree (staged, modified, deleted,
			 * untracked, ignored but not disposable) */
} wtb_record;

/* What `ls` says of an agent. */
typedef enum wtb_status {
	WTB_STATUS_CREATING, /* its supervisor is creating it */
	WTB_STATUS_RUNNING,  /* its supervisor is alive */
	WTB_STATUS_EXITED,   /* the command ended by itself */
	WTB_STATUS_KILLED,   /* ended by a signal, or stopped (wtbox stop, SIGTERM) */
	WTB_STATUS_ORPHANED, /* the record says it runs but its supervisor is gone */
	WTB_STATUS_REMOVING, /* being removed, or its removal was interrupted */
} wtb_status;

/* Pure: JSON text <-> record. Errors name the field. */
int record_parse(const char *json, wtb_record *out, wtb_error **err);
char *record_format(const wtb_record *r);

int record_load(const char *path, wtb_record *out, wtb_error **err);
/* Durable (fsynced): for what decides, after a crash, what is removed: a
 * creation ("creating", then "running" once the worktree exists), gc's
 * repairs. */
int record_save(const char *path, const wtb_record *r, wtb_error **err);
/* Not fsynced: for what only describes a run (its supervisor, sandbox,
 * ports, exit status), which a crash ends anyway; losing such an update
 * leaves the previous record (one that says "running" is an orphan for
 * gc; one that says "exited" stays so, and the crashed run's git
 * worktree lock stays until the next run replaces it), or, on some file
 * systems, an empty one, which is reported and never acted on. */
int record_update(const char *path, const wtb_record *r, wtb_error **err);
void record_free(wtb_record *r);

/* True when the recorded supervisor is this boot's process with that pid and
 * start time. */
bool record_supervisor_alive(const wtb_record *r);
/* The same with this boot's id given (a listing reads it once). */
bool record_supervisor_alive_on(const wtb_record *r, const char *boot);

/* The status rules, pure: `alive` is record_supervisor_alive(). */
wtb_status record_status(const wtb_record *r, bool alive);
const char *status_name(wtb_status s);

/* Texts of `ls`, pure. "exited 3", "killed", "running", ... */
char *record_status_text(const wtb_record *r, wtb_status s);
/* "3000" per port whose host and inside numbers agree, "3001->8080"
 * otherwise, joined by ','; "-" for none. */
char *record_ports_text(const wtb_record *r);
/* "+2 ~1" (commits ahead, files dirty) once counted; "-" before. */
char *record_changes_text(const wtb_record *r);
/* Seconds as "42s", "5m", "3h", "2d". */
char *since_text(int64_t seconds);

/* One agent of a listing: its record and what ls adds to it. */
typedef struct wtb_listed {
	const wtb_record *rec;
	wtb_status status;
	int64_t since;	/* seconds since its last change of state */
	bool repo_gone; /* its repository's git directory is gone */
} wtb_listed;

/* The JSON array of `ls --json`: every field of each record, plus
 * "status", "since" (seconds), "changes" ({"ahead","dirty"} or null) and
 * "repo_gone". */
char *record_list_format(const wtb_listed *v, size_t n);

const char *run_state_name(wtb_run_state s);

#endif
