/* wtbox policy: check, list and show seccomp policies. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "filter.h"
#include "policy.h"
#include "util.h"

static const char policy_usage[] =
    "usage: wtbox policy check NAME|FILE\n"
    "       wtbox policy list\n"
    "       wtbox policy show NAME|FILE\n"
    "\n"
    "Seccomp policies in the Docker/OCI profile format. A NAME is looked up as\n"
    "NAME.json in $WTBOX_POLICY_DIR, then in the policies of the source tree a\n"
    "build was made in, then in the installed policies; anything with a '/' or\n"
    "ending in .json is a FILE.\n"
    "\n"
    "  check   validate the policy and compile it as 'wtbox run --policy' would;\n"
    "          print a summary: default action, rules, architectures (and those\n"
    "          named that cannot run on this machine, left out), system calls\n"
    "          this libseccomp does not know (skipped)\n"
    "  list    the policies found by NAME, with their descriptions; one that\n"
    "          check would refuse (or whose file name is no NAME) is marked\n"
    "          invalid, with the reason\n"
    "  show    print the policy's file\n";

/* What check and list call valid: the policy found, read, parsed and
 * compiled for this machine as `wtbox run --policy` would. */
static int policy_validate(const char *arg, const wtb_policy_env *env, wtb_policy *p, wtb_filter *f,
			   wtb_error **err)
{
	if (policy_open(p, arg, err) < 0 || filter_compile(f, p, env, NULL, err) < 0)
		return -1;
	return 0;
}

static int policy_check(const char *arg)
{
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_filter_ wtb_filter f = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *arches = NULL, *source = NULL;
	wtb_policy_env env;

	policy_env_host(&env);
	if (policy_validate(arg, &env, &p, &f, &err) < 0)
		return wtb_error_report(err);
	arches = filter_arches_text(&f);
	/* The file and its text are anyone's: nothing in them reaches the
	 * terminal as a control character. */
	source = term_escape(p.source);
	printf("policy: %s\n", source);
	if (p.description != NULL) {
		_cleanup_free_ char *text = term_escape(p.description);

		printf("description: %s\n", text);
	}
	printf("default action: %s\n", policy_action_name(p.default_action));
	printf("rules: %zu (%zu apply here)\n", p.nrules, f.nrules);
	printf("architectures: %s\n", arches);
	for (size_t i = 0; i < f.left_out.n; i++)
		printf("%s%s",
		       i ? " " : "architectures not on this machine (left out): ", f.left_out.v[i]);
	if (f.left_out.n > 0)
		putchar('\n');
	printf("bpf instructions: %u\n", (unsigned)f.prog.len);
	printf("skipped: %zu", f.skipped.n);
	for (size_t i = 0; i < f.skipped.n; i++)
		printf("%s%s", i ? ", " : " (", f.skipped.v[i]);
	printf("%s\n", f.skipped.n ? ")" : "");
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.json of every directory; a name found earlier hides a later
 * one, as policy_find() would. A file whose name is not a valid NAME is
 * listed too, as invalid: `--policy NAME` cannot find it. */
static void list_names(const strv *dirs, strv *names)
{
	for (size_t i = 0; i < dirs->n; i++) {
		DIR *d = opendir(dirs->v[i]);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL) {
			_cleanup_free_ char *name = NULL;
			bool seen = false;

			/* Hidden files are an editor's (".#x.json"), not
			 * policies: a NAME never starts with a dot. */
			if (!str_has_suffix(e->d_name, ".json") || e->d_name[0] == '.')
				continue;
			name = xstrdup(e->d_name);
			name[strlen(name) - strlen(".json")] = '\0';
			for (size_t k = 0; k < names->n; k++)
				seen = seen || strcmp(names->v[k], name) == 0;
			if (!seen)
				strv_push(names, steal_ptr(name));
		}
		if (d != NULL)
			closedir(d);
	}
	if (names->n > 0)
		qsort(names->v, names->n, sizeof(*names->v), by_name);
}

/* Why NAME cannot be used by name, with the file it was listed for. */
static int name_invalid(const strv *dirs, const char *name, wtb_error **err)
{
	_cleanup_free_ char *file = xasprintf("%s.json", name);

	if (policy_name_check(name, err) == 0)
		return 0;
	for (size_t i = 0; i < dirs->n; i++) {
		_cleanup_free_ char *path = path_join(dirs->v[i], file);

		if (access(path, F_OK) == 0)
			return wtb_error_wrap(err, "%s", path);
	}
	return -1;
}

/* Valid as check says it: the same test, on the file --policy NAME
 * finds. */
static int policy_list(void)
{
	_cleanup_strvec_ strv dirs = {0}, names = {0};
	wtb_policy_env env;

	policy_env_host(&env);
	filter_env_settle(&env);
	policy_dirs(&dirs);
	list_names(&dirs, &names);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_policy_ wtb_policy p = {0};
		_cleanup_filter_ wtb_filter f = {0};
		_cleanup_error_ wtb_error *err = NULL;
		_cleanup_free_ char *name = term_escape(names.v[i]), *desc = NULL;

		if (name_invalid(&dirs, names.v[i], &err) < 0 ||
		    policy_validate(names.v[i], &env, &p, &f, &err) < 0) {
			_cleanup_free_ char *text = wtb_error_text(err);
			_cleanup_free_ char *shown = term_escape(text);

			/* As check reports it. */
			printf("%-10s (invalid: %s)\n", name, shown);
			continue;
		}
		desc = term_escape(p.description ? p.description : "");
		printf("%-10s %s\n", name, desc);
	}
	return 0;
}

static int policy_show(const char *arg)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	size_t len = 0;

	if (policy_find(arg, &path, &err) < 0 || read_file(path, 1 << 20, &text, &len, &err) < 0)
		return wtb_error_report(err);
	fwrite(text, 1, len, stdout);
	return 0;
}

static int policy_main(int argc, char **argv, const wtb_global *g)
{
	(void)g;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(policy_usage, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("policy", "no subcommand given");
	if (strcmp(argv[1], "list") == 0) {
		if (argc != 2)
			return cmd_usage_error("policy", "'list' takes no argument");
		return policy_list();
	}
	if (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "show") == 0) {
		if (argc != 3)
			return cmd_usage_error("policy", "'%s' takes one NAME or FILE", argv[1]);
		return argv[1][0] == 'c' ? policy_check(argv[2]) : policy_show(argv[2]);
	}
	return cmd_usage_error("policy", "unknown subcommand '%s'", argv[1]);
}

const wtb_command cmd_policy_def = {
    .name = "policy",
    .summary = "check, list and show seccomp policies",
    .usage = policy_usage,
    .run = policy_main,
};
