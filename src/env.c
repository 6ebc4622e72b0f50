#include "env.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Host variables (besides PATH, which has a default) a command needs to
 * behave as in the user's shell and that carry no credentials. Everything
 * else (SSH_AUTH_SOCK, tokens, cloud credentials) stays outside unless
 * given with --env. */
static const char *const passed[] = {"TERM", "LANG", "TZ"};

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

int env_check_arg(const char *arg, wtb_error **err)
{
	size_t len = strcspn(arg, "=");

	if (!name_ok(arg, len))
		return wtb_error_set(err, 0,
				     "invalid --env '%s': expected NAME or NAME=VALUE, NAME made "
				     "of letters, digits and '_'",
				     arg);
	return 0;
}

/* The value of NAME in `env`, or NULL. */
static const char *lookup(char *const *env, const char *name, size_t len)
{
	for (char *const *e = env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static bool has(const strv *out, const char *name, size_t len)
{
	for (size_t i = 0; i < out->n; i++)
		if (strncmp(out->v[i], name, len) == 0 && out->v[i][len] == '=')
			return true;
	return false;
}

/* Set NAME=VALUE, replacing an earlier one. */
static void set(strv *out, const char *name, size_t len, const char *value)
{
	char *entry = xasprintf("%.*s=%s", (int)len, name, value);

	for (size_t i = 0; i < out->n; i++)
		if (strncmp(out->v[i], name, len) == 0 && out->v[i][len] == '=') {
			free(out->v[i]);
			out->v[i] = entry;
			return;
		}
	strv_push(out, entry);
}

static void setv(strv *out, const char *name, const char *value)
{
	set(out, name, strlen(name), value);
}

char **env_build(const wtb_env_input *in)
{
	strv out = {0};
	const char *path = lookup(in->host, "PATH", 4);

	setv(&out, "PATH", path && path[0] ? path : DEFAULT_PATH);
	for (size_t i = 0; i < ARRAY_SIZE(passed); i++) {
		const char *v = lookup(in->host, passed[i], strlen(passed[i]));

		if (v != NULL)
			setv(&out, passed[i], v);
	}
	/* The first of a name wins, as getenv() has it. */
	for (char *const *e = in->host; e != NULL && *e != NULL; e++)
		if (str_has_prefix(*e, "LC_") && strchr(*e, '=') != NULL &&
		    !has(&out, *e, strcspn(*e, "=")))
			set(&out, *e, strcspn(*e, "="), strchr(*e, '=') + 1);
	setv(&out, "USER", in->user);
	setv(&out, "HOME", in->home);
	setv(&out, "TMPDIR", "/tmp");
	setv(&out, "XDG_CACHE_HOME", in->cache);
	setv(&out, "WTBOX_NAME", in->name);
	setv(&out, "WTBOX_BRANCH", in->branch);
	setv(&out, "WTBOX_WORKTREE", in->worktree);
	if (in->port > 0) {
		char port[16];

		snprintf(port, sizeof(port), "%u", in->port);
		setv(&out, "PORT", port);
		setv(&out, "WTBOX_PORT", port);
	}
	/* --env last: the user's explicit word wins. */
	for (size_t i = 0; in->extra != NULL && i < in->extra->n; i++) {
		const char *arg = in->extra->v[i];
		const char *eq = strchr(arg, '=');

		if (eq != NULL) {
			set(&out, arg, (size_t)(eq - arg), eq + 1);
		} else {
			const char *v = lookup(in->host, arg, strlen(arg));

			if (v != NULL)
				setv(&out, arg, v);
		}
	}
	return out.v;
}
