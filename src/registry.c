#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "name.h"
#include "util.h"

void registry_free(wtb_registry *r)
{
	for (size_t i = 0; i < r->n; i++)
		record_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Entries of the state directory that are not agents (or repositories):
 * ".lock", temp files, the state trash, the compiled filters
 * (filtercache.h). */
static bool skipped_entry(const char *name)
{
	return name[0] == '.' || strcmp(name, "trash") == 0 || strcmp(name, "filters") == 0;
}

/* The record of the agent directory `name` under `repo_dir`, appended;
 * one that cannot be read is reported and left out. A directory without
 * a record is not (yet) an agent: its creation writes the record first
 * thing, under the repository lock. */
static void read_one(wtb_registry *out, const char *repo_dir, const char *name)
{
	_cleanup_free_ char *dir = path_join(repo_dir, name);
	_cleanup_free_ char *path = path_join(dir, "record.json");
	_cleanup_error_ wtb_error *err = NULL;
	wtb_record rec = {0};
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return;
	if (record_load(path, &rec, &err) < 0) {
		/* Removed (wtbox rm) between the listing and the read. */
		if (err->errnum == ENOENT)
			return;
		wtb_error_wrap(&err, "agent '%s' skipped", name);
		wtb_error_report(err);
		return;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
	}
	out->v[out->n++] = rec;
}

/* Every agent directory of one repository. ENOENT: none. */
static int read_repo(wtb_registry *out, const char *repo_dir, wtb_error **err)
{
	_cleanup_dir_ DIR *d = opendir(repo_dir);
	struct dirent *e;

	if (d == NULL && errno == ENOENT)
		return 0;
	if (d == NULL)
		return wtb_error_errno(err, "cannot list the agents in '%s'", repo_dir);
	while ((e = readdir(d)) != NULL) {
		if (skipped_entry(e->d_name) || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		read_one(out, repo_dir, e->d_name);
	}
	return 0;
}

static int by_repo_and_name(const void *a, const void *b)
{
	const wtb_record *x = a, *y = b;
	int c = strcmp(x->repo_id, y->repo_id);

	return c != 0 ? c : strcmp(x->name, y->name);
}

int registry_read(wtb_registry *out, const wtb_dirs *d, const char *repo_id, wtb_error **err)
{
	_cleanup_dir_ DIR *root = NULL;
	struct dirent *e;

	memset(out, 0, sizeof(*out));
	if (repo_id != NULL) {
		_cleanup_free_ char *dir = path_join(d->state, repo_id);

		if (read_repo(out, dir, err) < 0)
			return -1;
	} else {
		root = opendir(d->state);
		if (root == NULL && errno != ENOENT)
			return wtb_error_errno(err, "cannot list the agents in '%s'", d->state);
		while (root != NULL && (e = readdir(root)) != NULL) {
			_cleanup_free_ char *dir = NULL;
			_cleanup_error_ wtb_error *rerr = NULL;

			if (skipped_entry(e->d_name) ||
			    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
				continue;
			dir = path_join(d->state, e->d_name);
			/* One unreadable repository does not hide the others. */
			if (read_repo(out, dir, &rerr) < 0)
				wtb_error_report(rerr);
		}
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_repo_and_name);
	return 0;
}

int registry_find(wtb_found *out, const char *dir, const char *name, wtb_error **err)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (name_validate(name, err) < 0)
		return -1;
	if (repo_open(&out->repo, dir ? dir : ".", false, err) < 0 ||
	    dirs_from_env(&out->dirs, err) < 0)
		return -1;
	agent_paths_init(&out->paths, &out->dirs, out->repo.id, name);
	if (lstat(out->paths.record, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return wtb_error_set(err, 0, "no agent '%s' in repository '%s'", name,
					     out->repo.workdir);
		return wtb_error_errno(err, "cannot read agent record '%s'", out->paths.record);
	}
	return record_load(out->paths.record, &out->rec, err);
}

int registry_reload(wtb_found *f, wtb_error **err)
{
	wtb_record rec = {0};

	if (record_load(f->paths.record, &rec, err) < 0)
		return -1;
	record_free(&f->rec);
	f->rec = rec;
	return 0;
}

bool found_removed(const wtb_found *f)
{
	return access(f->paths.record, F_OK) < 0 && errno == ENOENT;
}

void found_free(wtb_found *f)
{
	record_free(&f->rec);
	agent_paths_free(&f->paths);
	dirs_free(&f->dirs);
	repo_close(&f->repo);
}

wtb_status found_status(const wtb_found *f, bool *alive)
{
	*alive = record_supervisor_alive(&f->rec);
	return record_status(&f->rec, *alive);
}
