#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "util.h"

int wtb_error_setv(wtb_error **err, int errnum, const char *fmt, va_list ap)
{
	wtb_error *e;

	if (err == NULL)
		return -1;
	/* A second error would hide the first; keep the first one. */
	if (*err != NULL)
		return -1;
	e = xcalloc(1, sizeof(*e));
	e->errnum = errnum;
	e->status = WTB_EXIT_ERROR;
	if (vasprintf(&e->msg, fmt, ap) < 0)
		die_oom();
	*err = e;
	return -1;
}

int wtb_error_set(wtb_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wtb_error_setv(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int wtb_error_errno(wtb_error **err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	wtb_error_setv(err, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int wtb_error_git(wtb_error **err, int gitcode, const char *fmt, ...)
{
	const git_error *ge = git_error_last();
	_cleanup_free_ char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		die_oom();
	va_end(ap);
	/* git_error_last() can be NULL on libgit2 1.5 when the failing call
	 * did not set a message; the numeric code is all there is then. */
	if (ge != NULL && ge->message != NULL && ge->message[0] != '\0')
		return wtb_error_set(err, 0, "%s: %s", what, ge->message);
	return wtb_error_set(err, 0, "%s: libgit2 error %d", what, gitcode);
}

int wtb_error_wrap(wtb_error **err, const char *fmt, ...)
{
	_cleanup_free_ char *ctx = NULL;
	char *msg = NULL;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		die_oom();
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx, (*err)->msg) < 0)
		die_oom();
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void wtb_error_free(wtb_error **err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

char *wtb_error_text(const wtb_error *err)
{
	if (err->errnum != 0)
		return xasprintf("%s: %s", err->msg, strerror(err->errnum));
	return xstrdup(err->msg);
}

int wtb_error_report(const wtb_error *err)
{
	_cleanup_free_ char *text = wtb_error_text(err);
	/* Messages quote paths and refs the agent chose. */
	_cleanup_free_ char *shown = term_escape(text);

	fprintf(stderr, "wtbox: %s\n", shown);
	return err->status;
}
