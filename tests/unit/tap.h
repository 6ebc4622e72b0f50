/* A tiny TAP producer for the unit tests.
 *
 *   ok(cond, "what %s", x);          one test line
 *   is_int(got, want, "what");       integers, with got/expected on failure
 *   is_str(got, want, "what");       strings (NULL allowed on either side)
 *   has_str(got, needle, "what");    got contains needle
 *   like(got, "^[a-z]+$", "what");   got matches the POSIX extended regex
 *   diag("note %d", n);              a "# " line on stdout
 *   return done_testing();           "1..N"; 1 when anything failed
 *
 * Every line is flushed at once, so a test may fork without its children
 * repeating buffered output (the children must still leave with _exit).
 *
 * Everything here is static inline: a test file uses only some of it, and
 * unused static inline functions draw no warning. */
#ifndef WTBOX_TAP_H
#define WTBOX_TAP_H

#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_vline(bool pass, const char *fmt, va_list ap)
{
	tap_count++;
	if (!pass)
		tap_failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

static inline void tap_where(const char *file, int line)
{
	printf("#   Failed test at %s line %d\n", file, line);
}

static inline bool tap_ok(const char *file, int line, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline bool tap_ok(const char *file, int line, bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_where(file, line);
	fflush(stdout);
	return pass;
}

static inline bool tap_is_int(const char *file, int line, long long got, long long want,
			      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_int(const char *file, int line, long long got, long long want,
			      const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		tap_where(file, line);
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	}
	fflush(stdout);
	return pass;
}

static inline bool tap_is_str(const char *file, int line, const char *got, const char *want,
			      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_str(const char *file, int line, const char *got, const char *want,
			      const char *fmt, ...)
{
	bool pass = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		tap_where(file, line);
		printf("#          got: %s%s%s\n", got ? "'" : "", got ? got : "NULL",
		       got ? "'" : "");
		printf("#     expected: %s%s%s\n", want ? "'" : "", want ? want : "NULL",
		       want ? "'" : "");
	}
	fflush(stdout);
	return pass;
}

static inline bool tap_has_str(const char *file, int line, const char *got, const char *needle,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_has_str(const char *file, int line, const char *got, const char *needle,
			       const char *fmt, ...)
{
	bool pass = got != NULL && strstr(got, needle) != NULL;
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		tap_where(file, line);
		printf("#          got: %s%s%s\n", got ? "'" : "", got ? got : "NULL",
		       got ? "'" : "");
		printf("#     contains: '%s'\n", needle);
	}
	fflush(stdout);
	return pass;
}

static inline bool tap_like(const char *file, int line, const char *got, const char *re,
			    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_like(const char *file, int line, const char *got, const char *re,
			    const char *fmt, ...)
{
	regex_t rx;
	bool compiled = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) == 0;
	bool pass = compiled && got != NULL && regexec(&rx, got, 0, NULL, 0) == 0;
	va_list ap;

	if (compiled)
		regfree(&rx);
	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		tap_where(file, line);
		if (!compiled)
			printf("#     bad regex: '%s'\n", re);
		printf("#          got: %s%s%s\n", got ? "'" : "", got ? got : "NULL",
		       got ? "'" : "");
		printf("#      matches: /%s/\n", re);
	}
	fflush(stdout);
	return pass;
}

/* The description is part of __VA_ARGS__ so that it may come alone. */
#define ok(cond, ...)		  tap_ok(__FILE__, __LINE__, (cond), __VA_ARGS__)
#define is_int(got, want, ...)	  tap_is_int(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_str(got, want, ...)	  tap_is_str(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define has_str(got, needle, ...) tap_has_str(__FILE__, __LINE__, (got), (needle), __VA_ARGS__)
#define like(got, re, ...)	  tap_like(__FILE__, __LINE__, (got), (re), __VA_ARGS__)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed > 0)
		printf("# %d of %d tests failed\n", tap_failed, tap_count);
	fflush(stdout);
	return tap_failed > 0 ? 1 : 0;
}

#endif
