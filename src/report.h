/* The report after a run: for people on stderr, for machines as JSON. */
#ifndef WTBOX_REPORT_H
#define WTBOX_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "gitstate.h"
#include "worktree.h"

typedef struct wtb_report {
	const char *name;
	const char *repo;   /* common git dir */
	const char *branch; /* short name: wtbox/<name> */
	const char *worktree;
	const char *nested_store; /* where its nested repositories are kept */
	const char *base;	  /* hex */
	const wtb_changes *changes;
	const wtb_import *import; /* what came back from the agent's git directory */
	const char *import_error; /* why the import failed, or NULL */
	int exit_status;
	bool removed;
	const char *trash; /* where the removed worktree went */
} wtb_report;

char *report_json(const wtb_report *r);
int report_write(const char *path, const wtb_report *r, wtb_error **err);
/* Before the run (--report): the file can be written there, so that a
 * wrong path fails before anything is made, not after the command ran. */
int report_check(const char *path, wtb_error **err);
void report_print(FILE *f, const wtb_report *r);

/* One thing `wtbox gc` did or would do. */
typedef struct wtb_gc_item {
	const char *kind; /* orphan, interrupted, vanished, ports, trash */
	char *name;	  /* the agent, or the trash entry */
	char *path;
	char *action;
} wtb_gc_item;

/* A JSON array of {kind, name, path, action, done} (caller frees). */
char *gc_items_json(const wtb_gc_item *items, size_t n, bool done);

#endif
