#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "name.h"
#include "nsenter.h"
#include "process.h"
#include "report.h"
#include "trash.h"
#include "unsaved.h"
#include "util.h"

/* How long a run waits for another wtbox process that is creating or
 * removing a worktree of the same repository. Those steps take well under
 * a second; a minute means something is stuck. */
#define REPO_LOCK_TIMEOUT_MS 60000
/* Random names tried before falling back to numbered ones. */
#define NAME_ATTEMPTS 16

/* The agent's own directories under its state directory: they persist
 * across runs of the agent and go to the trash with it. */
static const char *const agent_subdirs[] = {"tmp", "cache", "home"};

void agent_free(wtb_agent *a)
{
	repo_close(&a->repo);
	dirs_free(&a->dirs);
	config_free(&a->cfg);
	agent_paths_free(&a->paths);
	record_free(&a->rec);
	free(a->name);
	free(a->branch);
	free(a->admin);
	free(a->lock_reason);
	gitstate_free(&a->git);
	closep(&a->lock_fd);
}

const char *agent_branch_short(const wtb_agent *a)
{
	return a->branch + strlen("refs/heads/");
}

static void set_name(wtb_agent *a, const char *name)
{
	a->name = xstrdup(name);
	a->branch = xasprintf("refs/heads/wtbox/%s", name);
	a->admin = xasprintf("wtbox-%s", name);
	agent_paths_init(&a->paths, &a->dirs, a->repo.id, name);
	a->spec = (wtb_tree_spec){
	    .name = a->name, .branch = a->branch, .admin = a->admin, .path = a->paths.worktree};
	gitstate_init(&a->git, &a->repo, a->paths.state, a->name);
	a->git.timeout = a->cfg.import_timeout;
}

static void clear_name(wtb_agent *a)
{
	free(a->name);
	free(a->branch);
	free(a->admin);
	a->name = a->branch = a->admin = NULL;
	agent_paths_free(&a->paths);
	gitstate_free(&a->git);
}

/* Find the repository, the configuration and the base commit; check the
 * name. Nothing is created yet. */
int agent_prepare(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err)
{
	if (o->name != NULL && name_validate(o->name, err) < 0)
		return -1;
	if (repo_open(&a->repo, o->dir ? o->dir : ".", o->base == NULL, err) < 0)
		return -1;
	if (repo_resolve_commit(&a->repo, o->base, &a->base, err) < 0)
		return -1;
	if (dirs_from_env(&a->dirs, err) < 0)
		return -1;
	if (config_load(&a->cfg, a->dirs.config, a->repo.workdir, err) < 0)
		return -1;
	return 0;
}

static int lock_repo(wtb_agent *a, wtb_error **err)
{
	_cleanup_free_ char *dir = path_join(a->dirs.state, a->repo.id);
	_cleanup_free_ char *lock = repo_lock_path(&a->dirs, a->repo.id);

	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (lock_file(lock, REPO_LOCK_TIMEOUT_MS, &a->lock_fd, err) < 0)
		return wtb_error_wrap(err, "cannot lock repository '%s'", a->repo.workdir);
	return 0;
}

static bool record_exists(const wtb_agent *a)
{
	struct stat st;

	return lstat(a->paths.record, &st) == 0;
}

static int pick_name(wtb_agent *a, wtb_error **err);
static int load_existing(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err);

int agent_preview(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err)
{
	if (o->name == NULL)
		return pick_name(a, err);
	set_name(a, o->name);
	/* What a run would refuse, the dry run refuses too. */
	if (record_exists(a) && load_existing(a, o, err) < 0)
		return -1;
	return 0;
}

/* Under the repository lock: a name no agent, branch or directory has. */
static int pick_name(wtb_agent *a, wtb_error **err)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (unsigned i = 0; i < NAME_ATTEMPTS + 100; i++) {
		_cleanup_free_ char *n = i < NAME_ATTEMPTS
					     ? name_generate(seed + i, 0)
					     : name_generate(seed, i - NAME_ATTEMPTS + 1);

		set_name(a, n);
		if (!record_exists(a) && worktree_is_free(&a->repo, &a->spec))
			return 0;
		clear_name(a);
	}
	return wtb_error_set(err, 0, "cannot find a free agent name; give one with --name");
}

static void stamp_supervisor(wtb_agent *a)
{
	free(a->rec.boot_id);
	a->rec.pid = getpid();
	a->rec.pid_start = proc_start_time(a->rec.pid);
	a->rec.boot_id = boot_id();
	a->rec.state = WTB_STATE_RUNNING;
	a->rec.exit_status = 0;
	a->rec.updated = (int64_t)time(NULL);
	/* How the last run ended is not this one's. */
	a->rec.sandbox_pid = 0;
	a->rec.sandbox_start = 0;
	a->rec.signal = 0;
	a->rec.stopped = false;
	a->rec.counted = false;
}

static int make_subdirs(wtb_agent *a, wtb_error **err)
{
	if (mkdir_p(a->paths.state, 0700, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(agent_subdirs); i++) {
		_cleanup_free_ char *dir = path_join(a->paths.state, agent_subdirs[i]);

		if (mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	return 0;
}

/* The record of agent `a` as its creation writes it. */
static wtb_record new_record(const wtb_agent *a, const char *base_hex, const char *worktree)
{
	return (wtb_record){
	    .name = xstrdup(a->name),
	    .repo_id = xstrdup(a->repo.id),
	    .repo = xstrdup(a->repo.commondir),
	    .workdir = xstrdup(a->repo.workdir),
	    .branch = xstrdup(a->branch),
	    .base = xstrdup(base_hex),
	    .worktree = xstrdup(worktree),
	    .admin = xstrdup(a->admin),
	    .created = (int64_t)time(NULL),
	};
}

/* A new agent: record ("creating"), branch, worktree, lock, record
 * ("running"); all rolled back on error. The record goes first so that
 * when wtbox dies half-way, the next run knows the pieces are its own. */
static int create_agent(wtb_agent *a, wtb_error **err)
{
	char base_hex[GIT_OID_HEXSZ + 1];
	wtb_created made = {0};
	bool state_made = false;
	struct stat st;

	git_oid_tostr(base_hex, sizeof(base_hex), &a->base);
	if (mkdir_p(a->paths.repo_data, 0700, err) < 0 ||
	    worktree_check_free(&a->repo, &a->spec, err) < 0) {
		(void)rmdir(a->paths.repo_data); /* when it is empty */
		return wtb_error_wrap(err, "cannot create agent '%s'", a->name);
	}
	a->rec = new_record(a, base_hex, a->paths.worktree);
	stamp_supervisor(a);
	a->rec.state = WTB_STATE_CREATING;
	state_made = lstat(a->paths.state, &st) < 0;
	if (make_subdirs(a, err) < 0 || record_save(a->paths.record, &a->rec, err) < 0)
		goto fail;
	if (worktree_create(&a->repo, &a->spec, &a->base, a->lock_reason, &made, err) < 0)
		goto fail;
	a->rec.state = WTB_STATE_RUNNING;
	if (record_save(a->paths.record, &a->rec, err) < 0 || WTB_FAULT("after-record", err) < 0)
		goto fail;
	a->created = true;
	a->made = made;
	return 0;
fail:
	if (state_made) {
		_cleanup_error_ wtb_error *rm_err = NULL;

		if (remove_tree(a->paths.state, &rm_err) < 0)
			wtb_error_report(rm_err);
	}
	worktree_rollback(&a->repo, &a->spec, &a->base, &made);
	(void)rmdir(a->paths.repo_data);
	return wtb_error_wrap(err, "cannot create agent '%s'", a->name);
}

/* A creation that died half-way (its record still says "creating", its
 * supervisor is gone): nothing ran in it, so what exists of it goes, and
 * the agent is created anew. The branch goes only while it still points at
 * the base. */
static int finish_interrupted_creation(wtb_agent *a, wtb_error **err)
{
	_cleanup_free_ char *worktrees = path_join(a->repo.commondir, "worktrees");
	_cleanup_free_ char *admin = path_join(worktrees, a->admin);
	wtb_created made;
	git_oid recorded, tip;
	struct stat st;

	if (git_oid_fromstr(&recorded, a->rec.base) < 0)
		return wtb_error_set(err, 0, "agent record '%s' has an invalid base '%s'",
				     a->paths.record, a->rec.base);
	fprintf(stderr, "wtbox: agent '%s': cleaning up a creation that was interrupted\n",
		a->name);
	made = (wtb_created){
	    .branch = git_reference_name_to_id(&tip, a->repo.git, a->branch) == 0,
	    .admin = lstat(admin, &st) == 0,
	    .dir = lstat(a->rec.worktree, &st) == 0,
	};
	a->spec.path = a->rec.worktree;
	worktree_rollback(&a->repo, &a->spec, &recorded, &made);
	a->spec.path = a->paths.worktree;
	if (remove_tree(a->paths.state, err) < 0)
		return -1;
	record_free(&a->rec);
	return 0;
}

/* An existing agent (its record loaded): continue its work in the same
 * worktree and branch. */
static int reuse_agent(wtb_agent *a, wtb_error **err)
{
	if (worktree_check_existing(&a->repo, &a->spec, err) < 0 || make_subdirs(a, err) < 0)
		return -1;
	if (worktree_lock(&a->repo, &a->spec, a->lock_reason, err) < 0)
		return -1;
	/* Its own repositories, moved out when its last run ended. */
	nested_restore(a->name, a->spec.path, a->paths.nested);
	/* Written by agent_publish, under the lock acquire keeps. */
	stamp_supervisor(a);
	a->unpublished = true;
	return 0;
}

/* A record exists: load it and say whether a run may take the agent over
 * (refused while it runs, while a removal is unfinished, and for a --base
 * other than its own). For an agent that ran before, its base and worktree
 * come from the record. Shared by a run and its --dry-run. */
static int load_existing(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err)
{
	git_oid recorded;

	if (record_load(a->paths.record, &a->rec, err) < 0)
		return -1;
	if (record_supervisor_alive(&a->rec))
		return wtb_error_set(err, 0, "agent '%s' is %s (pid %d)", a->name,
				     a->rec.state == WTB_STATE_CREATING	  ? "being created"
				     : a->rec.state == WTB_STATE_REMOVING ? "being removed"
									  : "running",
				     (int)a->rec.pid);
	if (a->rec.state == WTB_STATE_REMOVING)
		return wtb_error_set(err, 0,
				     "agent '%s' was being removed when its wtbox was killed; "
				     "'wtbox rm %s' finishes the removal",
				     a->name, a->name);
	if (a->rec.state == WTB_STATE_CREATING)
		return 0;
	if (git_oid_fromstr(&recorded, a->rec.base) < 0)
		return wtb_error_set(err, 0, "agent record '%s' has an invalid base '%s'",
				     a->paths.record, a->rec.base);
	if (o->base != NULL && !git_oid_equal(&recorded, &a->base))
		return wtb_error_set(err, 0,
				     "agent '%s' already exists with base %.12s; --base applies "
				     "only to a new agent",
				     a->name, a->rec.base);
	git_oid_cpy(&a->base, &recorded);
	/* The record knows where this agent's worktree is, even if the XDG
	 * directories changed since. */
	a->spec.path = a->rec.worktree;
	return 0;
}

/* A record exists: reuse the agent, or finish a creation that died. */
static int resume_agent(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err)
{
	if (load_existing(a, o, err) < 0)
		return -1;
	if (a->rec.state != WTB_STATE_CREATING)
		return reuse_agent(a, err);
	if (finish_interrupted_creation(a, err) < 0)
		return wtb_error_wrap(err, "cannot create agent '%s'", a->name);
	return create_agent(a, err);
}

/* The private git directory, before the sandbox starts. An existing agent
 * may have work that was never imported (its supervisor was killed): that
 * comes first. If it cannot be imported, the directory stays as it is. */
static int prepare_git(wtb_agent *a, wtb_error **err)
{
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	_cleanup_error_ wtb_error *ierr = NULL;

	if (!a->created) {
		if (gitstate_import(&a->git, &a->repo, &a->spec, false, &imp, &ierr) < 0) {
			wtb_error_report(ierr);
			fprintf(
			    stderr,
			    "wtbox: agent '%s': its git directory is used as it is; nothing of it "
			    "is lost\n",
			    a->name);
			return 0;
		}
		import_print(stderr, a->name, &imp);
	}
	return gitstate_refresh(&a->git, &a->repo, &a->spec, true, err);
}

/* What `git worktree list` says while the run holds the worktree: the
 * agent and the process that supervises it. */
static void set_lock_reason(wtb_agent *a)
{
	free(a->lock_reason);
	a->lock_reason = xasprintf(WTB_LOCK_REASON_PREFIX "%s' (pid %d)", a->name, (int)getpid());
}

/* Under the repository lock: name, then create or reuse. */
int agent_acquire(wtb_agent *a, const wtb_agent_opts *o, wtb_error **err)
{
	int r;

	if (lock_repo(a, err) < 0)
		return -1;
	if (o->name != NULL)
		set_name(a, o->name);
	else if (pick_name(a, err) < 0)
		return -1;
	set_lock_reason(a);
	r = record_exists(a) ? resume_agent(a, o, err) : create_agent(a, err);
	if (r == 0 && prepare_git(a, err) < 0) {
		agent_abandon(a);
		return -1;
	}
	if (r < 0 || !a->unpublished)
		closep(&a->lock_fd);
	return r;
}

int agent_publish(wtb_agent *a, wtb_error **err)
{
	int r = 0;

	if (a->unpublished || a->rec.pid != getpid()) {
		/* -d: the caller locked the worktree and returns once the
		 * command runs; the lock names the process that stays. */
		if (a->rec.pid != getpid()) {
			set_lock_reason(a);
			r = worktree_lock(&a->repo, &a->spec, a->lock_reason, err);
		}
		stamp_supervisor(a);
		if (r == 0)
			r = WTB_FAULT("publish", err);
		if (r == 0)
			r = record_update(a->paths.record, &a->rec, err);
		if (r == 0)
			a->unpublished = false;
	}
	/* Kept after a failure: until agent_abandon is done, no other run
	 * may take over an agent whose record still names a dead
	 * supervisor. */
	if (r == 0)
		closep(&a->lock_fd);
	return r;
}

int agent_lock(wtb_agent *a, wtb_error **err)
{
	return lock_repo(a, err);
}

void agent_unlock(wtb_agent *a)
{
	closep(&a->lock_fd);
}

int agent_load(wtb_agent *a, const char *name, wtb_error **err)
{
	set_name(a, name);
	if (!record_exists(a))
		return wtb_error_set(err, 0, "no agent '%s' in repository '%s'", a->name,
				     a->repo.workdir);
	if (record_load(a->paths.record, &a->rec, err) < 0)
		return -1;
	/* The record knows where the worktree is and what the base was. */
	a->spec.path = a->rec.worktree;
	if (git_oid_fromstr(&a->base, a->rec.base) < 0)
		return wtb_error_set(err, 0, "agent record '%s' has an invalid base '%s'",
				     a->paths.record, a->rec.base);
	return 0;
}

int agent_salvage(wtb_agent *a, const char *name, wtb_error **err)
{
	_cleanup_free_ char *aside = NULL, *worktree = NULL;
	char base_hex[GIT_OID_HEXSZ + 1];
	wtb_record rebuilt;
	git_oid tip;
	pid_t pid = 0;
	int locked = 0;

	agent_unload(a);
	set_name(a, name);
	if (!record_exists(a))
		return wtb_error_set(err, 0, "no agent '%s' in repository '%s'", a->name,
				     a->repo.workdir);
	/* Where git says the worktree is, when that is where wtbox puts an
	 * agent's: anything else is not wtbox's to move to the trash. */
	worktree = worktree_path_of(&a->repo, a->admin);
	if (worktree != NULL && strcmp(worktree, a->paths.worktree) != 0 &&
	    !worktree_path_is_wtbox(worktree, a->name, NULL))
		return wtb_error_set(
		    err, 0,
		    "agent '%s': its record cannot be read and git's worktree '%s' "
		    "is at '%s', not where wtbox puts agents; nothing was removed",
		    a->name, a->admin, worktree);
	/* A wtbox process holds the worktree while it runs the agent. */
	if (worktree != NULL) {
		wtb_tree_spec t = a->spec;

		t.path = worktree;
		locked = worktree_lock_owner(&a->repo, &t, &pid, err);
	}
	if (locked < 0)
		return -1;
	if (locked > 0 && pid > 0 && pid_exists(pid))
		return wtb_error_set(err, 0,
				     "agent '%s': its record cannot be read and git's lock on its "
				     "worktree names pid %d, which is alive; stop it first (or, if "
				     "it is not wtbox, 'git worktree unlock %s')",
				     a->name, (int)pid, worktree);
	if (locked > 0 && pid <= 0)
		return wtb_error_set(err, 0,
				     "agent '%s': its record cannot be read and git's lock on its "
				     "worktree names no process; 'git worktree unlock %s' once no "
				     "wtbox runs it",
				     a->name, worktree);
	/* The base only says what the branch was made from; rm decides by
	 * the branches as they are. */
	if (git_reference_name_to_id(&tip, a->repo.git, a->branch) < 0 &&
	    git_reference_name_to_id(&tip, a->repo.git, "HEAD") < 0)
		memset(&tip, 0, sizeof(tip));
	git_oid_tostr(base_hex, sizeof(base_hex), &tip);
	rebuilt = new_record(a, base_hex, worktree != NULL ? worktree : a->paths.worktree);
	rebuilt.state = WTB_STATE_EXITED;
	/* Never without a record: the old one is linked aside (it goes to
	 * the trash with the state), then the rebuilt one replaces it. */
	aside = xasprintf("%s.unreadable.%lld", a->paths.record, (long long)time(NULL));
	if (link(a->paths.record, aside) < 0) {
		record_free(&rebuilt);
		return wtb_error_errno(err, "cannot keep record '%s' as '%s'", a->paths.record,
				       aside);
	}
	if (record_save(a->paths.record, &rebuilt, err) < 0) {
		(void)unlink(aside);
		record_free(&rebuilt);
		return -1;
	}
	if (WTB_FAULT("rm-salvaged", err) < 0) {
		record_free(&rebuilt);
		return -1;
	}
	fprintf(stderr, "wtbox: agent '%s': its record cannot be read; kept as '%s'\n", a->name,
		aside);
	record_free(&a->rec);
	a->rec = rebuilt;
	a->spec.path = a->rec.worktree;
	git_oid_cpy(&a->base, &tip);
	return 0;
}

int agent_sync(wtb_agent *a, const wtb_agent_opts *o, wtb_import *imp, wtb_error **err)
{
	int r;

	if (lock_repo(a, err) < 0)
		return -1;
	r = agent_load(a, o->name, err);
	if (r == 0 && a->rec.state == WTB_STATE_CREATING)
		r = wtb_error_set(err, 0, "agent '%s' is being created", a->name);
	if (r == 0 && a->rec.state == WTB_STATE_REMOVING)
		r = wtb_error_set(err, 0, "agent '%s' is being removed", a->name);
	if (r == 0)
		r = gitstate_import(&a->git, &a->repo, &a->spec, true, imp, err);
	closep(&a->lock_fd);
	return r;
}

void agent_unload(wtb_agent *a)
{
	clear_name(a);
	record_free(&a->rec);
	memset(&a->rec, 0, sizeof(a->rec));
}

int agent_drop_interrupted(wtb_agent *a, wtb_error **err)
{
	return finish_interrupted_creation(a, err);
}

int agent_mark_removing(wtb_agent *a, wtb_error **err)
{
	stamp_supervisor(a);
	a->rec.state = WTB_STATE_REMOVING;
	return record_save(a->paths.record, &a->rec, err);
}

/* Move an unchanged agent into a new trash entry. The record says
 * "removing" first: killed half-way, the name is not left with a branch
 * and a worktree but no record (`wtbox rm` or gc finish the removal). */
static int remove_agent(wtb_agent *a, char **entry, wtb_error **err)
{
	_cleanup_free_ char *state_dest = NULL;
	_cleanup_error_ wtb_error *back_err = NULL;
	struct stat st;

	if (agent_mark_removing(a, err) < 0)
		return -1;
	if (trash_new_entry(a->paths.trash, a->repo.id, a->name, entry, err) < 0 ||
	    WTB_FAULT("remove-start", err) < 0 ||
	    worktree_remove(&a->repo, &a->spec, &a->base, *entry, err) < 0) {
		/* Worktree still in place: the agent stays whole, as it was. */
		if (lstat(a->spec.path, &st) == 0) {
			a->rec.state = WTB_STATE_RUNNING;
			if (record_save(a->paths.record, &a->rec, &back_err) < 0)
				wtb_error_report(back_err);
		}
		return -1;
	}
	if (trash_move(a->paths.state, *entry, "state", a->paths.state_trash, &state_dest, err) < 0)
		return -1;
	return 0;
}

int agent_record_started(wtb_agent *a, pid_t init, wtb_error **err)
{
	a->rec.sandbox_pid = init;
	a->rec.sandbox_start = proc_start_time(init);
	a->rec.updated = (int64_t)time(NULL);
	return record_update(a->paths.record, &a->rec, err);
}

/* The branches the agent made besides its own (wtbox/NAME@BRANCH, short
 * names): its work even when they hold no new commit, and refs that would
 * be left without an agent if it were removed. */
static int other_branches(wtb_agent *a, strv *out, wtb_error **err)
{
	strv refs = {0}, tips = {0};
	int r = agent_branches(&a->repo, a->name, &refs, &tips, err);

	for (size_t i = 0; r == 0 && i < refs.n; i++)
		if (strcmp(refs.v[i], a->branch) != 0)
			strv_push(out, xstrdup(refs.v[i] + strlen("refs/heads/")));
	strv_clear(&refs);
	strv_clear(&tips);
	return r;
}

static int keep_agent(wtb_agent *a, int status, wtb_error **err)
{
	if (worktree_unlock(&a->repo, &a->spec, err) < 0)
		return -1;
	a->rec.state = WTB_STATE_EXITED;
	a->rec.exit_status = status;
	a->rec.sandbox_pid = 0;
	a->rec.sandbox_start = 0;
	a->rec.updated = (int64_t)time(NULL);
	return record_update(a->paths.record, &a->rec, err);
}

/* What `ls` shows of an ended run: commits ahead, and files changed (a
 * file both staged and modified counts once). */
static void record_count_changes(wtb_record *r, const wtb_changes *ch)
{
	const strv *lists[] = {&ch->staged, &ch->modified, &ch->deleted, &ch->untracked,
			       &ch->ignored};
	size_t n = 0, k = 0, distinct = 0;
	const char **all;

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		n += lists[i]->n;
	all = xcalloc(n + 1, sizeof(*all));
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		for (size_t j = 0; j < lists[i]->n; j++)
			all[k++] = lists[i]->v[j];
	qsort(all, n, sizeof(*all), str_ptr_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(all[i], all[i - 1]) != 0)
			distinct++;
	free(all);
	r->counted = true;
	r->ahead = (uint32_t)(ch->ahead > UINT32_MAX ? UINT32_MAX : ch->ahead);
	r->dirty = (uint32_t)(distinct > UINT32_MAX ? UINT32_MAX : distinct);
}

/* Under the repository lock: the "changed nothing" rule, then remove or
 * keep, then the report. */
int agent_finish(wtb_agent *a, const wtb_agent_opts *o, int status, wtb_error **err)
{
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	_cleanup_error_ wtb_error *import_err = NULL;
	_cleanup_free_ char *import_msg = NULL;
	wtb_changes ch = {0};
	_cleanup_free_ char *entry = NULL;
	char base_hex[GIT_OID_HEXSZ + 1];
	wtb_report rep;
	int r = -1;

	git_oid_tostr(base_hex, sizeof(base_hex), &a->base);
	/* The sandbox is gone: what exec needed to enter it goes too. */
	agent_run_files_drop(a->paths.state);
	/* Still held when the sandbox never got as far as publishing. */
	if (a->lock_fd < 0 && lock_repo(a, err) < 0)
		return -1;
	/* Before anything of the host's opens the worktree. */
	{
		wtb_nested n = {0};

		agent_stash_nested(a, &n);
		ch.nested = n.stored;
		ch.nested_stuck = n.stuck;
	}
	/* The agent's git work first: the verdict looks at the host's side. */
	a->import_us = now_us();
	if (gitstate_import(&a->git, &a->repo, &a->spec, false, &imp, &import_err) < 0) {
		import_msg = wtb_error_text(import_err);
		wtb_error_report(import_err);
	}
	a->import_us = now_us() - a->import_us;
	if (changes_collect(&a->repo, &a->spec, &a->base, &a->cfg, &ch, err) < 0 ||
	    other_branches(a, &ch.branches, err) < 0) {
		_cleanup_error_ wtb_error *keep_err = NULL;

		/* Without a verdict nothing may go: keep it all. */
		keep_agent(a, status, &keep_err);
		wtb_error_wrap(err, "agent '%s' kept", a->name);
		goto out;
	}
	record_count_changes(&a->rec, &ch);
	rep = (wtb_report){.name = a->name,
			   .repo = a->repo.commondir,
			   .branch = a->branch + strlen("refs/heads/"),
			   .worktree = a->spec.path,
			   .nested_store = a->paths.nested,
			   .base = base_hex,
			   .changes = &ch,
			   .import = &imp,
			   .import_error = import_msg,
			   .exit_status = status};
	/* What was not imported is still only in the agent's git directory. */
	if (!changes_any(&ch) && import_msg == NULL && imp.refused.n == 0 && !imp.head_elsewhere &&
	    !o->keep) {
		r = remove_agent(a, &entry, err);
		rep.removed = r == 0;
		rep.trash = entry;
	} else {
		r = keep_agent(a, status, err);
	}
	if (entry != NULL) {
		_cleanup_free_ char *copy = path_join(entry, "report.json");
		_cleanup_error_ wtb_error *werr = NULL;

		/* The trash entry says what it was, for whoever restores it. */
		report_write(copy, &rep, &werr);
	}
	if (r < 0)
		goto out;
	if (o->report != NULL)
		r = report_write(o->report, &rep, err);
	import_print(stderr, a->name, &imp);
	report_print(stderr, &rep);
out:
	closep(&a->lock_fd);
	changes_free(&ch);
	return r;
}

void agent_abandon(wtb_agent *a)
{
	_cleanup_error_ wtb_error *err = NULL;

	/* Still held when the record was never published. */
	if (a->lock_fd < 0 && lock_repo(a, &err) < 0) {
		wtb_error_report(err);
		wtb_error_free(&err);
		fprintf(stderr, "wtbox: agent '%s' kept as it is\n", a->name);
		return;
	}
	if (!a->created) {
		/* Refused before its record named this run (a taken port, say):
		 * the record stays as the last run left it, only the lock
		 * goes. After that, the record says this run failed. */
		agent_stash_nested_say(a);
		if ((a->unpublished ? worktree_unlock(&a->repo, &a->spec, &err)
				    : keep_agent(a, WTB_EXIT_ERROR, &err)) < 0)
			wtb_error_report(err);
		closep(&a->lock_fd);
		return;
	}
	/* Nothing ran in it: remove exactly what this run made, as a failed
	 * creation would. */
	if (remove_tree(a->paths.state, &err) < 0) {
		wtb_error_report(err);
		wtb_error_free(&err);
	}
	worktree_rollback(&a->repo, &a->spec, &a->base, &a->made);
	/* The repository's directory of worktrees, if this was its first:
	 * rmdir takes only an empty one. */
	(void)rmdir(a->paths.repo_data);
	closep(&a->lock_fd);
}

void agent_stash_nested(wtb_agent *a, wtb_nested *n)
{
	_cleanup_error_ wtb_error *err = NULL;

	if (nested_stash(a->spec.path, a->paths.nested, n, &err) < 0)
		strv_push(&n->stuck, wtb_error_text(err));
}

void agent_stash_nested_say(wtb_agent *a)
{
	wtb_nested n = {0};

	agent_stash_nested(a, &n);
	for (size_t i = 0; i < n.stuck.n; i++) {
		_cleanup_free_ char *shown = term_escape(n.stuck.v[i]);

		fprintf(stderr,
			"wtbox: agent '%s': a git repository in its worktree stays there: %s\n",
			a->name, shown);
	}
	nested_free(&n);
}

void agent_sweep_trash(const wtb_agent *a)
{
	trash_sweep(a->paths.trash, a->cfg.trash_grace);
	trash_sweep(a->paths.state_trash, a->cfg.trash_grace);
}
