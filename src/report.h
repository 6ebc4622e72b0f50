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
	const char *base; /* hex */
	const wtb_changes *changes;
	const wtb_import *import; /* what came back from the agent's git directory */
	const char *import_error; /* why the import failed, or NULL */
	int exit_status;
	bool removed;
	const char *trash; /* where the removed worktree went */
} wtb_report;

char *report_json(const wtb_report *r);
int report_write(const char *path, const wtb_report *r, wtb_error **err);
void report_print(FILE *f, const wtb_report *r);

#endif
