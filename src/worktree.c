#include "worktree.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "paths.h"

static void git_repository_freep(git_repository **r)
{
	if (*r != NULL)
		git_repository_free(*r);
}
static void git_reference_freep(git_reference **r)
{
	if (*r != NULL)
		git_reference_free(*r);
}
static void git_worktree_freep(git_worktree **w)
{
	if (*w != NULL)
		git_worktree_free(*w);
}
static void git_object_freep(git_object **o)
{
	if (*o != NULL)
		git_object_free(*o);
}
#define _cleanup_repo_	   __attribute__((cleanup(git_repository_freep)))
#define _cleanup_ref_	   __attribute__((cleanup(git_reference_freep)))
#define _cleanup_worktree_ __attribute__((cleanup(git_worktree_freep)))
#define _cleanup_object_   __attribute__((cleanup(git_object_freep)))

/* Another git process may hold a ref's lock file for a moment: retry a
 * ref operation on GIT_ELOCKED for up to 5 seconds before giving up. */
#define GIT_LOCK_RETRY_MS 5000

static char *canonical_dir(const char *path)
{
	char *real = realpath(path, NULL);
	size_t len;

	if (real == NULL)
		real = xstrdup(path);
	len = strlen(real);
	while (len > 1 && real[len - 1] == '/')
		real[--len] = '\0';
	return real;
}

/* No repository found from `where` up: say so, or, when a parent holds a
 * .git of another user's, that libgit2 (as git) refuses to open it. */
static int not_a_repository(const char *where, wtb_error **err)
{
	_cleanup_free_ char *dir = xstrdup(where);
	struct stat st;

	for (;;) {
		_cleanup_free_ char *dotgit = path_join(dir, ".git");
		char *slash;

		if (lstat(dotgit, &st) == 0) {
			if (st.st_uid != geteuid())
				return wtb_error_set(
				    err, 0,
				    "repository '%s' belongs to another user (uid %u) and git "
				    "does not open it for you (uid %u); see 'git help config', "
				    "safe.directory",
				    dir, (unsigned)st.st_uid, (unsigned)geteuid());
			break;
		}
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	return wtb_error_set(err, 0, "not a git repository (or any parent): '%s'", where);
}

int repo_open(wtb_repo *out, const char *start, bool need_head, wtb_error **err)
{
	_cleanup_repo_ git_repository *repo = NULL;
	_cleanup_repo_ git_repository *main_repo = NULL;
	const char *wd;
	int rc;

	_cleanup_free_ char *where = realpath(start, NULL);
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat(start, &st) < 0)
		return wtb_error_errno(err, "cannot use directory '%s'", start);
	if (!S_ISDIR(st.st_mode))
		return wtb_error_set(err, ENOTDIR, "cannot use directory '%s'", start);
	if (where == NULL)
		where = xstrdup(start);
	rc = git_repository_open_ext(&repo, where, 0, NULL);
	if (rc == GIT_ENOTFOUND || rc == GIT_EOWNER)
		return not_a_repository(where, err);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot open repository '%s'", where);
	if (git_repository_is_bare(repo))
		return wtb_error_set(err, 0,
				     "cannot use bare repository '%s': an agent's worktree needs a "
				     "repository with a working directory",
				     git_repository_path(repo));
	if (need_head && git_repository_head_unborn(repo) == 1)
		return wtb_error_set(err, 0,
				     "repository '%s' has no commits yet: an agent's branch starts "
				     "from a commit",
				     git_repository_workdir(repo));
	out->commondir = canonical_dir(git_repository_commondir(repo));
	/* The main checkout, even when started from a linked worktree: its
	 * .wtbox.json and its name are the repository's. Opened a second
	 * time only then: an open reads every config file. */
	wd = git_repository_workdir(repo);
	if (git_repository_is_worktree(repo) == 1 &&
	    git_repository_open(&main_repo, out->commondir) == 0 &&
	    git_repository_workdir(main_repo) != NULL)
		wd = git_repository_workdir(main_repo);
	out->workdir = canonical_dir(wd);
	out->id = repo_id_make(out->workdir, out->commondir);
	out->git = steal_ptr(repo);
	return 0;
}

static void drop_handle(wtb_repo *r)
{
	if (r->wt != NULL)
		git_worktree_free(r->wt);
	r->wt = NULL;
	free(r->wt_admin);
	r->wt_admin = NULL;
}

static void keep_handle(wtb_repo *r, const char *admin, git_worktree *wt)
{
	drop_handle(r);
	r->wt = wt;
	r->wt_admin = xstrdup(admin);
}

/* The worktree `admin` (borrowed: valid until repo_close or until it is
 * removed). A lookup reads git's admin files and resolves their paths,
 * some 30 system calls: a run looks its agent's worktree up once and
 * keeps the handle for the lock and the unlock. libgit2 keeps only paths
 * in it; whether it is locked is read each time. */
static int worktree_handle(wtb_repo *r, const char *admin, git_worktree **out)
{
	git_worktree *wt = NULL;
	int rc;

	if (r->wt != NULL && strcmp(r->wt_admin, admin) == 0) {
		*out = r->wt;
		return 0;
	}
	rc = git_worktree_lookup(&wt, r->git, admin);
	if (rc < 0)
		return rc;
	keep_handle(r, admin, wt);
	*out = wt;
	return 0;
}

void repo_close(wtb_repo *r)
{
	drop_handle(r);
	if (r->git != NULL)
		git_repository_free(r->git);
	free(r->commondir);
	free(r->workdir);
	free(r->id);
	memset(r, 0, sizeof(*r));
}

/* A revision that names an object but no commit (a tree, a blob, a tag of
 * one): said in a line, not in libgit2's words about peeling. */
static int not_a_commit(git_object *obj, const char *spec, wtb_error **err)
{
	_cleanup_object_ git_object *target = NULL;
	git_object_t type = git_object_type(obj);

	if (type != GIT_OBJECT_TAG)
		return wtb_error_set(err, 0,
				     "invalid base revision '%s': it names a %s, not a commit",
				     spec, git_object_type2string(type));
	/* A tag peels to what it finally points at. */
	if (git_object_peel(&target, obj, GIT_OBJECT_ANY) < 0)
		return wtb_error_set(
		    err, 0, "invalid base revision '%s': it names a tag, not a commit", spec);
	return wtb_error_set(err, 0,
			     "invalid base revision '%s': it names a tag of a %s, not a commit",
			     spec, git_object_type2string(git_object_type(target)));
}

int repo_resolve_commit(wtb_repo *r, const char *rev, git_oid *out, wtb_error **err)
{
	_cleanup_object_ git_object *obj = NULL;
	_cleanup_object_ git_object *commit = NULL;
	const char *spec = rev ? rev : "HEAD";
	int rc;

	rc = git_revparse_single(&obj, r->git, spec);
	if (rc < 0)
		return wtb_error_git(err, rc, "invalid base revision '%s'", spec);
	rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	if (rc < 0)
		return not_a_commit(obj, spec, err);
	git_oid_cpy(out, git_object_id(commit));
	return 0;
}

char *worktree_admin_dir(wtb_repo *r, const wtb_tree_spec *t)
{
	_cleanup_free_ char *wt = path_join(r->commondir, "worktrees");

	return path_join(wt, t->admin);
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool branch_exists(wtb_repo *r, const char *branch)
{
	git_oid oid;

	return git_reference_name_to_id(&oid, r->git, branch) == 0;
}

bool worktree_path_is_wtbox(const char *path, const char *name, char **id)
{
	size_t len = strlen(path), nlen = strlen(name);
	const char *start;

	if (len < nlen + 2 || strcmp(path + len - nlen, name) != 0 || path[len - nlen - 1] != '/')
		return false;
	start = path + len - nlen - 1;
	while (start > path && start[-1] != '/')
		start--;
	if (start - path < 7 || strncmp(start - 7, "/wtbox/", 7) != 0 ||
	    start == path + len - nlen - 1)
		return false;
	if (id != NULL && (*id = strndup(start, (size_t)(path + len - nlen - 1 - start))) == NULL)
		die_oom();
	return true;
}

/* Whether the branch's first reflog entry is wtbox's (branch_create_op's
 * message): without a reflog, nothing can be told. */
static bool branch_made_by_wtbox(wtb_repo *r, const char *branch)
{
	git_reflog *log = NULL;
	const git_reflog_entry *first;
	bool made = false;

	if (git_reflog_read(&log, r->git, branch) < 0)
		return false;
	first = git_reflog_entrycount(log) > 0
		    ? git_reflog_entry_byindex(log, git_reflog_entrycount(log) - 1)
		    : NULL;
	made = first != NULL && git_reflog_entry_message(first) != NULL &&
	       strcmp(git_reflog_entry_message(first), WTB_BRANCH_LOG) == 0;
	git_reflog_free(log);
	return made;
}

int worktree_check_free(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err)
{
	_cleanup_free_ char *admin = worktree_admin_dir(r, t);
	const char *branch = t->branch + strlen("refs/heads/");

	/* A worktree of this name that git knows but no record of this
	 * repository names: the repository was moved or renamed (its agents'
	 * records are under its old path), or the record was removed. */
	if (path_exists(admin)) {
		_cleanup_free_ char *at = worktree_path_of(r, t->admin);
		_cleanup_free_ char *id = NULL;

		if (at == NULL || !worktree_path_is_wtbox(at, t->name, &id))
			return wtb_error_set(err, 0,
					     "git worktree '%s' already exists and was not created "
					     "by wtbox; choose another agent name",
					     t->admin);
		if (id != NULL && strcmp(id, r->id) == 0)
			return wtb_error_set(err, 0,
					     "git worktree '%s' (at '%s') is wtbox's but its agent "
					     "record is gone; 'git worktree remove' it (its branch "
					     "'%s' stays) or choose another agent name",
					     t->admin, at, t->branch + strlen("refs/heads/"));
		return wtb_error_set(err, 0,
				     "git worktree '%s' (at '%s') is not an agent of this "
				     "repository; if the repository was moved or renamed, its "
				     "agents are listed under its old path by 'wtbox ls --all'; "
				     "choose another agent name",
				     t->admin, at);
	}
	if (branch_exists(r, t->branch) && branch_made_by_wtbox(r, t->branch))
		return wtb_error_set(
		    err, 0,
		    "branch '%s' is left from an earlier agent '%s' whose worktree "
		    "is gone, or that 'wtbox ls --all' lists under another path of "
		    "this repository; it may hold that agent's commits: choose "
		    "another agent name, or delete the branch once its work is safe",
		    branch, t->name);
	if (branch_exists(r, t->branch))
		return wtb_error_set(err, 0,
				     "branch '%s' already exists and was not created by wtbox; "
				     "choose another agent name",
				     branch);
	if (path_exists(t->path))
		return wtb_error_set(err, 0,
				     "worktree directory '%s' already exists and is not a "
				     "registered worktree of wtbox; move it away or choose another "
				     "agent name",
				     t->path);
	return 0;
}

bool worktree_is_free(wtb_repo *r, const wtb_tree_spec *t)
{
	_cleanup_error_ wtb_error *err = NULL;

	return worktree_check_free(r, t, &err) == 0;
}

static int with_lock_retry(int (*op)(wtb_repo *, const wtb_tree_spec *, const git_oid *),
			   wtb_repo *r, const wtb_tree_spec *t, const git_oid *oid)
{
	uint64_t deadline = now_ms() + GIT_LOCK_RETRY_MS;
	int rc;

	while ((rc = op(r, t, oid)) == GIT_ELOCKED && now_ms() < deadline)
		usleep(20000);
	return rc;
}

static int branch_create_op(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base)
{
	_cleanup_ref_ git_reference *ref = NULL;

	/* A plain ref create, not git_branch_create: nothing writes
	 * upstream-tracking config, and force=0 never clobbers a branch that
	 * appeared meanwhile. */
	return git_reference_create(&ref, r->git, t->branch, base, 0, WTB_BRANCH_LOG);
}

/* Delete the branch only while it still points at `base`: a moved branch
 * holds someone's work. */
static int branch_delete_op(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base)
{
	_cleanup_ref_ git_reference *ref = NULL;
	int rc = git_reference_lookup(&ref, r->git, t->branch);

	if (rc < 0)
		return rc;
	if (git_reference_type(ref) != GIT_REFERENCE_DIRECT ||
	    !git_oid_equal(git_reference_target(ref), base))
		return GIT_EMODIFIED;
	return git_reference_delete(ref);
}

/* libgit2 writes the repository's git directory into the worktree's
 * admin dir as an absolute path, where git writes "../..": moved or
 * renamed, the repository would then fail git's own commands ("fatal:
 * Invalid path") for as long as the admin dir is there. The admin dir is
 * <commondir>/worktrees/<admin>, so "../.." names the same directory
 * wherever the repository goes. Best effort: a failure is said, and the
 * worktree works as it is. */
static void commondir_relative(const wtb_repo *r, const char *admin)
{
	_cleanup_free_ char *path = path_join(admin, "commondir");
	_cleanup_free_ char *up = path_join(admin, "../..");
	_cleanup_free_ char *text = NULL, *real = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	size_t len;

	if (read_file(path, PATH_MAX, &text, &len, &err) < 0 || text[0] != '/')
		return;
	/* Only where "../.." is the same directory (git resolves it through
	 * links, as realpath does). */
	real = realpath(up, NULL);
	if (real == NULL || strcmp(real, r->commondir) != 0)
		return;
	if (write_file_atomic(path, "../..\n", strlen("../..\n"), 0644, &err) < 0)
		wtb_error_report(err);
}

static int add_worktree(wtb_repo *r, const wtb_tree_spec *t, wtb_created *made, wtb_error **err)
{
	git_worktree_add_options opts;
	_cleanup_free_ char *admin = worktree_admin_dir(r, t);
	_cleanup_ref_ git_reference *ref = NULL;
	_cleanup_worktree_ git_worktree *wt = NULL;
	int rc;

	git_worktree_add_options_init(&opts, GIT_WORKTREE_ADD_OPTIONS_VERSION);

	rc = git_reference_lookup(&ref, r->git, t->branch);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot find branch '%s'", t->branch);
	opts.ref = ref;
	/* The directory is new and empty: nothing in it can be overwritten. */
	opts.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE;
	rc = git_worktree_add(&wt, r->git, t->admin, t->path, &opts);
	/* libgit2 leaves what it made behind when it fails half-way: record
	 * what exists now, so that rollback removes it. */
	made->admin = path_exists(admin);
	made->dir = path_exists(t->path);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot add worktree '%s'", t->path);
	commondir_relative(r, admin);
	keep_handle(r, t->admin, steal_ptr(wt));
	return 0;
}

void worktree_rollback(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base,
		       const wtb_created *made)
{
	_cleanup_free_ char *admin = worktree_admin_dir(r, t);
	_cleanup_error_ wtb_error *err = NULL;

	drop_handle(r);
	/* Only what this run created: a fresh checkout of `base` (no agent
	 * has run in it yet), git's admin dir for it and the branch, which
	 * branch_delete_op leaves alone if it moved. */
	if (made->dir && remove_tree(t->path, &err) < 0) {
		wtb_error_report(err);
		wtb_error_free(&err);
	}
	if (made->admin && remove_tree(admin, &err) < 0) {
		wtb_error_report(err);
		wtb_error_free(&err);
	}
	if (made->branch) {
		int rc = with_lock_retry(branch_delete_op, r, t, base);

		if (rc < 0 && rc != GIT_ENOTFOUND)
			fprintf(stderr, "wtbox: cannot roll back branch '%s': kept\n", t->branch);
	}
}

int worktree_create(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base, const char *reason,
		    wtb_created *made, wtb_error **err)
{
	int rc;

	memset(made, 0, sizeof(*made));
	rc = with_lock_retry(branch_create_op, r, t, base);
	if (rc < 0) {
		wtb_error_git(err, rc, "cannot create branch '%s'", t->branch);
		goto fail;
	}
	made->branch = true;
	if (WTB_FAULT("after-branch", err) < 0)
		goto fail;
	if (add_worktree(r, t, made, err) < 0)
		goto fail;
	if (WTB_FAULT("after-worktree", err) < 0)
		goto fail;
	if (worktree_lock(r, t, reason, err) < 0)
		goto fail;
	if (WTB_FAULT("after-lock", err) < 0)
		goto fail;
	return 0;
fail:
	worktree_rollback(r, t, base, made);
	memset(made, 0, sizeof(*made));
	return -1;
}

int worktree_check_existing(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err)
{
	git_worktree *wt;
	struct stat st;

	/* Each says what takes the agent from there: rm removes what is
	 * left of it; gc, after a deleted worktree, keeps its branch. */
	if (!branch_exists(r, t->branch))
		return wtb_error_set(err, 0,
				     "branch '%s' of agent '%s' is missing ('wtbox rm --force %s' "
				     "removes the agent)",
				     t->branch, t->name, t->name);
	if (worktree_handle(r, t->admin, &wt) < 0)
		return wtb_error_set(err, 0,
				     "worktree of agent '%s' is not registered in git (no '%s' in "
				     "'%s/worktrees'; 'wtbox rm --force %s' removes the agent)",
				     t->name, t->admin, r->commondir, t->name);
	if (stat(t->path, &st) < 0 || !S_ISDIR(st.st_mode))
		return wtb_error_set(
		    err, 0,
		    "worktree directory '%s' of agent '%s' is missing ('wtbox gc' "
		    "tidies up after it and keeps its branch; 'wtbox rm %s' removes "
		    "the agent and its branch)",
		    t->path, t->name, t->name);
	/* An agent made before wtbox wrote "../..". */
	_cleanup_free_ char *admin = worktree_admin_dir(r, t);
	commondir_relative(r, admin);
	return 0;
}

int worktree_lock(wtb_repo *r, const wtb_tree_spec *t, const char *reason, wtb_error **err)
{
	git_worktree *wt;
	int rc = worktree_handle(r, t->admin, &wt);

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot lock worktree '%s'", t->path);
	/* A lock left by a dead supervisor (the caller has checked that no
	 * live one owns this agent) is replaced, with this run's reason. */
	if (git_worktree_is_locked(NULL, wt) > 0)
		git_worktree_unlock(wt);
	rc = git_worktree_lock(wt, reason);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot lock worktree '%s'", t->path);
	return 0;
}

int worktree_unlock(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err)
{
	git_worktree *wt;
	int rc = worktree_handle(r, t->admin, &wt);

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot unlock worktree '%s'", t->path);
	rc = git_worktree_unlock(wt);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot unlock worktree '%s'", t->path);
	return 0;
}

int worktree_locked_by_wtbox(wtb_repo *r, const wtb_tree_spec *t, wtb_error **err)
{
	pid_t pid;

	return worktree_lock_owner(r, t, &pid, err);
}

int worktree_lock_owner(wtb_repo *r, const wtb_tree_spec *t, pid_t *pid, wtb_error **err)
{
	git_buf reason = GIT_BUF_INIT;
	git_worktree *wt;
	const char *at;
	int rc = worktree_handle(r, t->admin, &wt);

	*pid = 0;
	if (rc == 0)
		rc = git_worktree_is_locked(&reason, wt);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read the lock of worktree '%s'", t->path);
	rc = rc > 0 && reason.ptr != NULL && str_has_prefix(reason.ptr, WTB_LOCK_REASON_PREFIX);
	/* "... (pid N)", as set_lock_reason writes it. */
	at = rc ? strrchr(reason.ptr, '(') : NULL;
	if (at != NULL && sscanf(at, "(pid %d)", pid) != 1)
		*pid = 0;
	git_buf_dispose(&reason);
	return rc;
}

char *worktree_path_of(wtb_repo *r, const char *admin)
{
	git_worktree *wt;

	if (worktree_handle(r, admin, &wt) < 0 || git_worktree_path(wt) == NULL)
		return NULL;
	return xstrdup(git_worktree_path(wt));
}

int worktree_remove(wtb_repo *r, const wtb_tree_spec *t, const git_oid *base,
		    const char *trash_entry, wtb_error **err)
{
	git_worktree_prune_options popts;
	_cleanup_worktree_ git_worktree *wt = NULL;
	_cleanup_free_ char *dest = path_join(trash_entry, "worktree");
	int rc;

	git_worktree_prune_options_init(&popts, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);

	drop_handle(r);
	rc = git_worktree_lookup(&wt, r->git, t->admin);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot find worktree of agent '%s'", t->name);
	/* A rename, not a delete: the trash keeps it for the grace period,
	 * so a wrong "changed nothing" verdict can still be undone. */
	if (rename(t->path, dest) < 0)
		return wtb_error_errno(err, "cannot move worktree '%s' to the trash '%s'", t->path,
				       dest);
	/* The directory is gone, so the worktree is no longer valid and
	 * prune only removes git's admin data (no PRUNE_WORKING_TREE). */
	popts.flags = GIT_WORKTREE_PRUNE_LOCKED;
	rc = git_worktree_prune(wt, &popts);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot prune worktree '%s'", t->admin);
	rc = with_lock_retry(branch_delete_op, r, t, base);
	if (rc == GIT_EMODIFIED)
		return wtb_error_set(err, 0, "branch '%s' moved; kept", t->branch);
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return wtb_error_git(err, rc, "cannot delete branch '%s'", t->branch);
	return 0;
}

int worktree_prune_admin(wtb_repo *r, const char *admin, wtb_error **err)
{
	git_worktree_prune_options popts;
	_cleanup_worktree_ git_worktree *wt = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/worktrees/%s", r->commondir, admin);
	int rc;

	drop_handle(r);
	/* Gone already (a removal that was interrupted after the prune):
	 * libgit2 says so only with a generic error. */
	if (!path_exists(dir))
		return 0;
	rc = git_worktree_lookup(&wt, r->git, admin);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot find worktree '%s'", admin);
	git_worktree_prune_options_init(&popts, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
	/* Without PRUNE_VALID, libgit2 refuses a worktree whose directory is
	 * still there: only admin data is ever removed here. */
	popts.flags = GIT_WORKTREE_PRUNE_LOCKED;
	rc = git_worktree_prune(wt, &popts);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot prune worktree '%s'", admin);
	return 0;
}

int worktree_discard(wtb_repo *r, const wtb_tree_spec *t, const char *trash_entry, bool *moved,
		     wtb_error **err)
{
	_cleanup_free_ char *dest = path_join(trash_entry, "worktree");

	*moved = false;
	if (path_exists(t->path)) {
		/* A rename, not a delete: the trash keeps it for the grace
		 * period. */
		if (rename(t->path, dest) < 0)
			return wtb_error_errno(err, "cannot move worktree '%s' to the trash '%s'",
					       t->path, dest);
		*moved = true;
	}
	return worktree_prune_admin(r, t->admin, err);
}

int worktree_list_vanished(wtb_repo *r, strv *admins, wtb_error **err)
{
	git_strarray names = {0};
	int rc = git_worktree_list(&names, r->git);

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot list the worktrees");
	for (size_t i = 0; i < names.count; i++) {
		_cleanup_worktree_ git_worktree *wt = NULL;

		if (!str_has_prefix(names.strings[i], "wtbox-") ||
		    git_worktree_lookup(&wt, r->git, names.strings[i]) < 0)
			continue;
		if (git_worktree_path(wt) != NULL && !path_exists(git_worktree_path(wt)))
			strv_push(admins, xstrdup(names.strings[i]));
	}
	git_strarray_dispose(&names);
	return 0;
}
