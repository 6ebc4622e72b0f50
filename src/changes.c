/* What did the agent change? The inputs to the "changed nothing" rule. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "worktree.h"

#include <git2/sys/repository.h>

/* A walk into an ignored, non-disposable directory stops after this many
 * entries: the verdict (keep) is known long before, and the report lists a
 * sample, not a directory listing. */
#define IGNORED_WALK_MAX 10000
#define IGNORED_LIST_MAX 200

static void status_list_freep(git_status_list **s)
{
	if (*s != NULL)
		git_status_list_free(*s);
}

static void repo_freep(git_repository **r)
{
	if (*r != NULL)
		git_repository_free(*r);
}

static void config_freep(git_config **c)
{
	if (*c != NULL)
		git_config_free(*c);
}

typedef struct walk {
	const wtb_config *cfg;
	strv *out;
	size_t seen;
} walk;

/* Collect the files under an ignored directory that are not disposable. */
static void walk_ignored(walk *w, const char *root, const char *rel)
{
	_cleanup_free_ char *abs = path_join(root, rel);
	DIR *d = opendir(abs);
	struct dirent *de;

	if (d == NULL) {
		/* Unreadable: wtbox cannot tell what is in it, so it counts. */
		strv_push(w->out, xstrdup(rel));
		return;
	}
	while ((de = readdir(d)) != NULL && w->seen < IGNORED_WALK_MAX) {
		_cleanup_free_ char *child = NULL;
		bool dir;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		w->seen++;
		dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			_cleanup_free_ char *p = path_join(abs, de->d_name);

			dir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
		}
		child = xasprintf("%s%s%s", rel, de->d_name, dir ? "/" : "");
		if (config_is_disposable(w->cfg, child))
			continue;
		if (dir)
			walk_ignored(w, root, child);
		else if (w->out->n < IGNORED_LIST_MAX)
			strv_push(w->out, steal_ptr(child));
	}
	closedir(d);
}

static void add_ignored(wtb_changes *c, const wtb_config *cfg, const char *root, const char *path)
{
	walk w = {.cfg = cfg, .out = &c->ignored};
	size_t before = c->ignored.n;

	if (config_is_disposable(cfg, path))
		return;
	if (!str_has_suffix(path, "/")) {
		strv_push(&c->ignored, xstrdup(path));
		return;
	}
	walk_ignored(&w, root, path);
	/* Too much to look at: count the directory itself as kept work. */
	if (w.seen >= IGNORED_WALK_MAX && c->ignored.n == before)
		strv_push(&c->ignored, xstrdup(path));
}

static const char *entry_path(const git_status_entry *e)
{
	const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;

	if (d == NULL)
		return "";
	return d->new_file.path ? d->new_file.path : d->old_file.path;
}

static void classify(wtb_changes *c, const wtb_config *cfg, const char *root,
		     const git_status_entry *e)
{
	const char *path = entry_path(e);
	unsigned s = e->status;

	if (s & (GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_INDEX_DELETED |
		 GIT_STATUS_INDEX_RENAMED | GIT_STATUS_INDEX_TYPECHANGE)) {
		const git_diff_delta *d = e->head_to_index;

		strv_push(&c->staged, xstrdup(d && d->new_file.path ? d->new_file.path : path));
	}
	if (s & (GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_TYPECHANGE | GIT_STATUS_WT_RENAMED |
		 GIT_STATUS_WT_UNREADABLE | GIT_STATUS_CONFLICTED))
		strv_push(&c->modified, xstrdup(path));
	if (s & GIT_STATUS_WT_DELETED)
		strv_push(&c->deleted, xstrdup(path));
	if (s & GIT_STATUS_WT_NEW)
		strv_push(&c->untracked, xstrdup(path));
	if (s & GIT_STATUS_IGNORED)
		add_ignored(c, cfg, root, path);
}

static int collect_status(git_repository *wt, const wtb_config *cfg, const char *root,
			  wtb_changes *c, wtb_error **err)
{
	git_status_options opts, update;
	__attribute__((cleanup(status_list_freep))) git_status_list *list = NULL;
	int rc;

	/* The _init functions, not the macros: the macros leave fields out,
	 * which -Wextra rightly flags. */
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);

	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	/* Every untracked file, one by one; ignored directories as one entry
	 * each, so a disposable node_modules/ is not walked at all. */
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		     GIT_STATUS_OPT_INCLUDE_IGNORED | GIT_STATUS_OPT_INCLUDE_UNREADABLE;
	/* As `git status` does: files found unchanged get their stat data
	 * saved in the index. Without it, a worktree checked out in the
	 * second its index was written keeps every entry "racily clean"
	 * (libgit2 compares whole seconds), and every later status reads
	 * and hashes every file of the worktree. The index changes only in
	 * that cache; where it cannot be written (a git of the user's holds
	 * its lock), the status is read without. */
	update = opts;
	update.flags |= GIT_STATUS_OPT_UPDATE_INDEX;
	rc = git_status_list_new(&list, wt, &update);
	if (rc < 0) {
		git_error_clear();
		rc = git_status_list_new(&list, wt, &opts);
	}
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read the status of '%s'", root);
	for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++)
		classify(c, cfg, root, git_status_byindex(list, i));
	return 0;
}

static int collect_head(wtb_repo *r, git_repository *wt, const wtb_tree_spec *t,
			const git_oid *base, wtb_changes *c, wtb_error **err)
{
	git_reference *head = NULL;
	git_oid tip;
	size_t behind = 0;
	int rc;

	rc = git_reference_name_to_id(&tip, r->git, t->branch);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read branch '%s'", t->branch);
	git_oid_tostr(c->head, sizeof(c->head), &tip);
	c->branch_moved = !git_oid_equal(&tip, base);
	if (c->branch_moved) {
		rc = git_graph_ahead_behind(&c->ahead, &behind, r->git, &tip, base);
		if (rc < 0)
			return wtb_error_git(err, rc, "cannot compare '%s' with its base",
					     t->branch);
	}
	/* The agent may have switched the worktree to another branch or a
	 * detached commit: that is a change too. */
	if (git_reference_lookup(&head, wt, "HEAD") == 0) {
		if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC ||
		    strcmp(git_reference_symbolic_target(head), t->branch) != 0)
			c->head_ref = xstrdup(git_reference_type(head) == GIT_REFERENCE_SYMBOLIC
						  ? git_reference_symbolic_target(head)
						  : "(detached)");
		git_reference_free(head);
	}
	return 0;
}

/* The worktree's ".git" file must still name its own admin directory. The
 * sandbox cannot change it (it is bound read-only), but wtbox does not
 * follow it anyway: a file that says anything else is reported. */
static bool gitfile_intact(const char *admin, const wtb_tree_spec *t)
{
	_cleanup_free_ char *file = path_join(t->path, ".git");
	_cleanup_free_ char *text = NULL, *named = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	struct stat got, want;
	size_t len;

	if (read_file(file, 4096, &text, &len, &err) < 0 || !str_has_prefix(text, "gitdir: "))
		return false;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	/* A relative path (git worktree repair, worktree.useRelativePaths)
	 * is relative to the worktree. The same directory: two stats, where
	 * two realpaths cost a readlink per path component. */
	named = text[strlen("gitdir: ")] == '/' ? xstrdup(text + strlen("gitdir: "))
						: path_join(t->path, text + strlen("gitdir: "));
	return stat(named, &got) == 0 && stat(admin, &want) == 0 && S_ISDIR(got.st_mode) &&
	       got.st_dev == want.st_dev && got.st_ino == want.st_ino;
}

static int collect_here(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base,
			const wtb_config *cfg, wtb_changes *out, wtb_error **err)
{
	__attribute__((cleanup(repo_freep))) git_repository *wt = NULL;
	__attribute__((cleanup(config_freep))) git_config *snap = NULL;
	_cleanup_free_ char *admin = worktree_admin_dir(r, t);
	struct stat named, want;
	int rc;

	/* Opened through git's own record of the worktree (its admin
	 * directory in the shared repository, whose "gitdir" file says where
	 * the worktree is), never through the ".git" file in the worktree,
	 * which the agent had in its hands. */
	out->gitfile_changed = !gitfile_intact(admin, t);
	rc = git_repository_open_ext(&wt, admin, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot open worktree '%s'", t->path);
	/* The status reads a dozen config values, and libgit2 re-stats every
	 * config file at each read of a live config: a snapshot, taken as
	 * the repository is opened, reads them once. */
	if (git_repository_config_snapshot(&snap, wt) == 0)
		git_repository_set_config(wt, snap);
	if (git_repository_workdir(wt) == NULL || stat(git_repository_workdir(wt), &named) < 0 ||
	    stat(t->path, &want) < 0 || named.st_dev != want.st_dev || named.st_ino != want.st_ino)
		return wtb_error_set(
		    err, 0, "git's record of worktree '%s' names '%s' instead", t->path,
		    git_repository_workdir(wt) ? git_repository_workdir(wt) : "nothing");
	if (collect_head(r, wt, t, base, out, err) < 0)
		return -1;
	if (collect_status(wt, cfg, t->path, out, err) < 0)
		return -1;
	return 0;
}

typedef struct status_args {
	wtb_repo *r;
	const wtb_tree_spec *t;
	const git_oid *base;
	const wtb_config *cfg;
} status_args;

static void put_list(FILE *f, char tag, const strv *list)
{
	for (size_t i = 0; i < list->n; i++)
		reply_put(f, tag, list->v[i]);
}

/* In the child: the verdict's lists, as records. */
static int status_child(void *arg, FILE *f, wtb_error **err)
{
	const status_args *s = arg;
	wtb_changes c = {0};

	if (collect_here(s->r, s->t, s->base, s->cfg, &c, err) < 0)
		return -1;
	reply_put(f, 'h', c.head);
	reply_put_num(f, 'a', c.ahead);
	reply_put(f, 'b', c.branch_moved ? "1" : "0");
	reply_put(f, 'g', c.gitfile_changed ? "1" : "0");
	if (c.head_ref != NULL)
		reply_put(f, 'r', c.head_ref);
	put_list(f, 's', &c.staged);
	put_list(f, 'm', &c.modified);
	put_list(f, 'd', &c.deleted);
	put_list(f, 'u', &c.untracked);
	put_list(f, 'i', &c.ignored);
	return 0;
}

static int parse_reply(const char *buf, size_t len, wtb_changes *c, wtb_error **err)
{
	size_t at = 0;
	const char *text;
	char tag;
	int r;

	while ((r = reply_next(buf, len, &at, &tag, &text, err)) > 0) {
		strv *list = NULL;

		switch (tag) {
		case 'h':
			snprintf(c->head, sizeof(c->head), "%s", text);
			break;
		case 'a':
			c->ahead = strtoull(text, NULL, 10);
			break;
		case 'b':
			c->branch_moved = text[0] == '1';
			break;
		case 'g':
			c->gitfile_changed = text[0] == '1';
			break;
		case 'r':
			free(c->head_ref);
			c->head_ref = xstrdup(text);
			break;
		case 's':
			list = &c->staged;
			break;
		case 'm':
			list = &c->modified;
			break;
		case 'd':
			list = &c->deleted;
			break;
		case 'u':
			list = &c->untracked;
			break;
		case 'i':
			list = &c->ignored;
			break;
		default:
			return wtb_error_set(err, 0, "its reply has an unknown record");
		}
		if (list != NULL)
			strv_push(list, xstrdup(text));
	}
	return r;
}

/* The status reads files the agent wrote: attribute and ignore files,
 * and every file whose stat data changed, through filters its
 * .gitattributes names. One of them can be a FIFO whose read never ends,
 * or a huge sparse file a filter reads whole. So it runs in a child (see
 * child.h); past its deadline or its heap, there is no verdict (the
 * caller keeps the agent) instead of a wtbox that waits for ever with the
 * repository locked. */
int changes_collect(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base, const wtb_config *cfg,
		    wtb_changes *out, wtb_error **err)
{
	status_args args = {.r = r, .t = t, .base = base, .cfg = cfg};
	wtb_child_opts o = {.secs = cfg->status_timeout,
			    .knob = "WTBOX_STATUS_TIMEOUT",
			    .hint = "a file git reads may be a FIFO"};
	_cleanup_free_ char *reply = NULL;
	size_t len = 0;

	/* The child's own errors say what failed; its end, that it failed. */
	if (child_run(status_child, &args, &o, &reply, &len, err) < 0)
		return wtb_error_wrap(err, "cannot read the status of '%s'", t->path);
	return parse_reply(reply, len, out, err);
}

bool changes_any(const wtb_changes *c)
{
	return c->branch_moved || c->gitfile_changed || c->head_ref != NULL || c->staged.n ||
	       c->modified.n || c->deleted.n || c->untracked.n || c->ignored.n || c->branches.n ||
	       c->nested.n || c->nested_stuck.n;
}

void changes_free(wtb_changes *c)
{
	free(c->head_ref);
	strv_clear(&c->staged);
	strv_clear(&c->modified);
	strv_clear(&c->deleted);
	strv_clear(&c->untracked);
	strv_clear(&c->ignored);
	strv_clear(&c->branches);
	strv_clear(&c->nested);
	strv_clear(&c->nested_stuck);
	memset(c, 0, sizeof(*c));
}
