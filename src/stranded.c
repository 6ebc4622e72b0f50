/* Agents whose repository is gone (stranded.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fault.h"
#include "name.h"
#include "nsenter.h"
#include "registry.h"
#include "stranded.h"
#include "trash.h"
#include "util.h"

#define STRANDED_LOCK_TIMEOUT_MS 60000

bool record_repo_gone(const wtb_record *r)
{
	struct stat st;

	return r->repo != NULL && stat(r->repo, &st) < 0 && (errno == ENOENT || errno == ENOTDIR);
}

/* The path "/" + parts[0..k). */
static char *join_parts(const strv *parts, size_t k)
{
	char *out = xstrdup("/");

	for (size_t i = 0; i < k; i++) {
		char *next = path_join(out, parts->v[i]);

		free(out);
		out = next;
	}
	return out;
}

/* `dir` as records keep a working directory: absolute, links resolved.
 * A directory that is gone is resolved as far as its path still exists
 * (a link in it, "..") and taken as written from there on. */
static char *absolute_dir(const char *dir)
{
	_cleanup_strvec_ strv parts = {0};
	_cleanup_free_ char *abs = NULL;
	char cwd[PATH_MAX], *save = NULL, *real = realpath(dir, NULL);

	if (real != NULL)
		return real;
	if (dir[0] == '/')
		abs = xstrdup(dir);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		abs = path_join(cwd, dir);
	else
		return NULL;
	for (char *c = strtok_r(abs, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0 && parts.n > 0) {
			free(parts.v[--parts.n]);
			parts.v[parts.n] = NULL;
		} else if (strcmp(c, ".") != 0 && strcmp(c, "..") != 0) {
			strv_push(&parts, xstrdup(c));
		}
	}
	for (size_t k = parts.n;; k--) {
		_cleanup_free_ char *prefix = join_parts(&parts, k);

		real = realpath(prefix, NULL);
		if (real != NULL) {
			for (size_t i = k; i < parts.n; i++) {
				char *next = path_join(real, parts.v[i]);

				free(real);
				real = next;
			}
			return real;
		}
		if (k == 0)
			return NULL;
	}
}

/* A repository id as paths.c makes them: it becomes a path component. */
static bool id_plain(const char *id)
{
	if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > 64)
		return false;
	for (const char *c = id; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			return false;
	return true;
}

char *stranded_find(const wtb_dirs *d, const char *dir, const char *name, char **workdir)
{
	__attribute__((cleanup(registry_free))) wtb_registry reg = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *abs = absolute_dir(dir);

	if (abs == NULL || registry_read(&reg, d, NULL, &err) < 0)
		return NULL;
	for (size_t i = 0; i < reg.n; i++) {
		const wtb_record *r = &reg.v[i];

		if (strcmp(r->name, name) == 0 && r->workdir != NULL &&
		    strcmp(r->workdir, abs) == 0 && id_plain(r->repo_id) && record_repo_gone(r)) {
			*workdir = steal_ptr(abs);
			return xstrdup(r->repo_id);
		}
	}
	return NULL;
}

void stranded_say_moved(wtb_repo *r, const wtb_dirs *d)
{
	_cleanup_free_ char *dir = path_join(r->commondir, "worktrees");
	_cleanup_dir_ DIR *dp = opendir(dir);
	_cleanup_free_ char *old = NULL;
	struct dirent *e;
	size_t n = 0;

	while (dp != NULL && (e = readdir(dp)) != NULL) {
		__attribute__((cleanup(record_free))) wtb_record rec = {0};
		_cleanup_error_ wtb_error *err = NULL;
		_cleanup_free_ char *at = NULL, *id = NULL, *record = NULL;
		const char *name = e->d_name + strlen("wtbox-");

		if (!str_has_prefix(e->d_name, "wtbox-") || name_validate(name, &err) < 0 ||
		    (at = worktree_path_of(r, e->d_name)) == NULL ||
		    !worktree_path_is_wtbox(at, name, &id) || strcmp(id, r->id) == 0 ||
		    !id_plain(id))
			continue;
		/* Where this user's wtbox put it, or not one of these agents. */
		record = xasprintf("%s/%s/%s", d->data, id, name);
		if (strcmp(record, at) != 0)
			continue;
		free(record);
		record = xasprintf("%s/%s/%s/record.json", d->state, id, name);
		if (record_load(record, &rec, &err) < 0 || rec.worktree == NULL ||
		    strcmp(rec.worktree, at) != 0 || !record_repo_gone(&rec))
			continue;
		if (old == NULL)
			old = term_escape(rec.workdir);
		n++;
	}
	if (n > 0)
		fprintf(stderr,
			"wtbox: %zu agent%s of this repository %s listed under the path it had, "
			"'%s' ('wtbox ls --all'): move the repository back to go on with %s, or "
			"remove one with 'wtbox -C %s rm --force NAME'\n",
			n, n == 1 ? "" : "s", n == 1 ? "is" : "are", old, n == 1 ? "it" : "them",
			old);
}

/* Under the lock, with the record loaded: move the worktree, then the
 * state (record and all), to a new trash entry. The record says
 * "removing" first: killed half-way, the next rm finishes the removal. */
static int move_to_trash(const wtb_dirs *d, const wtb_agent_paths *p, wtb_record *rec,
			 wtb_error **err)
{
	_cleanup_free_ char *entry = NULL, *state_dest = NULL, *wt_dest = NULL, *shown = NULL;
	__attribute__((cleanup(config_free))) wtb_config cfg = {0};
	struct stat st;
	bool moved = false;

	free(rec->boot_id);
	rec->boot_id = boot_id();
	rec->pid = getpid();
	rec->pid_start = proc_start_time(rec->pid);
	rec->state = WTB_STATE_REMOVING;
	rec->updated = (int64_t)time(NULL);
	if (record_save(p->record, rec, err) < 0 ||
	    trash_new_entry(p->trash, rec->repo_id, rec->name, &entry, err) < 0)
		return -1;
	if (lstat(p->worktree, &st) == 0) {
		wt_dest = path_join(entry, "worktree");
		/* A rename, as for any removal: the trash keeps it. */
		if (rename(p->worktree, wt_dest) < 0)
			return wtb_error_errno(err, "cannot move worktree '%s' to the trash '%s'",
					       p->worktree, wt_dest);
		moved = true;
	}
	if (WTB_FAULT("rm-stranded-worktree", err) < 0)
		return -1;
	/* A token --env passed to a run killed with its wtbox need not wait
	 * a day in the trash. */
	agent_run_files_drop(p->state);
	if (trash_move(p->state, entry, "state", p->state_trash, &state_dest, err) < 0)
		return -1;
	shown = term_escape(rec->workdir);
	printf("wtbox: removed agent '%s' of '%s', a repository that is gone\n", rec->name, shown);
	if (moved)
		printf("  worktree '%s' moved to the trash '%s'\n", p->worktree, wt_dest);
	printf("  state '%s' moved to the trash '%s'\n", p->state, state_dest);
	/* Commits made after the last import (a run killed, or stopped
	 * without its repository) are only in the agent's git directory. */
	printf("  branch %s not touched: it stays in the repository; commits made since the "
	       "agent's last import are only in '%s/git'\n",
	       str_has_prefix(rec->branch, "refs/heads/") ? rec->branch + strlen("refs/heads/")
							  : rec->branch,
	       state_dest);
	printf("  if that was moved: 'git worktree prune' there forgets this worktree ('git "
	       "worktree unlock %s' first if git lists it as locked)\n",
	       p->worktree);
	/* The grace the user set; the repository's own setting is gone with it. */
	if (config_load(&cfg, d->config, NULL, err) < 0)
		return -1;
	printf("  the trash is emptied after %ld s\n", cfg.trash_grace);
	return 0;
}

int stranded_remove(const wtb_dirs *d, const char *repo_id, const char *workdir, const char *name,
		    bool force, bool stopped, bool *stop, wtb_record *rec, wtb_error **err)
{
	__attribute__((cleanup(agent_paths_free))) wtb_agent_paths p = {0};
	_cleanup_free_ char *lock = repo_lock_path(d, repo_id);
	_cleanup_free_ char *shown = term_escape(workdir);
	_cleanup_close_ int fd = -1;
	struct stat st;

	*stop = false;
	agent_paths_init(&p, d, repo_id, name);
	if (WTB_FAULT("rm-stranded-found", err) < 0)
		return -1;
	if (lock_file(lock, STRANDED_LOCK_TIMEOUT_MS, &fd, err) < 0)
		return wtb_error_wrap(err, "cannot lock the agents of repository id '%s'", repo_id);
	if (lstat(p.record, &st) < 0 && stopped) {
		printf("wtbox: agent '%s' stopped; its run removed it\n", name);
		return 0;
	}
	if (lstat(p.record, &st) < 0)
		return wtb_error_set(err, 0, "agent '%s' is gone: another wtbox removed it", name);
	if (record_load(p.record, rec, err) < 0)
		return -1;
	/* What was found without the lock may have changed since: the
	 * repository back in its place, the record replaced. */
	if (strcmp(rec->repo_id, repo_id) != 0 || strcmp(rec->name, name) != 0 ||
	    rec->workdir == NULL || strcmp(rec->workdir, workdir) != 0 || !record_repo_gone(rec))
		return wtb_error_set(err, 0,
				     "agent '%s' of '%s' changed while rm waited for it (its "
				     "repository is back, or its record was replaced); nothing was "
				     "removed",
				     name, shown);
	if (record_supervisor_alive(rec)) {
		if (force) {
			*stop = true;
			return 0;
		}
		return wtb_error_set(err, 0,
				     "cannot remove agent '%s': it is running (pid %d), and its "
				     "repository '%s' is gone; nothing was removed (--force stops "
				     "it and removes it)",
				     name, (int)rec->pid, shown);
	}
	/* Its worktree is where wtbox puts it, or it is left alone. */
	if (rec->worktree == NULL || strcmp(rec->worktree, p.worktree) != 0)
		return wtb_error_set(
		    err, 0,
		    "cannot remove agent '%s': its record names the worktree '%s', "
		    "not '%s' where wtbox puts it; nothing was removed",
		    name, rec->worktree ? rec->worktree : "", p.worktree);
	if (!force && rec->state != WTB_STATE_REMOVING)
		return wtb_error_set(
		    err, 0,
		    "cannot remove agent '%s': its repository '%s' is gone (deleted, "
		    "or moved or renamed), so nothing can tell what its worktree "
		    "and git directory hold; nothing was removed (--force moves "
		    "them to the trash)",
		    name, shown);
	return move_to_trash(d, &p, rec, err);
}
