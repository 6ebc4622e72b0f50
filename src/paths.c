#include "paths.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "util.h"

static char *xdg_dir(const char *var, const char *home, const char *fallback)
{
	const char *v = getenv(var);

	if (v != NULL && v[0] == '/')
		return path_join(v, "wtbox");
	return xasprintf("%s/%s/wtbox", home, fallback);
}

int dirs_from_env(wtb_dirs *out, wtb_error **err)
{
	const char *home = getenv("HOME");

	if (home == NULL || home[0] != '/')
		return wtb_error_set(err, 0, "cannot find the state directory: HOME is not set");
	out->data = xdg_dir("XDG_DATA_HOME", home, ".local/share");
	out->state = xdg_dir("XDG_STATE_HOME", home, ".local/state");
	out->config = xdg_dir("XDG_CONFIG_HOME", home, ".config");
	return 0;
}

void dirs_free(wtb_dirs *d)
{
	free(d->data);
	free(d->state);
	free(d->config);
	memset(d, 0, sizeof(*d));
}

char *repo_id_make(const char *workdir, const char *commondir)
{
	_cleanup_free_ char *base = NULL;
	const char *end, *start;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];

	/* basename of the workdir, without trailing slashes */
	end = workdir + strlen(workdir);
	while (end > workdir && end[-1] == '/')
		end--;
	start = end;
	while (start > workdir && start[-1] != '/')
		start--;
	base = strndup(start, (size_t)(end - start));
	if (base == NULL)
		die_oom();
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		free(base);
		base = xstrdup("repo");
	}
	/* ".dotfiles" -> "_dotfiles": the id stays readable without making
	 * the directory a hidden one. */
	if (base[0] == '.')
		base[0] = '_';
	for (char *c = base; *c != '\0'; c++) {
		int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			 (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
		if (!ok)
			*c = '_';
	}
	if (strlen(base) > 32)
		base[32] = '\0';
	/* libgit2's hashing is already linked in: no second hash library. */
	git_odb_hash(&oid, commondir, strlen(commondir), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &oid);
	hex[12] = '\0';
	return xasprintf("%s-%s", base, hex);
}

char *repo_lock_path(const wtb_dirs *d, const char *repo_id)
{
	_cleanup_free_ char *dir = path_join(d->state, repo_id);

	return path_join(dir, ".lock");
}

void agent_paths_init(wtb_agent_paths *p, const wtb_dirs *d, const char *repo_id, const char *name)
{
	p->repo_data = path_join(d->data, repo_id);
	p->repo_state = path_join(d->state, repo_id);
	p->worktree = path_join(p->repo_data, name);
	p->state = path_join(p->repo_state, name);
	p->record = path_join(p->state, "record.json");
	p->log = path_join(p->state, "log");
	p->nested = path_join(p->state, "nested");
	p->trash = path_join(d->data, "trash");
	p->state_trash = path_join(d->state, "trash");
}

void agent_paths_free(wtb_agent_paths *p)
{
	free(p->repo_data);
	free(p->repo_state);
	free(p->worktree);
	free(p->state);
	free(p->record);
	free(p->log);
	free(p->nested);
	free(p->trash);
	free(p->state_trash);
	memset(p, 0, sizeof(*p));
}
