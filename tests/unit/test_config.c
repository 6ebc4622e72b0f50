/* Configuration: the disposable patterns, config_apply's errors, and the
 * JSON position helper its syntax errors rely on. */
#include <string.h>

#include "config.h"
#include "json.h"
#include "util.h"

#include "tap.h"

static void config_freep(wtb_config *cfg)
{
	config_free(cfg);
}
#define _cleanup_config_ __attribute__((cleanup(config_freep)))

static void disposable(const wtb_config *cfg, const char *path, bool want)
{
	ok(config_is_disposable(cfg, path) == want, "'%s' is %sdisposable", path,
	   want ? "" : "not ");
}

static void test_defaults(void)
{
	_cleanup_config_ wtb_config cfg = {0};

	config_defaults(&cfg);
	ok(cfg.disposable.n > 0, "the defaults list disposable patterns");
	ok(cfg.disposable.v != NULL && cfg.disposable.v[cfg.disposable.n] == NULL,
	   "the pattern list is NULL-terminated");
	ok(cfg.trash_grace > 0, "the default trash grace is positive (%ld)", cfg.trash_grace);

	disposable(&cfg, "node_modules/", true);
	disposable(&cfg, "node_modules/a/b.js", true);
	disposable(&cfg, "web/node_modules/x", true);
	disposable(&cfg, "web/node_modules/", true);
	disposable(&cfg, "a/b/__pycache__/m.cpython-311.pyc", true);
	disposable(&cfg, "target/debug/app", true);
	disposable(&cfg, ".env.local", false);
	disposable(&cfg, ".env", false);
	disposable(&cfg, "src/main.c", false);
	disposable(&cfg, "node_modules_backup/x", false);
	disposable(&cfg, "my_node_modules/x", false);
	disposable(&cfg, "node_modules", false);
	disposable(&cfg, "notes/todo.txt", false);
	disposable(&cfg, "a/b/c.pyc", true);
	disposable(&cfg, "c.pyc", true);
	disposable(&cfg, "x.pyc/", false);
	disposable(&cfg, "src/x.pyc/", false);
	disposable(&cfg, "obj/a.o", true);
	disposable(&cfg, "a.orig", false);
}

/* Patterns with a '/' inside are anchored at the top of the worktree. The
 * defaults already hold ".next/", which matches at any depth, so these start
 * from an empty configuration. */
static void test_anchored(void)
{
	_cleanup_config_ wtb_config cfg = {0};
	_cleanup_error_ wtb_error *err = NULL;

	ok(config_apply(&cfg, "{\"disposable\":[\"web/.next/\",\"gen/*.txt\"]}", "test", &err) == 0,
	   "config_apply accepts two anchored patterns");
	is_int((long long)cfg.disposable.n, 2, "both patterns are added");
	disposable(&cfg, "web/.next/x", true);
	disposable(&cfg, "web/.next/a/b/c", true);
	disposable(&cfg, "web/.next/", true);
	disposable(&cfg, "other/web/.next/x", false);
	disposable(&cfg, ".next/x", false);
	disposable(&cfg, "web/.nextx/y", false);
	disposable(&cfg, "gen/a.txt", true);
	disposable(&cfg, "gen/sub/a.txt", false);
	disposable(&cfg, "x/gen/a.txt", false);
	disposable(&cfg, "gen/a.txt.bak", false);

	/* A leading '/' anchors at the top, as in .gitignore. */
	ok(config_apply(&cfg, "{\"disposable\":[\"/dist/\",\"/top.log\"]}", "test", &err) == 0,
	   "config_apply accepts patterns with a leading '/'");
	disposable(&cfg, "dist/a", true);
	disposable(&cfg, "dist/", true);
	disposable(&cfg, "src/dist/a", false);
	disposable(&cfg, "top.log", true);
	disposable(&cfg, "sub/top.log", false);

	/* In an anchored directory pattern, '*' stays within one component. */
	ok(config_apply(&cfg, "{\"disposable\":[\"out/*/cache/\"]}", "test", &err) == 0,
	   "config_apply accepts an anchored directory pattern with '*'");
	disposable(&cfg, "out/a/cache/x", true);
	disposable(&cfg, "out/a/cache/", true);
	disposable(&cfg, "out/a/b/cache/x", false);
	disposable(&cfg, "x/out/a/cache/y", false);
}

/* The user's patterns extend the defaults rather than replace them. */
static void test_apply(void)
{
	_cleanup_config_ wtb_config cfg = {0};
	_cleanup_error_ wtb_error *err = NULL;
	size_t before;

	config_defaults(&cfg);
	before = cfg.disposable.n;
	ok(config_apply(&cfg, "{\"disposable\":[\"*.log\"],\"trash_grace_seconds\":3600}", "a",
			&err) == 0,
	   "config_apply accepts disposable and trash_grace_seconds");
	is_int((long long)cfg.disposable.n, (long long)before + 1, "one pattern is appended");
	is_int(cfg.trash_grace, 3600, "trash_grace_seconds is applied");
	disposable(&cfg, "logs/run.log", true);
	disposable(&cfg, "node_modules/x", true);

	ok(config_apply(&cfg, "{\"trash_grace_seconds\":0}", "b", &err) == 0,
	   "a later document applies on top");
	is_int(cfg.trash_grace, 0, "trash_grace_seconds 0 is allowed");
	ok(config_apply(&cfg, "{}", "c", &err) == 0, "an empty object is accepted");
	is_int(cfg.trash_grace, 0, "an empty object changes nothing");
	ok(err == NULL, "no error was filled");
}

static void apply_fails(const char *json, const char *want, const char *what)
{
	_cleanup_config_ wtb_config cfg = {0};
	_cleanup_error_ wtb_error *err = NULL;

	config_defaults(&cfg);
	ok(config_apply(&cfg, json, "/home/u/.wtbox.json", &err) < 0 && err != NULL,
	   "config_apply rejects %s", what);
	has_str(err ? err->msg : NULL, want, "the error for %s", what);
	has_str(err ? err->msg : NULL, "'/home/u/.wtbox.json'", "the error for %s names the source",
		what);
}

static void test_apply_errors(void)
{
	/* Column 22 of line 2 is the ']' after the trailing comma. */
	apply_fails("{\n  \"disposable\": [\"a\",]\n}", "JSON syntax error at line 2, column 22",
		    "a trailing comma");
	/* The second string where a ',' should be: line 4, column 1. */
	apply_fails("{\n\"disposable\": [\n\"a\"\n\"b\"]}", "JSON syntax error at line 4, column 1",
		    "a missing comma");
	apply_fails("{\"a\": tru}", "JSON syntax error at line 1, column 7", "a bad literal");
	apply_fails("{\"disposable\": []} x", "JSON syntax error at line 1, column 20",
		    "trailing garbage");
	apply_fails("", "JSON syntax error", "an empty document");
	apply_fails("[]", "not a JSON object", "an array");
	apply_fails("{\"disposeable\": []}", "unknown key 'disposeable'", "a misspelt key");
	apply_fails("{\"disposable\": \"node_modules/\"}", "'disposable' must be an array",
		    "a string for disposable");
	apply_fails("{\"disposable\": [\"a\", 1]}", "'disposable'[1] must be a non-empty string",
		    "a number in disposable");
	apply_fails("{\"disposable\": [\"\"]}", "'disposable'[0] must be a non-empty string",
		    "an empty pattern");
	apply_fails("{\"trash_grace_seconds\": \"60\"}", "'trash_grace_seconds' must be a",
		    "a string for trash_grace_seconds");
	apply_fails("{\"trash_grace_seconds\": -1}", "'trash_grace_seconds' must be a non-negative",
		    "a negative trash_grace_seconds");
	apply_fails("{\"trash_grace_seconds\": 1e300}", "'trash_grace_seconds' must be a",
		    "a trash_grace_seconds beyond LONG_MAX");
	/* Regression (audit): cJSON ended a string at \u0000 and kept both
	 * members of a key given twice, the last one silently winning. */
	apply_fails("{\"disposable\": [\"a\\u0000b\"]}",
		    "\\u0000 in a string at line 1, column 19: a string cannot hold a NUL",
		    "\\u0000 in a pattern");
	apply_fails("{\"disposable\\u0000x\": [\"a\"]}", "\\u0000 in a string at line 1, column 13",
		    "\\u0000 in a key");
	apply_fails("{\"disposable\": [\"a\tb\"]}", "JSON syntax error at line 1, column 19",
		    "a raw tab in a string");
	apply_fails("{\"trash_grace_seconds\": 1,\n \"trash_grace_seconds\": 2}",
		    "duplicate key 'trash_grace_seconds'", "a key given twice");
	apply_fails("{\"disposable\": [\"a\"], \"disposable\": [\"b\"]}",
		    "duplicate key 'disposable'", "disposable given twice");
}

/* Only the escape of a NUL is refused: an escaped backslash followed by
 * "u0000" is text, and so is \u0001. */
static void test_apply_escapes(void)
{
	_cleanup_config_ wtb_config cfg = {0};
	_cleanup_error_ wtb_error *err = NULL;
	size_t before;

	config_defaults(&cfg);
	before = cfg.disposable.n;
	ok(config_apply(&cfg, "{\"disposable\": [\"a\\\\u0000\", \"\\u0001\"]}", "a", &err) == 0,
	   "an escaped backslash before u0000 is not \\u0000");
	is_str(err ? err->msg : NULL, NULL, "no error");
	is_int((long long)cfg.disposable.n, (long long)before + 2, "both patterns are appended");
	is_str(cfg.disposable.n > before ? cfg.disposable.v[before] : NULL, "a\\u0000",
	       "the first is kept whole");
	is_str(cfg.disposable.n > before + 1 ? cfg.disposable.v[before + 1] : NULL, "\x01",
	       "\\u0001 is the byte 0x01");
	/* An escaped quote does not end the string: the \u0000 after it is
	 * inside. */
	apply_fails("{\"disposable\": [\"\\\"\\u0000\"]}",
		    "\\u0000 in a string at line 1, column 20", "\\u0000 after an escaped quote");
}

static void position(const char *text, size_t off, int want_line, int want_col)
{
	int line = -1, col = -1;

	json_position(text, text + off, &line, &col);
	ok(line == want_line && col == want_col, "offset %zu is line %d, column %d (got %d:%d)",
	   off, want_line, want_col, line, col);
}

static void test_json_position(void)
{
	const char *t = "ab\ncd\n\nefg";
	const char buf[] = "a\nb\0zz";
	int line = -1, col = -1;

	position(t, 0, 1, 1);
	position(t, 1, 1, 2);
	position(t, 2, 1, 3); /* the newline itself */
	position(t, 3, 2, 1);
	position(t, 4, 2, 2);
	position(t, 6, 3, 1);
	position(t, 7, 4, 1);
	position(t, 9, 4, 3);
	position(t, 10, 4, 4); /* the terminating NUL */
	position("\t\tx", 2, 1, 3);

	json_position(t, NULL, &line, &col);
	ok(line == 1 && col == 1, "a NULL position is 1:1");
	/* A position past the terminating NUL: counting stops at the NUL. */
	json_position(buf, buf + 5, &line, &col);
	ok(line == 2 && col == 2, "counting stops at the end of the text (got %d:%d)", line, col);
}

static void test_json_syntax_error(void)
{
	_cleanup_error_ wtb_error *err = NULL, *outside = NULL;
	const char *text = "{\n  x\n}";
	const char *other = "somewhere else";

	ok(json_syntax_error(&err, "invalid policy", "p.json", text, text + 4) < 0,
	   "json_syntax_error returns < 0");
	is_str(err ? err->msg : NULL,
	       "invalid policy 'p.json': JSON syntax error at line 2, column 3",
	       "json_syntax_error's message");
	json_syntax_error(&outside, "invalid policy", "p.json", text, other);
	is_str(outside ? outside->msg : NULL, "invalid policy 'p.json': JSON syntax error",
	       "a position outside the text is left out");
}

int main(void)
{
	test_defaults();
	test_anchored();
	test_apply();
	test_apply_errors();
	test_apply_escapes();
	test_json_position();
	test_json_syntax_error();
	return done_testing();
}
