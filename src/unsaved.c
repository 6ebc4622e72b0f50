#include "unsaved.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fault.h"
#include "gitstate.h"
#include "nsenter.h"
#include "trash.h"
#include "worktree.h"

/* Paths named in a refusal, at most: the message stays one line. */
#define NAMES_SHOWN 3

void unsaved_free(wtb_unsaved *u)
{
	strv_clear(&u->branches);
	strv_clear(&u->tips);
	strv_clear(&u->changed);
	strv_clear(&u->untracked);
	strv_clear(&u->unimported);
	strv_clear(&u->nested);
	strv_clear(&u->stuck);
}

static void revwalk_freep(git_revwalk **w)
{
	if (*w != NULL)
		git_revwalk_free(*w);
}

static void ref_iter_freep(git_reference_iterator **it)
{
	if (*it != NULL)
		git_reference_iterator_free(*it);
}

static bool is_own_branch(const char *ref, const char *name)
{
	_cleanup_free_ char *own = xasprintf("refs/heads/wtbox/%s", name);
	size_t len = strlen(own);

	return strncmp(ref, own, len) == 0 && (ref[len] == '\0' || ref[len] == '@');
}

int agent_branches(wtb_repo *r, const char *name, strv *refs, strv *tips, wtb_error **err)
{
	__attribute__((cleanup(ref_iter_freep))) git_reference_iterator *it = NULL;
	git_reference *ref;
	int rc = git_reference_iterator_glob_new(&it, r->git, "refs/heads/wtbox/*");

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot list the branches of agent '%s'", name);
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const git_oid *id = git_reference_target(ref);
		char hex[GIT_OID_HEXSZ + 1];

		if (id != NULL && is_own_branch(git_reference_name(ref), name)) {
			git_oid_tostr(hex, sizeof(hex), id);
			strv_push(refs, xstrdup(git_reference_name(ref)));
			strv_push(tips, xstrdup(hex));
		}
		git_reference_free(ref);
	}
	if (rc != GIT_ITEROVER)
		return wtb_error_git(err, rc, "cannot list the branches of agent '%s'", name);
	return 0;
}

/* Hide from the walk every commit another branch, a remote-tracking branch
 * or a tag holds: those survive the removal. */
static int hide_others(wtb_repo *r, git_revwalk *w, const char *name, wtb_error **err)
{
	__attribute__((cleanup(ref_iter_freep))) git_reference_iterator *it = NULL;
	git_reference *ref;
	int rc = git_reference_iterator_new(&it, r->git);

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot list references");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *n = git_reference_name(ref);
		git_object *obj = NULL;

		if ((str_has_prefix(n, "refs/heads/") || str_has_prefix(n, "refs/remotes/") ||
		     str_has_prefix(n, "refs/tags/")) &&
		    !is_own_branch(n, name) &&
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0)
			git_revwalk_hide(w, git_object_id(obj));
		git_object_free(obj);
		git_reference_free(ref);
	}
	if (rc != GIT_ITEROVER)
		return wtb_error_git(err, rc, "cannot list references");
	return 0;
}

static int count_unique(wtb_repo *r, const char *name, const strv *tips, size_t *out,
			wtb_error **err)
{
	__attribute__((cleanup(revwalk_freep))) git_revwalk *w = NULL;
	git_oid id;
	int rc;

	*out = 0;
	if (tips->n == 0)
		return 0;
	rc = git_revwalk_new(&w, r->git);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot walk the history of agent '%s'", name);
	for (size_t i = 0; i < tips->n; i++) {
		if (git_oid_fromstr(&id, tips->v[i]) == 0)
			git_revwalk_push(w, &id);
	}
	if (hide_others(r, w, name, err) < 0)
		return -1;
	while ((rc = git_revwalk_next(&id, w)) == 0)
		(*out)++;
	if (rc != GIT_ITEROVER)
		return wtb_error_git(err, rc, "cannot walk the history of agent '%s'", name);
	return 0;
}

static void take_all(strv *to, strv *from)
{
	for (size_t i = 0; i < from->n; i++)
		strv_push(to, steal_ptr(from->v[i]));
	from->n = 0;
}

/* The worktree: uncommitted changes and untracked files (ignored files are
 * not work: build output, caches; they go to the trash with the rest). */
static int worktree_state(wtb_agent *a, wtb_unsaved *u, wtb_error **err)
{
	wtb_changes ch = {0};
	struct stat st;
	int r;

	if (lstat(a->spec.path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		u->no_worktree = true;
		return 0;
	}
	r = changes_collect(&a->repo, &a->spec, &a->base, &a->cfg, &ch, err);
	if (r == 0) {
		take_all(&u->changed, &ch.staged);
		take_all(&u->changed, &ch.modified);
		take_all(&u->changed, &ch.deleted);
		take_all(&u->untracked, &ch.untracked);
		if (ch.head_ref != NULL)
			strv_push(&u->unimported,
				  xasprintf("the worktree's HEAD is on '%s'", ch.head_ref));
	}
	changes_free(&ch);
	return r;
}

/* The private git directory: what an import leaves there is only there. */
static void import_state(wtb_agent *a, wtb_unsaved *u)
{
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	_cleanup_error_ wtb_error *ierr = NULL;

	if (gitstate_import(&a->git, &a->repo, &a->spec, false, &imp, &ierr) < 0) {
		_cleanup_free_ char *msg = wtb_error_text(ierr);

		strv_push(&u->unimported,
			  xasprintf("its git work could not be imported (%s)", msg));
		return;
	}
	import_print(stderr, a->name, &imp);
	for (size_t i = 0; i < imp.refused.n; i++)
		strv_push(&u->unimported, xasprintf("ref %s", imp.refused.v[i]));
	if (imp.head_elsewhere)
		strv_push(&u->unimported,
			  xstrdup("its HEAD is detached or on a ref that was not imported"));
}

int unsaved_branches(wtb_agent *a, wtb_unsaved *u, wtb_error **err)
{
	if (agent_branches(&a->repo, a->name, &u->branches, &u->tips, err) < 0 ||
	    count_unique(&a->repo, a->name, &u->tips, &u->unique, err) < 0)
		return wtb_error_wrap(err, "cannot tell what agent '%s' holds", a->name);
	return 0;
}

int unsaved_collect(wtb_agent *a, wtb_unsaved *u, wtb_error **err)
{
	u->running = record_supervisor_alive(&a->rec);
	u->pid = a->rec.pid;
	/* A running agent's git directory changes under the import: its
	 * work is imported when it ends (or by `wtbox sync`). */
	if (!u->running) {
		wtb_nested n = {0};

		agent_stash_nested(a, &n);
		u->nested = n.stored;
		u->stuck = n.stuck;
		import_state(a, u);
	}
	if (agent_branches(&a->repo, a->name, &u->branches, &u->tips, err) < 0 ||
	    count_unique(&a->repo, a->name, &u->tips, &u->unique, err) < 0 ||
	    worktree_state(a, u, err) < 0)
		return wtb_error_wrap(err, "cannot tell what agent '%s' holds", a->name);
	return 0;
}

bool unsaved_any(const wtb_unsaved *u)
{
	return u->running || u->unique > 0 || u->changed.n > 0 || u->untracked.n > 0 ||
	       u->unimported.n > 0 || u->nested.n > 0 || u->stuck.n > 0;
}

static void append(char **text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(char **text, const char *fmt, ...)
{
	_cleanup_free_ char *part = NULL;
	char *joined;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&part, fmt, ap) < 0)
		die_oom();
	va_end(ap);
	joined = *text ? xasprintf("%s; %s", *text, part) : xstrdup(part);
	free(*text);
	*text = joined;
}

/* "3 untracked files (a, b, c, ...)" */
static void append_paths(char **text, const strv *paths, const char *what)
{
	_cleanup_free_ char *names = NULL;

	if (paths->n == 0)
		return;
	for (size_t i = 0; i < paths->n && i < NAMES_SHOWN; i++) {
		char *n = names ? xasprintf("%s, %s", names, paths->v[i]) : xstrdup(paths->v[i]);

		free(names);
		names = n;
	}
	append(text, "%zu %s%s (%s%s)", paths->n, what, paths->n == 1 ? "" : "s", names,
	       paths->n > NAMES_SHOWN ? ", ..." : "");
}

char *unsaved_text(const wtb_unsaved *u)
{
	char *text = NULL;

	if (u->running)
		append(&text, "it is running (pid %d)", (int)u->pid);
	if (u->unique > 0)
		append(&text, "%zu commit%s on its branch%s not in any other branch, tag or remote",
		       u->unique, u->unique == 1 ? "" : "s", u->branches.n == 1 ? "" : "es");
	append_paths(&text, &u->changed, "uncommitted change");
	append_paths(&text, &u->untracked, "untracked file");
	for (size_t i = 0; i < u->unimported.n; i++)
		append(&text, "not imported from its git directory: %s", u->unimported.v[i]);
	for (size_t i = 0; i < u->nested.n; i++)
		append(&text, "its own git repository '%s' (kept in its state)", u->nested.v[i]);
	for (size_t i = 0; i < u->stuck.n; i++)
		append(&text, "its own git repository %s", u->stuck.v[i]);
	return text;
}

int branch_delete_at(wtb_repo *r, const char *ref, const char *hex, wtb_error **err)
{
	git_reference *cur = NULL;
	git_oid id;
	int rc;

	if (git_oid_fromstr(&id, hex) < 0)
		return wtb_error_set(err, EINVAL, "invalid id '%s'", hex);
	rc = git_reference_lookup(&cur, r->git, ref);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot delete branch '%s'", ref);
	if (git_reference_target(cur) == NULL || !git_oid_equal(git_reference_target(cur), &id)) {
		git_reference_free(cur);
		return wtb_error_set(err, 0, "branch '%s' moved during the removal; kept", ref);
	}
	rc = git_reference_delete(cur);
	git_reference_free(cur);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot delete branch '%s'", ref);
	return 0;
}

static void print_discarded(const wtb_unsaved *u)
{
	_cleanup_free_ char *text = unsaved_text(u);
	_cleanup_free_ char *shown = text != NULL ? term_escape(text) : NULL;

	if (shown != NULL)
		printf("  discarded (--force): %s\n", shown);
}

int unsaved_remove(wtb_agent *a, const wtb_unsaved *u, wtb_error **err)
{
	_cleanup_free_ char *entry = NULL, *state_dest = NULL, *list = NULL;
	_cleanup_free_ char *listing = xstrdup("");
	bool moved = false;

	if (agent_mark_removing(a, err) < 0 ||
	    trash_new_entry(a->paths.trash, a->repo.id, a->name, &entry, err) < 0)
		return -1;
	/* A run killed with its wtbox left them: the state goes to the
	 * trash for a day, a token --env passed need not. */
	agent_run_files_drop(a->paths.state);
	/* The trash entry says which commits the branches had, for whoever
	 * wants them back. */
	for (size_t i = 0; i < u->branches.n; i++) {
		char *l = xasprintf("%s%s %s\n", listing, u->tips.v[i], u->branches.v[i]);

		free(listing);
		listing = l;
	}
	list = path_join(entry, "branches");
	if (write_file_atomic(list, listing, strlen(listing), 0600, err) < 0)
		return -1;
	if (worktree_discard(&a->repo, &a->spec, entry, &moved, err) < 0 ||
	    WTB_FAULT("rm-worktree", err) < 0)
		return -1;
	printf("wtbox: removed agent '%s'\n", a->name);
	if (moved)
		printf("  worktree '%s' moved to the trash '%s/worktree'\n", a->spec.path, entry);
	for (size_t i = 0; i < u->branches.n; i++) {
		/* wtbox/NAME@BRANCH: the agent named BRANCH. */
		_cleanup_free_ char *branch = term_escape(u->branches.v[i] + strlen("refs/heads/"));

		if (branch_delete_at(&a->repo, u->branches.v[i], u->tips.v[i], err) < 0)
			return -1;
		printf("  branch %s deleted (was %s; to restore: git branch %s %s)\n", branch,
		       u->tips.v[i], branch, u->tips.v[i]);
	}
	if (WTB_FAULT("rm-branches", err) < 0 ||
	    trash_move(a->paths.state, entry, "state", a->paths.state_trash, &state_dest, err) < 0)
		return -1;
	printf("  state '%s' moved to the trash '%s'\n", a->paths.state, state_dest);
	print_discarded(u);
	printf("  the trash is emptied after %ld s\n", a->cfg.trash_grace);
	return 0;
}
