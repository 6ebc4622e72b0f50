/* The sandbox's environment: --env argument checks, and env_build's
 * allowlist built from a synthetic host environment. */
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "error.h"
#include "util.h"

#include "tap.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define WORKTREE     "/home/u/.local/share/wtbox/r-0123456789ab/a"

/* ------------------------------------------------------------ helpers */

static size_t env_count(char **env)
{
	size_t n = 0;

	for (char **e = env; e != NULL && *e != NULL; e++)
		n++;
	return n;
}

/* The value of `name` in `env`, or NULL. */
static const char *env_get(char **env, const char *name)
{
	size_t len = strlen(name);

	for (char **e = env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static size_t env_occurrences(char **env, const char *name)
{
	size_t len = strlen(name), n = 0;

	for (char **e = env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			n++;
	return n;
}

static void env_dump(char **env)
{
	for (char **e = env; e != NULL && *e != NULL; e++)
		diag("  %s", *e);
}

/* What every result must be: a NULL-terminated array of NAME=VALUE with a
 * non-empty NAME, each NAME once. */
static void env_shape(char **env, const char *what)
{
	bool has_eq = true, unique = true;

	if (!ok(env != NULL, "%s: env_build returns an array", what))
		return;
	for (size_t i = 0; env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');

		if (eq == NULL || eq == env[i]) {
			diag("entry without NAME=: '%s'", env[i]);
			has_eq = false;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strncmp(env[j], env[i], (size_t)(eq - env[i]) + 1) == 0) {
				diag("'%s' repeats '%s'", env[i], env[j]);
				unique = false;
			}
	}
	ok(has_eq, "%s: every entry is NAME=VALUE", what);
	ok(unique, "%s: no name appears twice", what);
}

/* `env` holds exactly the entries of `want` (NULL-terminated), in any
 * order. */
static void env_exactly(char **env, const char *const *want, const char *what)
{
	size_t n = 0;
	bool all = true;

	for (; want[n] != NULL; n++) {
		bool found = false;

		for (char **e = env; e != NULL && *e != NULL; e++)
			found = found || strcmp(*e, want[n]) == 0;
		if (!found) {
			diag("missing: '%s'", want[n]);
			all = false;
		}
	}
	if (!ok(all && env_count(env) == n, "%s: exactly the %zu expected entries (got %zu)", what,
		n, env_count(env)))
		env_dump(env);
}

static void env_absent(char **env, const char *name, const char *what)
{
	ok(env_get(env, name) == NULL, "%s: %s is not passed", what, name);
}

/* The fixed part of the input: only `host` and `extra` vary. The host
 * arrays here are string literals; env_build only reads them, as it only
 * reads environ. */
static char **build_port(const char *const *host, const strv *extra, unsigned port)
{
	wtb_env_input in = {
	    .host = (char *const *)host,
	    .user = "u",
	    .home = "/home/u",
	    .cache = "/home/u/.cache",
	    .name = "a",
	    .branch = "a",
	    .worktree = WORKTREE,
	    .port = port,
	    .extra = extra,
	};

	return env_build(&in);
}

static char **build(const char *const *host, const strv *extra)
{
	return build_port(host, extra, 0);
}

/* A strv of copies of the NULL-terminated `args`. */
static void strv_of(strv *out, const char *const *args)
{
	for (size_t i = 0; args[i] != NULL; i++)
		strv_push(out, xstrdup(args[i]));
}

/* A host environment full of things that must stay outside. */
static const char *const full_host[] = {
    "PATH=/home/u/bin:/usr/bin:/bin",
    "TERM=xterm-256color",
    "LANG=en_US.UTF-8",
    "TZ=Europe/Paris",
    "LC_ALL=C.UTF-8",
    "LC_TIME=en_GB.UTF-8",
    "HOME=/host/home",
    "USER=hostuser",
    "LOGNAME=hostuser",
    "SHELL=/bin/zsh",
    "TMPDIR=/var/host-tmp",
    "XDG_CACHE_HOME=/host/cache",
    "XDG_RUNTIME_DIR=/run/user/1000",
    "XDG_CONFIG_HOME=/host/config",
    "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus",
    "DISPLAY=:0",
    "WAYLAND_DISPLAY=wayland-0",
    "SSH_AUTH_SOCK=/run/user/1000/ssh-agent.sock",
    "SSH_AGENT_PID=1234",
    "GPG_AGENT_INFO=/run/user/1000/gnupg/S.gpg-agent",
    "GITHUB_TOKEN=ghp_secret",
    "GH_TOKEN=ghp_secret2",
    "AWS_ACCESS_KEY_ID=AKIA",
    "AWS_SECRET_ACCESS_KEY=secret",
    "AWS_SESSION_TOKEN=secret",
    "ANTHROPIC_API_KEY=sk-secret",
    "OPENAI_API_KEY=sk-secret",
    "GIT_DIR=/home/u/src/r/.git",
    "GIT_WORK_TREE=/home/u/src/r",
    "GIT_CONFIG_GLOBAL=/host/gitconfig",
    "LD_PRELOAD=/evil.so",
    "LD_LIBRARY_PATH=/evil",
    "WTBOX_NAME=host-name",
    "WTBOX_BRANCH=host-branch",
    "WTBOX_WORKTREE=/host/worktree",
    "EDITOR=vim",
    "PATHX=/not/the/path",
    "TERM_PROGRAM=iTerm",
    "XLC_ALL=not-lc",
    "LC_BROKEN",
    "=nameless",
    NULL,
};

/* ------------------------------------------------------ env_check_arg */

static void arg_ok(const char *arg)
{
	_cleanup_error_ wtb_error *err = NULL;

	ok(env_check_arg(arg, &err) == 0 && err == NULL, "--env '%s' is accepted", arg);
}

static void arg_bad(const char *arg)
{
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *want = xasprintf("invalid --env '%s'", arg);

	ok(env_check_arg(arg, &err) < 0, "--env '%s' is rejected", arg);
	has_str(err ? err->msg : NULL, want, "--env '%s': the message names the argument", arg);
}

static void test_check_arg(void)
{
	arg_ok("A");
	arg_ok("PATH");
	arg_ok("_");
	arg_ok("_X1");
	arg_ok("lower_case");
	arg_ok("A1");
	arg_ok("FOO=bar");
	arg_ok("FOO=");
	arg_ok("FOO=a=b");
	arg_ok("FOO=with space");
	arg_ok("FOO=1-2");
	arg_ok("FOO==");

	arg_bad("");
	arg_bad("=");
	arg_bad("=x");
	arg_bad("1A");
	arg_bad("1A=x");
	arg_bad("9");
	arg_bad("A-B");
	arg_bad("A-B=1");
	arg_bad("A B=1");
	arg_bad("A B");
	arg_bad("A.B");
	arg_bad(" A");
	arg_bad("A\tB");
	arg_bad("CAF\xc3\x89");
}

/* ---------------------------------------------------------- env_build */

static void test_allowlist(void)
{
	static const char *const want[] = {
	    "PATH=/home/u/bin:/usr/bin:/bin",
	    "TERM=xterm-256color",
	    "LANG=en_US.UTF-8",
	    "TZ=Europe/Paris",
	    "LC_ALL=C.UTF-8",
	    "LC_TIME=en_GB.UTF-8",
	    "USER=u",
	    "HOME=/home/u",
	    "TMPDIR=/tmp",
	    "XDG_CACHE_HOME=/home/u/.cache",
	    "WTBOX_NAME=a",
	    "WTBOX_BRANCH=a",
	    "WTBOX_WORKTREE=" WORKTREE,
	    NULL,
	};
	static const char *const kept_out[] = {
	    "SSH_AUTH_SOCK",
	    "SSH_AGENT_PID",
	    "GPG_AGENT_INFO",
	    "GITHUB_TOKEN",
	    "GH_TOKEN",
	    "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY",
	    "AWS_SESSION_TOKEN",
	    "ANTHROPIC_API_KEY",
	    "OPENAI_API_KEY",
	    "GIT_DIR",
	    "GIT_WORK_TREE",
	    "GIT_CONFIG_GLOBAL",
	    "LD_PRELOAD",
	    "LD_LIBRARY_PATH",
	    "XDG_RUNTIME_DIR",
	    "XDG_CONFIG_HOME",
	    "DBUS_SESSION_BUS_ADDRESS",
	    "DISPLAY",
	    "WAYLAND_DISPLAY",
	    "LOGNAME",
	    "SHELL",
	    "EDITOR",
	    "PATHX",
	    "TERM_PROGRAM",
	    "XLC_ALL",
	    "LC_BROKEN",
	};
	_cleanup_strv_ char **env = build(full_host, NULL);

	env_shape(env, "a full host");
	env_exactly(env, want, "a full host");
	for (size_t i = 0; i < ARRAY_SIZE(kept_out); i++)
		env_absent(env, kept_out[i], "a full host");
	ok(env == NULL || env[env_count(env)] == NULL, "the array ends with NULL");
	/* The sandbox's own values, not the host's. */
	is_str(env_get(env, "HOME"), "/home/u", "HOME is the sandbox's, not the host's");
	is_str(env_get(env, "USER"), "u", "USER is the sandbox's");
	is_str(env_get(env, "TMPDIR"), "/tmp", "TMPDIR is /tmp, not the host's");
	is_str(env_get(env, "WTBOX_NAME"), "a", "WTBOX_NAME is the input's, not the host's");
	is_str(env_get(env, "WTBOX_WORKTREE"), WORKTREE, "WTBOX_WORKTREE is the input's");
}

/* Only what is set on the host is passed; the sandbox's own variables are
 * always there. */
static void test_minimal_host(void)
{
	static const char *const host[] = {"HOME=/host/home", "SSH_AUTH_SOCK=/s", NULL};
	static const char *const empty[] = {NULL};
	static const char *const want[] = {
	    "PATH=" DEFAULT_PATH,
	    "USER=u",
	    "HOME=/home/u",
	    "TMPDIR=/tmp",
	    "XDG_CACHE_HOME=/home/u/.cache",
	    "WTBOX_NAME=a",
	    "WTBOX_BRANCH=a",
	    "WTBOX_WORKTREE=" WORKTREE,
	    NULL,
	};
	_cleanup_strv_ char **env = build(host, NULL);
	_cleanup_strv_ char **none = build(empty, NULL);
	_cleanup_strv_ char **null_host = build(NULL, NULL);

	env_shape(env, "no PATH on the host");
	env_exactly(env, want, "no PATH on the host");
	env_absent(env, "TERM", "no TERM on the host");
	env_absent(env, "LANG", "no LANG on the host");
	env_absent(env, "TZ", "no TZ on the host");
	env_shape(none, "an empty host environment");
	env_exactly(none, want, "an empty host environment");
	env_shape(null_host, "a NULL host environment");
	env_exactly(null_host, want, "a NULL host environment");
}

/* The agent's port, when it has one, as PORT and WTBOX_PORT; --env can
 * replace PORT (a server that must listen elsewhere). */
static void test_port(void)
{
	static const char *const host[] = {"PORT=1", "WTBOX_PORT=2", NULL};
	_cleanup_strv_ char **env = build_port(host, NULL, 24117);
	_cleanup_strv_ char **noport = build(host, NULL);
	strv extra = {0};

	is_str(env_get(env, "PORT"), "24117", "PORT is the agent's port, not the host's");
	is_str(env_get(env, "WTBOX_PORT"), "24117", "WTBOX_PORT too");
	is_int((long long)env_occurrences(env, "PORT"), 1, "PORT appears once");
	env_absent(noport, "PORT", "no port: no PORT, not even the host's");
	env_absent(noport, "WTBOX_PORT", "no port: no WTBOX_PORT");
	strv_push(&extra, xstrdup("PORT=8080"));
	{
		_cleanup_strv_ char **mine = build_port(host, &extra, 24117);

		is_str(env_get(mine, "PORT"), "8080", "--env PORT=8080 replaces it");
		is_str(env_get(mine, "WTBOX_PORT"), "24117", "WTBOX_PORT stays the agent's");
	}
	strv_clear(&extra);
}

static void test_path_default(void)
{
	static const char *const empty_path[] = {"PATH=", "TERM=dumb", NULL};
	static const char *const odd_path[] = {"PATH=/only", NULL};
	_cleanup_strv_ char **env = build(empty_path, NULL);
	_cleanup_strv_ char **odd = build(odd_path, NULL);

	is_str(env_get(env, "PATH"), DEFAULT_PATH, "an empty host PATH gives the default");
	is_int((long long)env_occurrences(env, "PATH"), 1, "PATH appears once");
	is_str(env_get(env, "TERM"), "dumb", "TERM is passed next to an empty PATH");
	is_str(env_get(odd, "PATH"), "/only", "the host's PATH is passed as it is");
}

/* Set-but-empty values are still set on the host, and passed. */
static void test_empty_values(void)
{
	static const char *const host[] = {"TERM=", "LC_ALL=", "TZ=", NULL};
	_cleanup_strv_ char **env = build(host, NULL);

	env_shape(env, "empty host values");
	is_str(env_get(env, "TERM"), "", "an empty TERM is passed empty");
	is_str(env_get(env, "LC_ALL"), "", "an empty LC_ALL is passed empty");
	is_str(env_get(env, "TZ"), "", "an empty TZ is passed empty");
}

static void test_extra(void)
{
	static const char *const args[] = {
	    "EDITOR",	       /* copied from the host */
	    "NOT_ON_HOST",     /* unset on the host: nothing */
	    "PATH=/x",	       /* overrides an allowlisted one */
	    "HOME=/h",	       /* overrides one of the sandbox's own */
	    "FOO=bar",	       /* new */
	    "TWICE=1",	       /* set twice: the last wins */
	    "TWICE=2",	       /*  */
	    "EMPTY=",	       /* an empty value is a value */
	    "EQ=a=b",	       /* the value runs to the end */
	    "SSH_AUTH_SOCK",   /* the user's explicit word passes a secret */
	    "LC_ALL=POSIX",    /* overrides the host's LC_ALL */
	    "TERM",	       /* copies what is already there: once */
	    "LC_BROKEN",       /* a host entry without '=' is not a value */
	    "XDG_RUNTIME_DIR", /* copied */
	    "WTBOX_NAME=mine", /* even the sandbox's own can be replaced */
	    "PATHX=/y",	       /* a name that starts with PATH is not PATH */
	    NULL,
	};
	_cleanup_strvec_ strv extra = {0};
	_cleanup_strv_ char **env = NULL;

	strv_of(&extra, args);
	env = build(full_host, &extra);
	env_shape(env, "with --env");
	is_str(env_get(env, "EDITOR"), "vim", "--env EDITOR copies the host's value");
	env_absent(env, "NOT_ON_HOST", "--env NOT_ON_HOST, unset on the host");
	is_str(env_get(env, "PATH"), "/x", "--env PATH=/x replaces PATH");
	is_int((long long)env_occurrences(env, "PATH"), 1, "--env PATH=/x: PATH appears once");
	is_str(env_get(env, "HOME"), "/h", "--env HOME=/h replaces HOME");
	is_int((long long)env_occurrences(env, "HOME"), 1, "--env HOME=/h: HOME appears once");
	is_str(env_get(env, "FOO"), "bar", "--env FOO=bar sets FOO");
	is_str(env_get(env, "TWICE"), "2", "--env given twice: the last one wins");
	is_int((long long)env_occurrences(env, "TWICE"), 1, "--env given twice: one entry");
	is_str(env_get(env, "EMPTY"), "", "--env EMPTY= sets an empty value");
	is_str(env_get(env, "EQ"), "a=b", "--env EQ=a=b: the value keeps its '='");
	is_str(env_get(env, "SSH_AUTH_SOCK"), "/run/user/1000/ssh-agent.sock",
	       "--env SSH_AUTH_SOCK passes it on request");
	is_str(env_get(env, "LC_ALL"), "POSIX", "--env LC_ALL=POSIX replaces the host's");
	is_int((long long)env_occurrences(env, "LC_ALL"), 1, "--env LC_ALL=POSIX: one entry");
	is_str(env_get(env, "TERM"), "xterm-256color", "--env TERM keeps the host's TERM");
	is_int((long long)env_occurrences(env, "TERM"), 1, "--env TERM: TERM appears once");
	env_absent(env, "LC_BROKEN", "--env LC_BROKEN, an entry without '=' on the host");
	is_str(env_get(env, "XDG_RUNTIME_DIR"), "/run/user/1000", "--env XDG_RUNTIME_DIR copies");
	is_str(env_get(env, "WTBOX_NAME"), "mine", "--env WTBOX_NAME=mine replaces it");
	is_str(env_get(env, "PATHX"), "/y", "--env PATHX=/y sets PATHX");
	is_str(env_get(env, "PATH"), "/x", "and leaves PATH alone");
	/* What was not asked for still stays outside. */
	env_absent(env, "GITHUB_TOKEN", "with --env");
	env_absent(env, "LD_PRELOAD", "with --env");
	env_absent(env, "GIT_DIR", "with --env");
	is_int((long long)env_count(env), 13 + 8, "with --env: 13 allowlisted + 8 new entries");
}

/* --env NAME for a name that is allowlisted but unset on the host adds
 * nothing, and a name-only PATH keeps the default. */
static void test_extra_unset(void)
{
	static const char *const args[] = {"TZ", "PATH", "LC_CTYPE", NULL};
	static const char *const host[] = {"LANG=C", NULL};
	_cleanup_strvec_ strv extra = {0};
	_cleanup_strv_ char **env = NULL;

	strv_of(&extra, args);
	env = build(host, &extra);
	env_shape(env, "--env of unset names");
	env_absent(env, "TZ", "--env TZ, unset on the host");
	env_absent(env, "LC_CTYPE", "--env LC_CTYPE, unset on the host");
	is_str(env_get(env, "PATH"), DEFAULT_PATH, "--env PATH, unset on the host: the default");
	is_int((long long)env_occurrences(env, "PATH"), 1, "PATH appears once");
	is_int((long long)env_count(env), 9, "8 of the sandbox's own and LANG");
}

/* An empty --env list is no --env at all. */
static void test_extra_empty(void)
{
	strv extra = {0};
	_cleanup_strv_ char **with = build(full_host, &extra);
	_cleanup_strv_ char **without = build(full_host, NULL);
	bool same = env_count(with) == env_count(without);

	for (size_t i = 0; same && with != NULL && with[i] != NULL; i++)
		same = without != NULL && strcmp(with[i], without[i]) == 0;
	ok(same, "an empty --env list gives the same environment as none");
}

/* The result owns its strings: changing or freeing the input afterwards
 * leaves it as it was. */
static void test_ownership(void)
{
	char path[] = "PATH=/mutable";
	char lc[] = "LC_ALL=C";
	const char *host[] = {path, lc, NULL};
	_cleanup_strvec_ strv extra = {0};
	_cleanup_strv_ char **env = NULL;

	strv_push(&extra, xstrdup("FOO=bar"));
	env = build(host, &extra);
	memset(path + 5, 'X', strlen(path + 5));
	memset(lc + 7, 'X', strlen(lc + 7));
	strv_clear(&extra);
	is_str(env_get(env, "PATH"), "/mutable", "PATH is a copy of the host's");
	is_str(env_get(env, "LC_ALL"), "C", "LC_ALL is a copy of the host's");
	is_str(env_get(env, "FOO"), "bar", "an --env value is a copy");
	strv_freep(&env);
	ok(env == NULL, "strv_freep clears the pointer");
}

/* A host environment may hold a name twice (execve does not check); the
 * result must still hold it once. */
static void test_duplicate_host_entries(void)
{
	static const char *const host[] = {"PATH=/first",   "PATH=/second", "LC_ALL=first",
					   "LC_ALL=second", "EDITOR=first", "EDITOR=second",
					   "TERM=first",    "TERM=second",  NULL};
	static const char *const args[] = {"EDITOR", NULL};
	_cleanup_strvec_ strv extra = {0};
	_cleanup_strv_ char **env = NULL;

	strv_of(&extra, args);
	env = build(host, &extra);
	env_shape(env, "a host with repeated names");
	is_str(env_get(env, "PATH"), "/first", "a repeated PATH: the first, as getenv sees it");
	is_str(env_get(env, "TERM"), "first", "a repeated TERM: the first, as getenv sees it");
	is_str(env_get(env, "EDITOR"), "first", "--env of a repeated name: the first");
	is_str(env_get(env, "LC_ALL"), "first", "a repeated LC_ALL: the first wins, as for PATH");
}

int main(void)
{
	test_check_arg();
	test_allowlist();
	test_minimal_host();
	test_path_default();
	test_port();
	test_empty_values();
	test_extra();
	test_extra_unset();
	test_extra_empty();
	test_ownership();
	test_duplicate_host_entries();
	return done_testing();
}
