/* The cache of compiled filters: what is loaded from it is byte for byte
 * what libseccomp compiles; an edited policy, a damaged file, a file
 * others can write or another user's file is never used; a cache that
 * cannot be written never fails the compile. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "filter.h"
#include "filtercache.h"
#include "policy.h"
#include "util.h"

#include "tap.h"

static char *tmp;

/* Two versions of one policy file, and a name this libseccomp lacks (for
 * the skipped list). */
static const char *POLICY_A =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
    "{\"names\": [\"keyctl\", \"no_such_call_2099\"], \"action\": \"SCMP_ACT_ERRNO\", "
    "\"errnoRet\": 13},"
    "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", "
    "\"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}]}";
static const char *POLICY_B =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
    "{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22}]}";

static void write_text(const char *path, const char *text)
{
	_cleanup_error_ wtb_error *err = NULL;

	if (write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
		diag("cannot write %s: %s", path, err->msg);
}

static bool same_filter(const wtb_filter *a, const wtb_filter *b)
{
	if (a->prog.len != b->prog.len || a->flags != b->flags ||
	    a->default_action != b->default_action || a->narches != b->narches ||
	    a->nrules != b->nrules || a->skipped.n != b->skipped.n)
		return false;
	if (memcmp(a->prog.filter, b->prog.filter, a->prog.len * sizeof(*a->prog.filter)) != 0 ||
	    memcmp(a->arches, b->arches, a->narches * sizeof(a->arches[0])) != 0)
		return false;
	for (size_t i = 0; i < a->skipped.n; i++)
		if (strcmp(a->skipped.v[i], b->skipped.v[i]) != 0 ||
		    strcmp(a->skipped_at.v[i], b->skipped_at.v[i]) != 0)
			return false;
	return true;
}

/* The one file in dir (NULL when there is not exactly one). */
static char *only_file(const char *dir)
{
	_cleanup_free_ char *cmd = xasprintf("ls -A '%s' 2>/dev/null", dir);
	FILE *f = popen(cmd, "r");
	char line[256], *found = NULL;
	int n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		free(found);
		found = path_join(dir, line);
		n++;
	}
	if (f != NULL)
		pclose(f);
	if (n != 1) {
		free(found);
		return NULL;
	}
	return found;
}

static void test_roundtrip(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy p = {0};
	wtb_filter f = {0}, back = {0};
	wtb_policy_env env;
	unsigned char key[20], other[20];
	_cleanup_free_ char *path = path_join(tmp, "rt.json"), *buf = NULL;
	size_t len;
	int bad = 0;

	write_text(path, POLICY_A);
	policy_env_host(&env);
	if (policy_load_file(&p, path, &err) < 0 || filter_compile(&f, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		ok(false, "the test policy compiles");
		return;
	}
	ok(f.skipped.n == 1, "the unknown name is in the skipped list");
	memset(key, 7, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[19] ^= 1;
	buf = filter_encode(&f, key, sizeof(key), &len);
	ok(filter_decode(&back, buf, len, key, sizeof(key)) == 0 && same_filter(&f, &back),
	   "decode(encode(f)) is f: instructions, flags, actions, arches, rules, skipped names");
	filter_free(&back);
	ok(filter_decode(&back, buf, len, other, sizeof(other)) < 0, "another key is refused");
	/* Every shorter length, one byte more, and every single flipped bit
	 * of the first 64 bytes and the last 64: all refused. */
	for (size_t n = 0; n < len; n++)
		if (filter_decode(&back, buf, n, key, sizeof(key)) == 0) {
			filter_free(&back);
			bad++;
		}
	ok(bad == 0, "a truncated file is refused at every length (%d accepted)", bad);
	{
		_cleanup_free_ char *longer = xmalloc(len + 1);

		memcpy(longer, buf, len);
		longer[len] = '\0';
		ok(filter_decode(&back, longer, len + 1, key, sizeof(key)) < 0,
		   "a byte too many is refused");
	}
	bad = 0;
	for (size_t i = 0; i < len; i++) {
		if (i >= 64 && i + 64 < len && i % 97 != 0)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			if (filter_decode(&back, buf, len, key, sizeof(key)) == 0) {
				filter_free(&back);
				bad++;
			}
			buf[i] ^= (char)(1 << bit);
		}
	}
	ok(bad == 0, "a flipped bit anywhere is refused (%d accepted)", bad);
	/* Two flips in neighbouring 8-byte words (as the checksum reads
	 * them), every pair of bits, at a few places. */
	bad = 0;
	for (size_t w = 8; w + 16 <= len - 8; w += (len / 5) & ~(size_t)7) {
		for (int x = 0; x < 64; x++) {
			for (int y = 0; y < 64; y++) {
				buf[w + x / 8] ^= (char)(1 << (x % 8));
				buf[w + 8 + y / 8] ^= (char)(1 << (y % 8));
				if (filter_decode(&back, buf, len, key, sizeof(key)) == 0) {
					filter_free(&back);
					bad++;
				}
				buf[w + x / 8] ^= (char)(1 << (x % 8));
				buf[w + 8 + y / 8] ^= (char)(1 << (y % 8));
			}
		}
	}
	ok(bad == 0, "two flipped bits in neighbouring words are refused (%d accepted)", bad);
	filter_free(&f);
	policy_free(&p);
}

static void test_cache(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *path = path_join(tmp, "p.json"),
			    *dir = path_join(tmp, "state/filters");
	_cleanup_free_ char *file = NULL;
	wtb_policy p = {0};
	wtb_filter fresh = {0}, f1 = {0}, f2 = {0}, f3 = {0}, fb = {0};
	wtb_policy_env env;
	struct stat st;
	bool hit = true;

	policy_env_host(&env);
	write_text(path, POLICY_A);
	if (policy_load_file(&p, path, &err) < 0 ||
	    filter_compile(&fresh, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		ok(false, "the test policy compiles");
		return;
	}
	ok(filter_compile_cached(&f1, &p, &env, NULL, dir, &hit, &err) == 0 && !hit,
	   "first compile: not from the cache");
	ok(same_filter(&fresh, &f1), "first compile: what filter_compile gives");
	file = only_file(dir);
	ok(file != NULL, "one file in the cache");
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "the cache directory is 0700");
	ok(file != NULL && stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "the cache file is 0600");
	ok(filter_compile_cached(&f2, &p, &env, NULL, dir, &hit, &err) == 0 && hit,
	   "second compile: from the cache");
	ok(same_filter(&fresh, &f2), "from the cache: byte for byte what libseccomp compiled");
	filter_free(&f2);

	/* Another mode of the same file: its own entry. */
	{
		static const wtb_filter_opts notify = {.notify = true};
		wtb_filter n1 = {0}, nfresh = {0};

		ok(filter_compile_cached(&n1, &p, &env, &notify, dir, &hit, &err) == 0 && !hit,
		   "the notify variant is not the plain filter's entry");
		ok(filter_compile(&nfresh, &p, &env, &notify, &err) == 0 &&
		       same_filter(&n1, &nfresh) && !same_filter(&n1, &fresh),
		   "the notify variant is compiled as such, not as the plain filter");
		filter_free(&n1);
		ok(filter_compile_cached(&n1, &p, &env, &notify, dir, &hit, &err) == 0 && hit &&
		       same_filter(&n1, &nfresh),
		   "the notify variant comes from its own entry");
		filter_free(&n1);
		filter_free(&nfresh);
	}

	/* A damaged file: compiled afresh, and replaced. */
	if (file != NULL) {
		int fd = open(file, O_WRONLY);

		if (fd >= 0) {
			if (pwrite(fd, "\xff\xff\xff\xff", 4, 100) != 4)
				diag("cannot damage %s", file);
			close(fd);
		}
		ok(filter_compile_cached(&f2, &p, &env, NULL, dir, &hit, &err) == 0 && !hit &&
		       same_filter(&fresh, &f2),
		   "a damaged file is not used");
		filter_free(&f2);
		ok(filter_compile_cached(&f2, &p, &env, NULL, dir, &hit, &err) == 0 && hit,
		   "and was replaced by a good one");
		filter_free(&f2);
		/* Writable by the group: not trusted. */
		chmod(file, 0660);
		ok(filter_compile_cached(&f2, &p, &env, NULL, dir, &hit, &err) == 0 && !hit,
		   "a file others can write is not used");
		filter_free(&f2);
		ok(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "and is replaced, 0600");
		if (geteuid() == 0) {
			if (chown(file, 65534, 65534) < 0)
				diag("chown: %s", strerror(errno));
			ok(filter_compile_cached(&f2, &p, &env, NULL, dir, &hit, &err) == 0 && !hit,
			   "another user's file is not used");
			filter_free(&f2);
		}
	}

	/* The policy edited in place: the new rules, not the cached ones. */
	write_text(path, POLICY_B);
	policy_free(&p);
	if (policy_load_file(&p, path, &err) < 0 || filter_compile(&fb, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		ok(false, "the edited policy compiles");
		return;
	}
	ok(filter_compile_cached(&f3, &p, &env, NULL, dir, &hit, &err) == 0 && !hit,
	   "an edited policy is compiled again");
	ok(same_filter(&fb, &f3) && !same_filter(&fresh, &f3), "to the edited policy's filter");
	filter_free(&f3);
	ok(filter_compile_cached(&f3, &p, &env, NULL, dir, &hit, &err) == 0 && hit &&
	       same_filter(&fb, &f3),
	   "and cached in turn");
	filter_free(&f3);

	/* Another kernel version is another key. */
	env.kernel[1]++;
	ok(filter_compile_cached(&f3, &p, &env, NULL, dir, &hit, &err) == 0 && !hit,
	   "another kernel version: compiled again");
	filter_free(&f3);
	filter_free(&fb);
	filter_free(&f1);
	filter_free(&fresh);
	policy_free(&p);
}

/* A policy only read (policy_read, as `wtbox run` does): found in the
 * cache, it is never parsed; not found, it is parsed and compiled, and a
 * policy with an error reports the error. */
static void test_read_only(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *path = path_join(tmp, "r.json"), *dir = path_join(tmp, "rstate"),
			    *bad = path_join(tmp, "bad.json");
	wtb_policy p = {0};
	wtb_filter fresh = {0}, f = {0};
	wtb_policy_env env;
	bool hit = true;

	policy_env_host(&env);
	write_text(path, POLICY_A);
	ok(policy_read(&p, path, &err) == 0 && !p.parsed && p.text != NULL && p.nrules == 0,
	   "policy_read reads without parsing");
	ok(filter_compile_cached(&f, &p, &env, NULL, dir, &hit, &err) == 0 && !hit && p.parsed,
	   "not in the cache: parsed and compiled");
	ok(p.text != NULL && p.text_len == strlen(POLICY_A) && strcmp(p.source, path) == 0,
	   "parsing keeps the text and the source");
	ok(filter_compile(&fresh, &p, &env, NULL, &err) == 0 && same_filter(&fresh, &f),
	   "to what filter_compile gives");
	filter_free(&f);
	policy_free(&p);
	ok(policy_read(&p, path, &err) == 0 &&
	       filter_compile_cached(&f, &p, &env, NULL, dir, &hit, &err) == 0 && hit &&
	       !p.parsed && same_filter(&fresh, &f),
	   "in the cache: the same filter, the policy never parsed");
	filter_free(&f);
	policy_free(&p);
	write_text(bad, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}");
	ok(policy_read(&p, bad, &err) == 0 &&
	       filter_compile_cached(&f, &p, &env, NULL, dir, &hit, &err) < 0 && err != NULL,
	   "a bad policy only read fails at the compile");
	has_str(err ? err->msg : "", "SCMP_ACT_NOPE", "naming what is wrong");
	policy_free(&p);
	filter_free(&fresh);
}

static void test_no_cache(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *blocker = path_join(tmp, "blocker");
	_cleanup_free_ char *dir = path_join(blocker, "filters");
	wtb_policy p = {0};
	wtb_filter f = {0};
	wtb_policy_env env;
	bool hit = true;

	policy_env_host(&env);
	/* A file where the directory should be: nothing can be written. */
	write_text(blocker, "x");
	if (policy_parse(&p, POLICY_B, strlen(POLICY_B), "buffer", &err) < 0) {
		diag("%s", err->msg);
		ok(false, "the buffer parses");
		return;
	}
	ok(filter_compile_cached(&f, &p, &env, NULL, dir, &hit, &err) == 0 && !hit &&
	       f.prog.len > 0,
	   "a policy parsed from a buffer is compiled, not cached");
	filter_free(&f);
	policy_free(&p);
	{
		_cleanup_free_ char *path = path_join(tmp, "nc.json");

		write_text(path, POLICY_B);
		if (policy_load_file(&p, path, &err) < 0) {
			diag("%s", err->msg);
			ok(false, "the policy loads");
			return;
		}
	}
	ok(filter_compile_cached(&f, &p, &env, NULL, dir, &hit, &err) == 0 && !hit &&
	       f.prog.len > 0,
	   "an unwritable cache directory: the filter is compiled all the same");
	filter_free(&f);
	policy_free(&p);
}

int main(void)
{
	char tmpl[] = "/tmp/wtbox-filtercache.XXXXXX";

	git_libgit2_init();
	tmp = mkdtemp(tmpl);
	if (tmp == NULL) {
		ok(false, "mkdtemp");
		return done_testing();
	}
	test_roundtrip();
	test_cache();
	test_read_only();
	test_no_cache();
	{
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);

		if (system(cmd) != 0)
			diag("cannot remove %s", tmp);
	}
	git_libgit2_shutdown();
	return done_testing();
}
