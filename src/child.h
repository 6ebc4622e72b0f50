/* Work on files the agent wrote, in a forked child with a deadline and a
 * cap on its heap.
 *
 * libgit2 reads what the agent left in its worktree and its git directory:
 * a FIFO where a file should be can block a read for ever, a huge object
 * or filtered file is read whole, and a pack the agent truncates while it
 * is mapped raises SIGBUS. Any of these in the supervisor would hang or
 * kill it with the repository locked. In a child, they end the child: the
 * caller gets an error and keeps the agent.
 *
 * The child sends its result back as records: a tag byte, the text, a
 * NUL (paths hold no NUL). A failure in the child is an 'E' record with
 * the message, after whatever it had already put. */
#ifndef WTBOX_CHILD_H
#define WTBOX_CHILD_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef struct wtb_child_opts {
	long secs;	  /* deadline, in seconds */
	const char *knob; /* the variable that sets it, named in the error */
	const char *hint; /* said after the deadline's error, or NULL */
} wtb_child_opts;

/* fn writes its records to `reply`; when it fails, the message follows as
 * an 'E' record. */
typedef int (*wtb_child_fn)(void *arg, FILE *reply, wtb_error **err);

/* Run fn(arg) in a child and collect its records; the reply is the
 * caller's to free, and may end with 'E'. -1 when the child missed the
 * deadline, was killed or exited with a failure: the reply holds what it
 * had sent before. */
int child_run(wtb_child_fn fn, void *arg, const wtb_child_opts *o, char **reply, size_t *len,
	      wtb_error **err);

void reply_put(FILE *f, char tag, const char *text);
void reply_put_num(FILE *f, char tag, size_t n);
/* The record at *at: 1 with its tag and text, 0 at the end; -1 for a cut
 * short reply, or with the message of an 'E' record. */
int reply_next(const char *buf, size_t len, size_t *at, char *tag, const char **text,
	       wtb_error **err);

#endif
