/* The one error type of wtbox.
 *
 * Every fallible function takes a `wtb_error **err` out-parameter and returns
 * a negative value on failure after filling it. Callers either add context
 * with wtb_error_wrap() and pass it up, or inspect it and release it with
 * wtb_error_free() when the failure was expected. main() prints it once.
 */
#ifndef WTBOX_ERROR_H
#define WTBOX_ERROR_H

#include <stdarg.h>

/* Exit statuses, as docker and podman use them. */
enum {
	WTB_EXIT_ERROR = 125,	/* wtbox itself failed */
	WTB_EXIT_NOEXEC = 126,	/* the command exists but cannot be executed */
	WTB_EXIT_NOTFOUND = 127 /* the command was not found */
};

typedef struct wtb_error {
	int errnum; /* errno value (0: none), printed as the reason */
	int status; /* exit status main() uses, WTB_EXIT_ERROR unless set */
	char *msg;  /* "what failed 'subject'", context prefixes prepended */
} wtb_error;

/* Fill *err (which must be NULL) and return -1. errnum may be 0. */
int wtb_error_set(wtb_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int wtb_error_setv(wtb_error **err, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Same, with errnum taken from errno. */
int wtb_error_errno(wtb_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fill *err from libgit2's last error (git_error_last() may be NULL). */
int wtb_error_git(wtb_error **err, int gitcode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend context: "ctx: previous message". Returns -1. */
int wtb_error_wrap(wtb_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void wtb_error_free(wtb_error **err);

/* "wtbox: msg: strerror(errnum)" on stderr, control characters escaped
 * (term_escape); returns the exit status. */
int wtb_error_report(const wtb_error *err);

/* The message with the reason appended, as printed (caller frees). */
char *wtb_error_text(const wtb_error *err);

#define _cleanup_error_ __attribute__((cleanup(wtb_error_free)))

#endif
