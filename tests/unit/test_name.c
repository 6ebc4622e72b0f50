/* Agent names: validation rules and generated names. */
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "util.h"

#include "tap.h"

static void accepts(const char *name)
{
	_cleanup_error_ wtb_error *err = NULL;
	int r = name_validate(name, &err);

	ok(r == 0 && err == NULL, "accepts '%s'%s%s", name, err ? ": " : "", err ? err->msg : "");
}

/* Rejected, and the message names the agent name as the user typed it. */
static void rejects(const char *name, const char *why)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *want = xasprintf("invalid agent name '%s'", name);
	int r = name_validate(name, &err);

	ok(r < 0 && err != NULL, "rejects '%s' (%s)", name, why);
	has_str(err ? err->msg : NULL, want, "error for '%s' names it", name);
}

static void test_validate(void)
{
	char max[WTB_NAME_MAX + 2];

	accepts("a");
	accepts("Z");
	accepts("7");
	accepts("_x");
	accepts("fix-login_bug.2");
	accepts("a.b.c");
	accepts("x.lockfile");
	accepts("lock");

	memset(max, 'a', WTB_NAME_MAX);
	max[WTB_NAME_MAX] = '\0';
	is_int((long long)strlen(max), 64, "WTB_NAME_MAX is 64");
	accepts(max);
	max[WTB_NAME_MAX] = 'a';
	max[WTB_NAME_MAX + 1] = '\0';
	rejects(max, "65 characters");

	rejects("", "empty");
	rejects("a/b", "slash");
	rejects("..", "dot-dot");
	rejects(".", "a single dot");
	rejects("a..b", "dot-dot inside");
	rejects("with space", "space");
	rejects("-x", "leading dash");
	rejects(".x", "leading dot");
	rejects("x.lock", "ends in .lock");
	rejects("x.", "ends in a dot");
	rejects("\xc3\xa9", "non-ASCII e-acute");
	rejects("caf\xc3\xa9", "non-ASCII at the end");
	rejects("a:b", "colon");
	rejects("a~1", "tilde");
	rejects("a\tb", "tab");
	rejects("a*", "glob star");
}

static void test_reason(void)
{
	_cleanup_error_ wtb_error *err = NULL;

	name_validate("a/b", &err);
	has_str(err ? err->msg : NULL, "'a/b': ", "the reason follows the quoted name");
	ok(err != NULL && err->errnum == 0, "a validation error carries no errno");
	ok(err != NULL && err->status == WTB_EXIT_ERROR, "a validation error exits 125");
}

static void test_generate(void)
{
	_cleanup_free_ char *first = name_generate(42, 0);
	_cleanup_free_ char *again = name_generate(42, 0);
	_cleanup_free_ char *second = name_generate(42, 1);
	_cleanup_free_ char *tenth = name_generate(42, 9);
	_cleanup_strvec_ strv distinct = {0};
	bool all_valid = true, all_shaped = true;
	regex_t rx;

	like(first, "^[a-z]+-[a-z]+$", "attempt 0 is adjective-noun");
	is_str(again, first, "the same seed gives the same name");
	like(second, "^[a-z]+-[a-z]+-2$", "attempt 1 adds the suffix -2");
	like(tenth, "^[a-z]+-[a-z]+-10$", "attempt 9 adds the suffix -10");
	ok(second != NULL && first != NULL && str_has_prefix(second, first),
	   "a suffixed name extends the unsuffixed one ('%s', '%s')", first, second);

	if (regcomp(&rx, "^[a-z]+-[a-z]+(-[0-9]+)?$", REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	for (uint64_t seed = 0; seed < 200; seed++) {
		for (unsigned attempt = 0; attempt < 3; attempt++) {
			_cleanup_free_ char *n = name_generate(seed * 0x10001 + 7, attempt);
			_cleanup_error_ wtb_error *err = NULL;

			if (name_validate(n, &err) < 0) {
				if (all_valid)
					diag("generated name rejected: %s", err->msg);
				all_valid = false;
			}
			if (regexec(&rx, n, 0, NULL, 0) != 0) {
				if (all_shaped)
					diag("badly shaped generated name: '%s'", n);
				all_shaped = false;
			}
			if (attempt != 0)
				continue;
			bool seen = false;
			for (size_t i = 0; i < distinct.n && !seen; i++)
				seen = strcmp(distinct.v[i], n) == 0;
			if (!seen)
				strv_push(&distinct, steal_ptr(n));
		}
	}
	regfree(&rx);
	ok(all_valid, "every generated name passes name_validate");
	ok(all_shaped, "every generated name has the adjective-noun[-N] shape");
	ok(distinct.n >= 50, "200 seeds give many distinct names (%zu)", distinct.n);

	_cleanup_free_ char *s0 = name_generate(0, 0);
	_cleanup_free_ char *s1 = name_generate(1, 0);
	_cleanup_free_ char *s2 = name_generate(2, 0);
	ok(strcmp(s0, s1) != 0 || strcmp(s1, s2) != 0,
	   "consecutive seeds do not all give the same name ('%s', '%s', '%s')", s0, s1, s2);
}

int main(void)
{
	test_validate();
	test_reason();
	test_generate();
	return done_testing();
}
