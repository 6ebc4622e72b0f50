/* The error type, the shared helpers of util.c, and process_exit_status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "process.h"
#include "util.h"

#include "tap.h"

/* The scratch directory of this run, removed at the end. */
static char scratch[] = "/tmp/wtbox-unit-XXXXXX";

static char *in_scratch(const char *name)
{
	return path_join(scratch, name);
}

static void touch(const char *path, const char *content)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		diag("cannot write '%s': %s", path, strerror(errno));
		abort();
	}
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------ error.h */

static void test_error_set(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *text = NULL;

	ok(wtb_error_set(&err, 0, "cannot open '%s'", "x") == -1, "wtb_error_set returns -1");
	ok(err != NULL, "wtb_error_set fills the error");
	if (err == NULL)
		return;
	is_str(err->msg, "cannot open 'x'", "the message is formatted");
	is_int(err->errnum, 0, "errnum is as given");
	is_int(err->status, 125, "the status defaults to 125");
	is_int(err->status, WTB_EXIT_ERROR, "which is WTB_EXIT_ERROR");
	text = wtb_error_text(err);
	is_str(text, "cannot open 'x'", "without errnum the text is the message alone");

	ok(wtb_error_set(&err, EPERM, "second %d", 2) == -1, "a second set returns -1");
	is_str(err->msg, "cannot open 'x'", "a second set keeps the first message");
	is_int(err->errnum, 0, "a second set keeps the first errnum");

	wtb_error_free(&err);
	ok(err == NULL, "wtb_error_free clears the pointer");
	wtb_error_free(&err);
	ok(err == NULL, "wtb_error_free of a cleared error is harmless");
	ok(wtb_error_set(NULL, 0, "nowhere") == -1, "wtb_error_set without an out-parameter");
}

static void test_error_wrap_and_text(void)
{
	_cleanup_error_ wtb_error *err = NULL, *none = NULL;
	_cleanup_free_ char *text = NULL, *want = NULL;

	wtb_error_set(&err, ENOENT, "cannot open '%s'", "/a/b");
	ok(wtb_error_wrap(&err, "prepare worktree '%s'", "w") == -1, "wtb_error_wrap returns -1");
	is_str(err->msg, "prepare worktree 'w': cannot open '/a/b'", "wrap gives 'ctx: msg'");
	wtb_error_wrap(&err, "run");
	is_str(err->msg, "run: prepare worktree 'w': cannot open '/a/b'",
	       "a second wrap prepends again");
	is_int(err->errnum, ENOENT, "wrapping keeps errnum");
	text = wtb_error_text(err);
	want = xasprintf("run: prepare worktree 'w': cannot open '/a/b': %s", strerror(ENOENT));
	is_str(text, want, "wtb_error_text appends strerror(errnum)");

	ok(wtb_error_wrap(&none, "ctx") == -1 && none == NULL,
	   "wrapping no error returns -1 and leaves it NULL");
	ok(wtb_error_wrap(NULL, "ctx") == -1, "wrapping without an out-parameter");
}

static void test_error_errno(void)
{
	_cleanup_error_ wtb_error *err = NULL;

	errno = EACCES;
	ok(wtb_error_errno(&err, "cannot read '%s'", "f") == -1, "wtb_error_errno returns -1");
	ok(errno == EACCES, "wtb_error_errno keeps errno");
	is_int(err ? err->errnum : -1, EACCES, "errnum is taken from errno");
	is_str(err ? err->msg : NULL, "cannot read 'f'", "the message is formatted");
}

static void test_error_git(void)
{
	_cleanup_error_ wtb_error *err = NULL;

	/* git_error_last() may be NULL or hold any earlier message: only the
	 * prefix is ours. */
	ok(wtb_error_git(&err, -3, "cannot open repository '%s'", "r") == -1,
	   "wtb_error_git returns -1");
	has_str(err ? err->msg : NULL,
		"cannot open repository 'r': ", "wtb_error_git starts with what failed");
}

/* wtb_error_report prints one line on stderr and returns the status. */
static void test_error_report(void)
{
	_cleanup_error_ wtb_error *err = NULL, *named = NULL;
	_cleanup_free_ char *path = in_scratch("stderr"), *out = NULL, *want = NULL;
	_cleanup_error_ wtb_error *rerr = NULL;
	int saved = dup(STDERR_FILENO), fd, status;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!ok(saved >= 0 && fd >= 0, "redirect stderr"))
		return;
	wtb_error_set(&err, ENOENT, "command '%s' not found", "nope");
	err->status = WTB_EXIT_NOTFOUND;
	wtb_error_set(&named, 0, "cannot read '%s'", "a\033]52;c;aGk=\a\nwtbox: b\xc2\x9b");
	dup2(fd, STDERR_FILENO);
	status = wtb_error_report(err);
	wtb_error_report(named);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	is_int(status, 127, "wtb_error_report returns the error's status");
	read_file(path, 4096, &out, NULL, &rerr);
	want = xasprintf("wtbox: command 'nope' not found: %s\n"
			 "wtbox: cannot read 'a\\x1b]52;c;aGk=\\x07\\x0awtbox: b\\xc2\\x9b'\n",
			 strerror(ENOENT));
	is_str(out, want, "wtb_error_report prints 'wtbox: msg: reason', control bytes escaped");
}

/* ------------------------------------------------------------ strings */

static void test_strings(void)
{
	struct {
		const char *a, *b, *want;
	} joins[] = {
	    {"a", "b", "a/b"},	  {"a/", "b", "a/b"},	{"a", "/b", "a/b"},
	    {"a/", "//b", "a/b"}, {"/", "etc", "/etc"}, {"/x/y", "b/c", "/x/y/b/c"},
	    {"a", "b/", "a/b/"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(joins); i++) {
		_cleanup_free_ char *j = path_join(joins[i].a, joins[i].b);

		is_str(j, joins[i].want, "path_join('%s', '%s')", joins[i].a, joins[i].b);
	}

	{
		struct {
			const char *in, *want;
		} plains[] = {
		    {"/a/b", "/a/b"},
		    {"/a/b/", "/a/b"},
		    {"/a//b///", "/a/b"},
		    {"/a/./b/.", "/a/b"},
		    {"/", "/"},
		    {"//", "/"},
		    {"/.", "/"},
		    {"/.a/b..", "/.a/b.."},
		    {"/a/../b", NULL},
		    {"/a/..", NULL},
		    {"a/b", NULL},
		    {"", NULL},
		    {"/x/.../y", "/x/.../y"},
		};

		for (size_t i = 0; i < ARRAY_SIZE(plains); i++) {
			_cleanup_free_ char *p = path_plain(plains[i].in);

			if (plains[i].want == NULL)
				ok(p == NULL, "path_plain('%s') is NULL", plains[i].in);
			else
				is_str(p, plains[i].want, "path_plain('%s')", plains[i].in);
		}
	}

	ok(str_has_prefix("refs/heads/x", "refs/heads/"), "has_prefix: a real prefix");
	ok(str_has_prefix("abc", "abc"), "has_prefix: the whole string");
	ok(str_has_prefix("abc", ""), "has_prefix: the empty prefix");
	ok(!str_has_prefix("ab", "abc"), "has_prefix: longer than the string");
	ok(!str_has_prefix("xabc", "abc"), "has_prefix: not at the start");
	ok(str_has_suffix("x.lock", ".lock"), "has_suffix: a real suffix");
	ok(str_has_suffix("abc", "abc"), "has_suffix: the whole string");
	ok(str_has_suffix("abc", ""), "has_suffix: the empty suffix");
	ok(!str_has_suffix("lock", ".lock"), "has_suffix: longer than the string");
	ok(!str_has_suffix("x.lockx", ".lock"), "has_suffix: not at the end");
	ok(!str_has_suffix("", "a"), "has_suffix: of the empty string");
}

/* Regression (audit: `--timeout ' 5'` was accepted): a number on the
 * command line or in the environment is decimal digits and nothing else. */
static void test_parse_digits(void)
{
	static const char *const bad[] = {"",	 " 5", "5 ",  "+5",  "-0", "-5",
					  "\t5", "5s", "0x5", "5.0", "1e3"};
	unsigned long v = 7;

	ok(parse_digits("0", 10, &v) == 0 && v == 0, "'0' is 0");
	ok(parse_digits("42", 100, &v) == 0 && v == 42, "'42' is 42");
	ok(parse_digits("007", 100, &v) == 0 && v == 7, "leading zeros are digits");
	ok(parse_digits("100", 100, &v) == 0 && v == 100, "the maximum itself");
	ok(parse_digits("101", 100, &v) < 0, "above the maximum");
	ok(parse_digits("5", 3, &v) < 0, "one digit above a maximum below 10");
	ok(parse_digits("18446744073709551615", ULONG_MAX, &v) == 0 && v == ULONG_MAX,
	   "ULONG_MAX with max ULONG_MAX");
	ok(parse_digits("18446744073709551616", ULONG_MAX, &v) < 0, "ULONG_MAX + 1 overflows");
	ok(parse_digits("99999999999999999999999", ULONG_MAX, &v) < 0, "far beyond ULONG_MAX");
	v = 7;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(parse_digits(bad[i], ULONG_MAX, &v) < 0 && v == 7, "'%s' is refused, untouched",
		   bad[i]);
}

static void test_term_escape(void)
{
	struct {
		const char *in, *want, *what;
	} cases[] = {
	    {"", "", "the empty string"},
	    {"src/main.c", "src/main.c", "a plain path"},
	    {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	     "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	     "printable UTF-8 (2, 3 and 4 bytes) is kept"},
	    {"\xc2\xa0\xc2\xbf", "\xc2\xa0\xc2\xbf", "U+00A0 and U+00BF, just past C1, are kept"},
	    {"\033]52;c;aGk=\a", "\\x1b]52;c;aGk=\\x07", "OSC 52 (set the clipboard)"},
	    {"\033[2J", "\\x1b[2J", "CSI: clear the screen"},
	    {"x\ny\r\tz", "x\\x0ay\\x0d\\x09z", "newline, carriage return, tab"},
	    {"\x01\x1f\x7f", "\\x01\\x1f\\x7f", "C0 bounds and DEL"},
	    {"a\xc2\x9b"
	     "2Jb",
	     "a\\xc2\\x9b2Jb", "C1 CSI as UTF-8 (U+009B)"},
	    {"\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f", "C1 bounds U+0080 and U+009F"},
	    {"a\x9b"
	     "2J",
	     "a\\x9b2J", "a raw 8-bit CSI"},
	    {"\xff\xfe", "\\xff\\xfe", "bytes never in UTF-8"},
	    {"\xc3", "\\xc3", "a sequence cut by the end"},
	    {"\xc3(", "\\xc3(", "a sequence cut by an ASCII byte"},
	    {"\xe6\x97", "\\xe6\\x97", "a 3-byte sequence cut short"},
	    {"\xc0\xaf\xe0\x80\xaf", "\\xc0\\xaf\\xe0\\x80\\xaf", "overlong forms"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80", "a surrogate (U+D800)"},
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "above U+10FFFF"},
	    {"\x80z", "\\x80z", "a lone continuation byte"},
	    {"\xc2\x9b\xc3\xa9", "\\xc2\\x9b\xc3\xa9", "C1 then printable UTF-8"},
	    {"a\xe2\x80\xae"
	     "b\xe2\x81\xa6"
	     "c",
	     "a\\xe2\\x80\\xaeb\\xe2\\x81\\xa6c", "bidi overrides and isolates (U+202E, U+2066)"},
	    {"\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xa8\xe2\x80\xa9\xe2\x81\xa9",
	     "\\xe2\\x80\\x8e\\xe2\\x80\\x8f\\xe2\\x80\\xa8\\xe2\\x80\\xa9\\xe2\\x81\\xa9",
	     "LRM, RLM, line and paragraph separators, the last isolate"},
	    {"\xe2\x80\x94\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
	     "\xe2\x80\x94\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
	     "their neighbours (an em dash, U+2027, U+202F, U+2065, U+206A) are kept"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = term_escape(cases[i].in);

		is_str(got, cases[i].want, "term_escape: %s", cases[i].what);
	}
}

static void test_strv(void)
{
	_cleanup_strvec_ strv s = {0};
	_cleanup_strv_ char **raw = NULL;
	bool right = true;

	for (int i = 0; i < 20; i++)
		strv_push(&s, xasprintf("s%d", i));
	is_int((long long)s.n, 20, "strv_push: 20 strings past the first growth");
	ok(s.cap > s.n, "room is kept for the terminating NULL");
	ok(s.v[20] == NULL, "the vector is NULL-terminated");
	for (int i = 0; i < 20; i++) {
		_cleanup_free_ char *want = xasprintf("s%d", i);

		right = right && strcmp(s.v[i], want) == 0;
	}
	ok(right, "the strings keep their order");
	strv_clear(&s);
	ok(s.v == NULL && s.n == 0 && s.cap == 0, "strv_clear empties the vector");
	strv_push(&s, xstrdup("again"));
	ok(s.n == 1 && strcmp(s.v[0], "again") == 0 && s.v[1] == NULL,
	   "a cleared vector can be reused");

	/* steal_ptr hands the array to a _cleanup_strv_ variable. */
	raw = steal_ptr(s.v);
	s.n = s.cap = 0;
	ok(s.v == NULL && raw != NULL && strcmp(raw[0], "again") == 0,
	   "steal_ptr moves the pointer and clears the source");
}

/* ------------------------------------------------------------ files */

static void test_mkdir_p(void)
{
	_cleanup_free_ char *deep = in_scratch("m/a/b/c"), *file = in_scratch("m/file");
	_cleanup_free_ char *under = in_scratch("m/file/sub"), *slash = in_scratch("m/s/t/");
	_cleanup_error_ wtb_error *err = NULL;
	struct stat st;

	ok(mkdir_p(deep, 0700, &err) == 0, "mkdir_p creates a nested directory");
	ok(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "it is a directory");
	is_int(st.st_mode & 07777, 0700, "with the mode asked for");
	ok(mkdir_p(deep, 0755, &err) == 0, "mkdir_p of an existing directory succeeds");
	ok(stat(deep, &st) == 0 && (st.st_mode & 07777) == 0700, "and keeps its mode");
	ok(mkdir_p(slash, 0700, &err) == 0, "mkdir_p with a trailing slash");
	ok(stat(slash, &st) == 0 && S_ISDIR(st.st_mode), "creates the directory");

	touch(file, "x");
	ok(mkdir_p(under, 0700, &err) < 0, "mkdir_p below a regular file fails");
	is_int(err ? err->errnum : 0, ENOTDIR, "with ENOTDIR");
	_cleanup_free_ char *want = xasprintf("cannot create directory '%s'", under);
	is_str(err ? err->msg : NULL, want, "the error names the directory");

	wtb_error_free(&err);
	ok(mkdir_p(file, 0700, &err) < 0, "mkdir_p of a path that is a regular file fails");
	is_int(err ? err->errnum : 0, ENOTDIR, "with ENOTDIR");
}

static void test_write_read(void)
{
	_cleanup_free_ char *dir = in_scratch("f"), *path = in_scratch("f/data");
	_cleanup_free_ char *missing = in_scratch("f/no/such/file");
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *got = NULL, *big = NULL;
	const char bin[] = "a\0b\nc";
	size_t len = 0;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int entries = 0;

	mkdir_p(dir, 0700, &err);
	ok(write_file_atomic(path, "hello\n", 6, 0640, &err) == 0, "write_file_atomic");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "the file has mode 0640");
	ok(read_file(path, 1024, &got, &len, &err) == 0, "read_file");
	is_str(got, "hello\n", "read_file gives what was written");
	is_int((long long)len, 6, "and its length");
	free(got);
	got = NULL;

	ok(write_file_atomic(path, bin, sizeof(bin) - 1, 0600, &err) == 0,
	   "write_file_atomic replaces the file");
	ok(read_file(path, 1024, &got, &len, &err) == 0 && len == sizeof(bin) - 1 &&
	       memcmp(got, bin, len) == 0 && got[len] == '\0',
	   "a shorter content with a NUL byte reads back whole and NUL-terminated");
	free(got);
	got = NULL;

	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			entries++;
	if (d != NULL)
		closedir(d);
	is_int(entries, 1, "no temp file is left behind");

	/* The size limit, around one read buffer and at the exact bound. */
	big = xmalloc(10001);
	memset(big, 'x', 10000);
	big[10000] = '\0';
	ok(write_file_atomic(path, big, 10000, 0600, &err) == 0, "write 10000 bytes");
	ok(read_file(path, 10000, &got, &len, &err) == 0 && len == 10000,
	   "read_file with max equal to the size");
	free(got);
	got = NULL;
	ok(read_file(path, 9999, &got, &len, &err) < 0 && got == NULL,
	   "read_file with max one below the size fails");
	is_int(err ? err->errnum : 0, EFBIG, "with EFBIG");
	_cleanup_free_ char *want = xasprintf("cannot read '%s'", path);
	is_str(err ? err->msg : NULL, want, "the error names the file");
	wtb_error_free(&err);
	ok(read_file(path, 100, &got, NULL, &err) < 0 && err && err->errnum == EFBIG,
	   "read_file with a small max fails early");
	wtb_error_free(&err);
	ok(write_file_atomic(path, "12345", 5, 0600, &err) == 0 &&
	       read_file(path, 5, &got, &len, &err) == 0 && len == 5,
	   "a 5-byte file with max 5");
	free(got);
	got = NULL;
	ok(read_file(path, 4, &got, &len, &err) < 0 && err && err->errnum == EFBIG,
	   "a 5-byte file with max 4 fails");
	wtb_error_free(&err);

	ok(read_file(missing, 100, &got, NULL, &err) < 0, "read_file of a missing file fails");
	is_int(err ? err->errnum : 0, ENOENT, "with ENOENT");
	wtb_error_free(&err);
	ok(write_file_atomic(missing, "x", 1, 0600, &err) < 0,
	   "write_file_atomic into a missing directory fails");
	is_int(err ? err->errnum : 0, ENOENT, "with ENOENT");
	has_str(err ? err->msg : NULL, "cannot open '", "the error names the directory");
}

static void test_remove_tree(void)
{
	_cleanup_free_ char *outside = in_scratch("outside"), *keep = in_scratch("outside/keep");
	_cleanup_free_ char *keepdir = in_scratch("outside/dir");
	_cleanup_free_ char *keepdir_file = in_scratch("outside/dir/precious");
	_cleanup_free_ char *tree = in_scratch("tree"), *deep = in_scratch("tree/a/b/c");
	_cleanup_free_ char *deep_file = in_scratch("tree/a/b/c/f");
	_cleanup_free_ char *ro = in_scratch("tree/ro"), *ro_file = in_scratch("tree/ro/f");
	_cleanup_free_ char *ro_sub = in_scratch("tree/ro/sub");
	_cleanup_free_ char *none = in_scratch("tree/none"), *none_file = in_scratch("tree/none/f");
	_cleanup_free_ char *link_file = in_scratch("tree/to-file");
	_cleanup_free_ char *link_dir = in_scratch("tree/a/to-dir");
	_cleanup_free_ char *top_link = in_scratch("top-link");
	_cleanup_error_ wtb_error *err = NULL;

	mkdir_p(keepdir, 0755, &err);
	touch(keep, "keep");
	touch(keepdir_file, "precious");
	mkdir_p(deep, 0755, &err);
	touch(deep_file, "f");
	mkdir_p(ro_sub, 0755, &err);
	touch(ro_file, "f");
	mkdir_p(none, 0755, &err);
	touch(none_file, "f");
	chmod(ro_sub, 0500);
	chmod(ro, 0500);
	chmod(none, 0);
	ok(symlink(keep, link_file) == 0, "symlink to a file outside");
	ok(symlink(keepdir, link_dir) == 0, "symlink to a directory outside");
	if (geteuid() == 0)
		diag("running as root: read-only directories do not stop root anyway");

	ok(remove_tree(tree, &err) == 0, "remove_tree%s%s", err ? ": " : "", err ? err->msg : "");
	ok(!exists(tree), "the tree is gone");
	ok(exists(keep), "the file a symlink pointed to is still there");
	ok(exists(keepdir_file), "the directory a symlink pointed to keeps its contents");

	ok(remove_tree(tree, &err) == 0, "remove_tree of a missing path succeeds");

	/* The top path itself a symlink: the link goes, the target stays. */
	ok(symlink(keepdir, top_link) == 0, "symlink at the top");
	ok(remove_tree(top_link, &err) == 0, "remove_tree of a symlink to a directory");
	ok(!exists(top_link), "removes the symlink");
	ok(exists(keepdir_file), "not what it points to");

	ok(remove_tree(keep, &err) == 0 && !exists(keep), "remove_tree of a plain file");
}

/* ----------------------------------------------------- write_file_swap */

static ino_t inode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static bool holds_text(const char *path, const char *want)
{
	_cleanup_free_ char *got = NULL;
	_cleanup_error_ wtb_error *err = NULL;

	return read_file_shared(path, 1 << 16, &got, NULL, &err) == 0 && strcmp(got, want) == 0;
}

/* The same length each time, as a padded record is. */
static char *block_of(char c)
{
	char *b = xmalloc(4097);

	memset(b, c, 4096);
	b[4096] = '\0';
	return b;
}

static void test_write_swap(void)
{
	_cleanup_free_ char *path = in_scratch("rec"), *spare = in_scratch("rec.spare");
	_cleanup_free_ char *other = in_scratch("elsewhere"), *alias = in_scratch("alias");
	_cleanup_free_ char *a = block_of('a'), *b = block_of('b'), *c = block_of('c');
	_cleanup_free_ char *d = block_of('d'), *e = block_of('e'), *f = block_of('f');
	_cleanup_error_ wtb_error *err = NULL;
	ino_t before;
	int held;

	ok(write_file_swap(path, a, 4096, 0600, &err) == 0 && holds_text(path, a),
	   "the first write creates the file");
	ok(!exists(spare), "without a spare yet");
	ok(write_file_swap(path, b, 4096, 0600, &err) == 0 && holds_text(path, b),
	   "the second write replaces it");
	ok(holds_text(spare, a), "the old content is now the spare");
	before = inode_of(spare);
	ok(write_file_swap(path, c, 4096, 0600, &err) == 0 && holds_text(path, c),
	   "the third write replaces it");
	ok(inode_of(path) == before, "written in place into the spare, then exchanged");
	ok(holds_text(spare, b), "the spare holds the previous content");
	ok(write_file_swap(path, "short\n", 6, 0600, &err) == 0 && holds_text(path, "short\n"),
	   "a write of another length replaces it too");

	/* A reader that holds the spare (it opened the file before the last
	 * exchange) keeps seeing what it opened. */
	ok(write_file_swap(path, d, 4096, 0600, &err) == 0 &&
	       write_file_swap(path, e, 4096, 0600, &err) == 0,
	   "two writes of one length");
	held = open(spare, O_RDONLY | O_CLOEXEC);
	ok(held >= 0 && flock(held, LOCK_SH) == 0, "a reader holds the spare");
	ok(write_file_swap(path, f, 4096, 0600, &err) == 0 && holds_text(path, f),
	   "a write while the spare is held");
	{
		char buf[4096];

		ok(pread(held, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		       memcmp(buf, d, sizeof(buf)) == 0,
		   "the reader's file was not written over");
	}
	close(held);

	/* The spare is never written through a link, nor when it has a
	 * second name (the link's target has the spare's size: only the
	 * link stops the write). */
	{
		_cleanup_free_ char *precious = block_of('p');

		touch(other, precious);
	}
	unlink(spare);
	ok(symlink(other, spare) == 0, "the spare replaced by a symlink");
	ok(write_file_swap(path, a, 4096, 0600, &err) == 0 && holds_text(path, a),
	   "a write with a symlink for a spare");
	{
		_cleanup_free_ char *precious = block_of('p');

		ok(holds_text(other, precious), "the symlink's target is untouched");
	}
	ok(write_file_swap(path, b, 4096, 0600, &err) == 0, "one more write");
	ok(link(spare, alias) == 0, "the spare gets a second name");
	ok(write_file_swap(path, c, 4096, 0600, &err) == 0 && holds_text(path, c),
	   "a write with a hard-linked spare");
	ok(holds_text(alias, a), "the other name keeps its content");

	_cleanup_free_ char *missing = in_scratch("no/such/rec");

	ok(write_file_swap(missing, a, 4096, 0600, &err) < 0,
	   "a write into a missing directory fails");
	has_str(err ? err->msg : NULL, "cannot open '", "naming the directory");
}

/* Readers wait for a writer that holds the file: a child locks it, tells
 * the parent, writes the new content in two halves and lets go. */
static void test_read_shared_waits(void)
{
	_cleanup_free_ char *path = in_scratch("shared");
	_cleanup_free_ char *old = block_of('o'), *new = block_of('n');
	_cleanup_free_ char *got = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	int ready[2], ws;
	pid_t pid;

	touch(path, old);
	if (pipe(ready) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		usleep(20000);
		if (pwrite(fd, new, 2048, 0) != 2048)
			_exit(1);
		usleep(20000);
		if (pwrite(fd, new + 2048, 2048, 2048) != 2048)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	{
		char x;

		ok(read(ready[0], &x, 1) == 1, "the writer holds the file");
	}
	close(ready[0]);
	ok(read_file_shared(path, 1 << 16, &got, NULL, &err) == 0, "read_file_shared");
	ok(got != NULL && strcmp(got, new) == 0, "waited for the writer: the whole new content");
	ok(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the writer");
}

/* ------------------------------------------------------------ lock_file */

/* In a child: try to take the lock; the exit code says what happened. The
 * child first closes its copy of the parent's descriptor: flock belongs to
 * the open file, which the copy shares. Getting the lock sooner than
 * min_wait_ms means it was not held. */
static _Noreturn void lock_child(const char *path, int timeout_ms, int min_wait_ms, int held_fd)
{
	wtb_error *err = NULL;
	uint64_t start;
	int fd = -1;

	close(held_fd);
	start = now_ms();
	if (lock_file(path, timeout_ms, &fd, &err) == 0)
		_exit(now_ms() - start < (uint64_t)min_wait_ms ? 5 : 0);
	if (err->errnum != ETIMEDOUT)
		_exit(2);
	if (!str_has_prefix(err->msg, "cannot lock '"))
		_exit(3);
	if (now_ms() - start < (uint64_t)timeout_ms)
		_exit(4); /* gave up before the timeout */
	_exit(1);
}

static int lock_in_child(const char *path, int timeout_ms, int release_after_ms, int held_fd)
{
	pid_t pid;
	int ws;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		lock_child(path, timeout_ms, release_after_ms / 2, held_fd);
	if (release_after_ms >= 0) {
		usleep((useconds_t)release_after_ms * 1000);
		close(held_fd);
	}
	if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static void test_lock_file(void)
{
	_cleanup_free_ char *path = in_scratch("lock"), *bad = in_scratch("no/such/lock");
	_cleanup_error_ wtb_error *err = NULL;
	int fd = -1, fd2 = -1;
	struct stat st;

	ok(lock_file(path, 1000, &fd, &err) == 0 && fd >= 0, "lock_file takes a free lock");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the lock file is created 0600");
	is_int(lock_in_child(path, 200, -1, fd), 1,
	       "a second lock from a child times out with ETIMEDOUT after 200 ms");
	is_int(lock_in_child(path, 5000, 200, fd), 0,
	       "a waiting child gets the lock once the parent releases it");
	fd = -1;
	ok(lock_file(path, 1000, &fd2, &err) == 0, "the parent can lock again afterwards");
	close(fd2);

	ok(lock_file(bad, 100, &fd2, &err) < 0, "lock_file in a missing directory fails");
	has_str(err ? err->msg : NULL, "cannot open lock '", "with a message naming the lock");
}

/* ------------------------------------------------------------ processes */

static int child_status(int how)
{
	pid_t pid;
	int ws;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (how >= 0)
			_exit(how);
		signal(-how, SIG_DFL);
		raise(-how);
		_exit(99);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) < 0)
		return -1;
	return ws;
}

static void test_process_exit_status(void)
{
	int ws;

	ws = child_status(3);
	ok(WIFEXITED(ws), "a child that exits 3 is reported as exited");
	is_int(process_exit_status(ws), 3, "process_exit_status of exit 3");
	is_int(process_exit_status(child_status(0)), 0, "process_exit_status of exit 0");
	is_int(process_exit_status(child_status(255)), 255, "process_exit_status of exit 255");
	ws = child_status(-SIGTERM);
	ok(WIFSIGNALED(ws), "a child that raises SIGTERM is reported as signalled");
	is_int(process_exit_status(ws), 128 + SIGTERM, "SIGTERM gives 143");
	is_int(process_exit_status(child_status(-SIGKILL)), 137, "SIGKILL gives 137");
}

/* The command name in /proc/PID/stat may hold ") " and digits: the start
 * time must be read after the last ')'. */
static void test_proc_start_time(void)
{
	uint64_t self = proc_start_time(getpid()), child_start, now_ticks;
	int ready[2], ws;
	char c;
	pid_t pid;
	struct timespec ts;

	if (!ok(pipe(ready) == 0, "pipe"))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, ") 1 2 3 4 5 6 7", 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		ok(false, "start a child with an odd command name");
		close(ready[0]);
		return;
	}
	close(ready[0]);
	child_start = proc_start_time(pid);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	now_ticks = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) *
			(uint64_t)sysconf(_SC_CLK_TCK) / 1000000000u +
		    1;
	kill(pid, SIGKILL);
	waitpid(pid, &ws, 0);

	ok(self > 0, "the start time of this process is known");
	ok(child_start >= self && child_start <= now_ticks,
	   "a child named ') 1 2 3 ...' started between this process and now (%llu <= %llu <= "
	   "%llu)",
	   (unsigned long long)self, (unsigned long long)child_start,
	   (unsigned long long)now_ticks);
	is_int((long long)proc_start_time(pid), 0, "the start time of a reaped child is unknown");
	is_int((long long)proc_start_time(0), 0, "the start time of pid 0 is unknown");
}

/* A zombie is not alive: a SIGKILLed supervisor that its parent has not
 * waited for yet must not count as a running agent. */
static void test_proc_start_time_zombie(void)
{
	siginfo_t si;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (!ok(pid > 0, "fork"))
		return;
	/* Wait until it is a zombie, without reaping it. */
	ok(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0, "the child exited");
	is_int((long long)proc_start_time(pid), 0, "a zombie has no start time");
	waitpid(pid, NULL, 0);
	is_int((long long)proc_start_time(pid), 0, "a reaped process has none either");
}

static void test_now_ms(void)
{
	uint64_t a = now_ms();

	usleep(20000);
	ok(now_ms() >= a + 20, "now_ms advances by at least 20 ms over a 20 ms sleep");
}

int main(void)
{
	_cleanup_error_ wtb_error *err = NULL;

	umask(022);
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_error_set();
	test_error_wrap_and_text();
	test_error_errno();
	test_error_git();
	test_error_report();
	test_strings();
	test_parse_digits();
	test_term_escape();
	test_strv();
	test_mkdir_p();
	test_write_read();
	test_remove_tree();
	test_write_swap();
	test_read_shared_waits();
	test_lock_file();
	test_process_exit_status();
	test_proc_start_time();
	test_proc_start_time_zombie();
	test_now_ms();
	ok(remove_tree(scratch, &err) == 0 && !exists(scratch), "the scratch directory is removed");
	return done_testing();
}
