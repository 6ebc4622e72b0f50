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
} wtb_record;

/* Pure: JSON text <-> record. Errors name the field. */
int record_parse(const char *json, wtb_record *out, wtb_error **err);
char *record_format(const wtb_record *r);

int record_load(const char *path, wtb_record *out, wtb_error **err);
int record_save(const char *path, const wtb_record *r, wtb_error **err);
void record_free(wtb_record *r);

/* True when the recorded supervisor is this boot's process with that pid and
 * start time. */
bool record_supervisor_alive(const wtb_record *r);

const char *run_state_name(wtb_run_state s);

#endif
