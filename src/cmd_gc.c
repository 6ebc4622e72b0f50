/* wtbox gc [--dry-run] [--json]: clean up after crashes in the current
 * repository: agents whose supervisor died (their git work is imported,
 * their worktree unlocked and kept), creations that died half-way,
 * worktrees whose directory vanished, port records of dead supervisors,
 * and trash past its grace period. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "error.h"
#include "filtercache.h"
#include "gitstate.h"
#include "name.h"
#include "nsenter.h"
#include "process.h"
#include "report.h"
#include "trash.h"
#include "unsaved.h"
#include "util.h"

/* An agent killed with its supervisor is recorded as killed by SIGKILL. */
#define ORPHAN_STATUS (128 + 9)

static const char gc_usage[] =
    "usage: wtbox gc [--dry-run] [--json]\n"
    "\n"
    "Clean up after crashes, in the current repository:\n"
    "  orphan       an agent whose wtbox was killed (its supervisor is gone: pid,\n"
    "               start time and boot id): its git work is imported, its\n"
    "               worktree unlocked and kept, its record marked exited\n"
    "  interrupted  an agent whose creation died half-way: its pieces are\n"
    "               removed (its branch only while it points at its base)\n"
    "  vanished     an agent whose worktree directory was deleted: its git work\n"
    "               is imported, git's admin data pruned, its state moved to the\n"
    "               trash; its branch is kept\n"
    "  removing     a removal that was interrupted (rm, or the end of a run that\n"
    "               changed nothing) is finished, unless its branches hold\n"
    "               commits found nowhere else ('wtbox rm --force NAME' then)\n"
    "  run          the sandbox pid a record of an agent that no longer runs\n"
    "               still names is cleared (its ports stay: the ports its next\n"
    "               run prefers)\n"
    "  lock         git's lock on the worktree of an agent that no longer runs,\n"
    "               left by a wtbox killed as it started, is removed\n"
    "  trash        trash entries past the grace period are deleted, and so are\n"
    "               deletions a killed wtbox left half-done\n"
    "  stage        half a pack an import left when its wtbox was killed (in\n"
    "               the repository's objects/wtbox-incoming-PID) is deleted, and\n"
    "               so is the keep file it put beside a pack it moved in\n"
    "               (objects/pack/pack-*.keep saying 'wtbox import PID ...'), with\n"
    "               the pack when that has no index\n"
    "  filters      compiled seccomp filters not used for 30 days are deleted\n"
    "gc removes no worktree and no branch, except to finish a removal that was\n"
    "interrupted, and then no branch that holds commits found nowhere else.\n"
    "Prints one line per thing done.\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run  change nothing, print what would be done\n"
    "      --json     print a JSON array of {kind, name, path, action, done}\n"
    "  -h, --help     show this help\n";

typedef struct gc_run {
	bool dry_run;
	bool json;
	wtb_gc_item *items;
	size_t n, cap;
	strv seen_admins; /* admin dirs already dealt with through a record */
	int failed;
} gc_run;

static void gc_run_free(gc_run *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->items[i].name);
		free(g->items[i].path);
		free(g->items[i].action);
	}
	free(g->items);
	strv_clear(&g->seen_admins);
}

static void add_item(gc_run *g, const char *kind, const char *name, const char *path,
		     const char *action)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 8;
		g->items = xrealloc(g->items, g->cap * sizeof(*g->items));
	}
	g->items[g->n++] = (wtb_gc_item){
	    .kind = kind, .name = xstrdup(name), .path = xstrdup(path), .action = xstrdup(action)};
	if (!g->json)
		printf("gc: %s '%s': %s: %s\n", kind, name, action, path);
}

static void item_failed(gc_run *g, wtb_error **err, const char *kind, const char *name)
{
	wtb_error_wrap(err, "gc: %s '%s'", kind, name);
	wtb_error_report(*err);
	wtb_error_free(err);
	g->failed++;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Its git work into the shared repository. What cannot be imported stays
 * in its git directory: returns false then, so that nothing of it goes. */
static bool import_work(wtb_agent *a)
{
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	_cleanup_error_ wtb_error *err = NULL;

	if (gitstate_import(&a->git, &a->repo, &a->spec, false, &imp, &err) < 0) {
		wtb_error_wrap(&err, "gc: agent '%s': its git work stays in its git directory",
			       a->name);
		wtb_error_report(err);
		return false;
	}
	import_print(stderr, a->name, &imp);
	return imp.refused.n == 0 && !imp.head_elsewhere;
}

/* What a run that is over no longer has. `updated` is left alone: it
 * says when the status last changed (ls shows it as SINCE), and clearing
 * these changes no status. The ports stay: the next run prefers them. */
static void clear_run(wtb_record *rec)
{
	rec->sandbox_pid = 0;
	rec->sandbox_start = 0;
}

/* The supervisor died while the agent ran: what the end of its run would
 * have done, except removal: the worktree is kept whatever it holds. */
static int gc_orphan(gc_run *g, wtb_agent *a, wtb_error **err)
{
	add_item(g, "orphan", a->name, a->spec.path,
		 "import its git work, unlock its worktree, mark it exited (worktree kept)");
	if (g->dry_run)
		return 0;
	agent_stash_nested_say(a);
	agent_run_files_drop(a->paths.state);
	import_work(a);
	if (worktree_unlock(&a->repo, &a->spec, err) < 0)
		return -1;
	a->rec.state = WTB_STATE_EXITED;
	a->rec.exit_status = ORPHAN_STATUS;
	a->rec.updated = (int64_t)time(NULL);
	clear_run(&a->rec);
	return record_save(a->paths.record, &a->rec, err);
}

/* The worktree directory is gone: git's admin data for it is pruned, the
 * state goes to the trash; the branch, which holds the commits, stays. */
static int gc_vanished(gc_run *g, wtb_agent *a, wtb_error **err)
{
	_cleanup_free_ char *entry = NULL, *dest = NULL;

	strv_push(&g->seen_admins, xstrdup(a->admin));
	add_item(g, "vanished", a->name, a->spec.path,
		 "import its git work, prune git's admin data, move its record and state to "
		 "the trash (branch kept)");
	if (g->dry_run)
		return 0;
	agent_run_files_drop(a->paths.state);
	if (!import_work(a))
		return wtb_error_set(err, 0, "its state is kept in '%s'", a->paths.state);
	/* Its own repositories may hold commits found nowhere else. */
	if (nested_any(a->paths.nested))
		return wtb_error_set(err, 0,
				     "its state is kept in '%s': nested/ holds git repositories "
				     "the agent made",
				     a->paths.state);
	if (worktree_prune_admin(&a->repo, a->admin, err) < 0 ||
	    trash_new_entry(a->paths.trash, a->repo.id, a->name, &entry, err) < 0)
		return -1;
	return trash_move(a->paths.state, entry, "state", a->paths.state_trash, &dest, err);
}

/* A removal that was interrupted (rm, or the end of a run that changed
 * nothing): finished, unless its branches hold commits found nowhere
 * else (then `wtbox rm --force` is the user's call). */
static int gc_removing(gc_run *g, wtb_agent *a, wtb_error **err)
{
	__attribute__((cleanup(unsaved_free))) wtb_unsaved u = {0};

	strv_push(&g->seen_admins, xstrdup(a->admin));
	add_item(g, "removing", a->name, a->spec.path,
		 "finish a removal that was interrupted (worktree and state to the trash)");
	if (g->dry_run)
		return 0;
	if (unsaved_branches(a, &u, err) < 0)
		return -1;
	if (u.unique > 0)
		return wtb_error_set(err, 0,
				     "its branches hold %zu commit%s found nowhere else; 'wtbox rm "
				     "--force %s' finishes the removal",
				     u.unique, u.unique == 1 ? "" : "s", a->name);
	return unsaved_remove(a, &u, err);
}

/* A record that is not running names a sandbox (written so by an older
 * wtbox): the pid is cleared. Its ports are not: they are the ones its
 * next run prefers, not a run's that died. */
static int gc_run_fields(gc_run *g, wtb_agent *a, wtb_error **err)
{
	add_item(g, "run", a->name, a->paths.record, "clear the sandbox pid of a run that is over");
	if (g->dry_run)
		return 0;
	clear_run(&a->rec);
	return record_save(a->paths.record, &a->rec, err);
}

/* git's lock on the worktree of an agent that does not run, set by a run
 * killed while it started (before its record named it): it would make
 * `git worktree remove` refuse. A lock someone else set is theirs. */
static int gc_lock(gc_run *g, wtb_agent *a, wtb_error **err)
{
	int r = worktree_locked_by_wtbox(&a->repo, &a->spec, err);

	if (r <= 0)
		return r;
	add_item(g, "lock", a->name, a->spec.path,
		 "unlock its worktree (locked by a wtbox that was killed as it started)");
	if (g->dry_run)
		return 0;
	return worktree_unlock(&a->repo, &a->spec, err);
}

/* One record. Nothing is done to an agent whose supervisor lives. */
static void gc_agent(gc_run *g, wtb_agent *a, const char *name)
{
	_cleanup_error_ wtb_error *err = NULL;
	const char *kind = "record";
	int r = 0;

	if (agent_load(a, name, &err) < 0) {
		wtb_error_wrap(&err, "gc: skipped");
		wtb_error_report(err);
		g->failed++;
		return;
	}
	if (record_supervisor_alive(&a->rec))
		return;
	if (a->rec.state == WTB_STATE_CREATING) {
		kind = "interrupted";
		add_item(g, kind, name, a->spec.path,
			 "remove the pieces of a creation that died half-way");
		strv_push(&g->seen_admins, xstrdup(a->admin));
		if (!g->dry_run)
			r = agent_drop_interrupted(a, &err);
	} else if (a->rec.state == WTB_STATE_REMOVING) {
		kind = "removing";
		r = gc_removing(g, a, &err);
	} else if (!dir_exists(a->spec.path)) {
		kind = "vanished";
		r = gc_vanished(g, a, &err);
	} else if (a->rec.state == WTB_STATE_RUNNING) {
		kind = "orphan";
		r = gc_orphan(g, a, &err);
	} else {
		if (a->rec.sandbox_pid != 0) {
			kind = "run";
			r = gc_run_fields(g, a, &err);
		}
		if (r == 0) {
			kind = "lock";
			r = gc_lock(g, a, &err);
		}
	}
	if (r < 0)
		item_failed(g, &err, kind, name);
}

/* Every record of this repository: <state>/<repo-id>/<name>/record.json. */
static int gc_records(gc_run *g, wtb_agent *a, wtb_error **err)
{
	_cleanup_free_ char *dir = path_join(a->dirs.state, a->repo.id);
	_cleanup_strvec_ strv names = {0};
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return errno == ENOENT ? 0 : wtb_error_errno(err, "cannot list '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		_cleanup_error_ wtb_error *nerr = NULL;

		/* The lock and temp files start with a dot; names cannot. */
		if (de->d_name[0] == '.' || strcmp(de->d_name, "trash") == 0)
			continue;
		if (name_validate(de->d_name, &nerr) == 0)
			strv_push(&names, xstrdup(de->d_name));
	}
	closedir(d);
	/* A stable order, for people and for tests. */
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(char *), str_ptr_cmp);
	for (size_t i = 0; i < names.n; i++) {
		gc_agent(g, a, names.v[i]);
		agent_unload(a);
	}
	return 0;
}

/* Admin dirs of agents' worktrees whose directory is gone, that no record
 * accounted for. */
static void gc_admins(gc_run *g, wtb_agent *a)
{
	_cleanup_strvec_ strv admins = {0};
	_cleanup_error_ wtb_error *err = NULL;

	if (worktree_list_vanished(&a->repo, &admins, &err) < 0) {
		item_failed(g, &err, "vanished", "*");
		return;
	}
	for (size_t i = 0; i < admins.n; i++) {
		_cleanup_free_ char *path = NULL;
		bool seen = false;

		for (size_t j = 0; j < g->seen_admins.n; j++)
			seen = seen || strcmp(g->seen_admins.v[j], admins.v[i]) == 0;
		if (seen)
			continue;
		path = xasprintf("%s/worktrees/%s", a->repo.commondir, admins.v[i]);
		add_item(g, "vanished", admins.v[i] + strlen("wtbox-"), path,
			 "prune git's admin data of a worktree whose directory is gone");
		if (!g->dry_run && worktree_prune_admin(&a->repo, admins.v[i], &err) < 0)
			item_failed(g, &err, "vanished", admins.v[i]);
	}
}

static void gc_trash(gc_run *g, const char *dir, long grace)
{
	_cleanup_strvec_ strv names = {0};

	trash_expired(dir, grace, &names);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(char *), str_ptr_cmp);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *path = path_join(dir, names.v[i]);
		_cleanup_error_ wtb_error *err = NULL;

		pid_t pid;

		add_item(g, "trash", names.v[i], path,
			 trash_deleting_entry(names.v[i], &pid) != NULL
			     ? "finish its deletion (its wtbox was killed half-way)"
			     : "delete (past the grace period)");
		if (!g->dry_run && trash_delete(dir, names.v[i], &err) < 0)
			item_failed(g, &err, "trash", names.v[i]);
	}
}

/* The keep file an import put beside its pack until its refs were
 * updated, left when its wtbox was killed: git's repack would keep that
 * pack for ever. Its pack goes too when its index never arrived. */
static void gc_keeps(gc_run *g, const char *objects)
{
	_cleanup_free_ char *dir = path_join(objects, "pack");
	_cleanup_strvec_ strv names = {0};
	struct dirent *de;
	_cleanup_dir_ DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid_t pid;
		bool now;

		if (gitstate_keep_owner(dir, de->d_name, &pid, &now) && (!now || !pid_exists(pid)))
			strv_push(&names, xstrdup(de->d_name));
	}
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(char *), str_ptr_cmp);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *path = path_join(dir, names.v[i]);
		_cleanup_error_ wtb_error *err = NULL;

		add_item(g, "stage", names.v[i], path,
			 gitstate_keep_half(dir, names.v[i])
			     ? "delete it and its pack, which has no index (an import whose "
			       "wtbox was killed)"
			     : "delete (the keep of an import whose wtbox was killed)");
		if (!g->dry_run && gitstate_keep_finish(dir, names.v[i], &err) < 0)
			item_failed(g, &err, "stage", names.v[i]);
	}
}

/* The stage directory of an import child whose wtbox was killed with it
 * (the wtbox removes its own child's otherwise): half a pack, never read
 * by git. Named after that wtbox's pid; a live pid keeps it. */
static void gc_stages(gc_run *g, const wtb_agent *a)
{
	static const char prefix[] = "wtbox-incoming-";
	_cleanup_free_ char *dir = path_join(a->repo.commondir, "objects");
	_cleanup_strvec_ strv names = {0};
	struct dirent *de;
	_cleanup_dir_ DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long pid;

		if (str_has_prefix(de->d_name, prefix) &&
		    parse_digits(de->d_name + strlen(prefix), INT_MAX, &pid) == 0 && pid > 0 &&
		    !pid_exists((pid_t)pid))
			strv_push(&names, xstrdup(de->d_name));
	}
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *path = path_join(dir, names.v[i]);
		_cleanup_error_ wtb_error *err = NULL;

		add_item(g, "stage", names.v[i], path,
			 "delete (half a pack of an import whose wtbox was killed)");
		if (!g->dry_run && remove_tree(path, &err) < 0)
			item_failed(g, &err, "stage", names.v[i]);
	}
	gc_keeps(g, dir);
}

/* Compiled filters (one per policy file and mode) that no run used for
 * FILTER_UNUSED_DAYS: a policy file used once, or moved, would otherwise
 * keep its entry for ever. One still in use costs its next run a compile.
 * Temp files a killed writer left go the same way. */
#define FILTER_UNUSED_DAYS 30

static void gc_filters(gc_run *g)
{
	_cleanup_free_ char *dir = filter_cache_dir();
	_cleanup_strvec_ strv names = {0};
	int64_t before = (int64_t)time(NULL) - FILTER_UNUSED_DAYS * 86400LL;
	struct dirent *de;
	_cleanup_dir_ DIR *d = dir ? opendir(dir) : NULL;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		/* The atime is when a run last read it (relatime updates it
		 * once a day); the mtime when it was last compiled. */
		if (strstr(de->d_name, ".bpf") != NULL &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_atim.tv_sec < before && st.st_mtim.tv_sec < before)
			strv_push(&names, xstrdup(de->d_name));
	}
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(char *), str_ptr_cmp);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *path = path_join(dir, names.v[i]);

		_cleanup_free_ char *action = xasprintf(
		    "delete (a compiled filter no run used for %d days)", FILTER_UNUSED_DAYS);

		add_item(g, "filters", names.v[i], path, action);
		if (!g->dry_run && unlink(path) < 0 && errno != ENOENT) {
			_cleanup_error_ wtb_error *err = NULL;

			wtb_error_errno(&err, "cannot delete '%s'", path);
			item_failed(g, &err, "filters", names.v[i]);
		}
	}
}

static int gc(gc_run *g, const wtb_global *gl, wtb_error **err)
{
	__attribute__((cleanup(agent_free))) wtb_agent a = WTB_AGENT_INIT;
	wtb_agent_opts o = {.dir = gl->dir};
	wtb_agent_paths p;

	if (agent_prepare(&a, &o, err) < 0)
		return -1;
	/* A dry run changes nothing, not even the lock file: it reads. */
	if (!g->dry_run && agent_lock(&a, err) < 0)
		return -1;
	if (gc_records(g, &a, err) < 0)
		return -1;
	gc_admins(g, &a);
	gc_stages(g, &a);
	agent_unlock(&a);
	/* The trash is the user's, shared by every repository. */
	agent_paths_init(&p, &a.dirs, a.repo.id, "-");
	gc_trash(g, p.trash, a.cfg.trash_grace);
	gc_trash(g, p.state_trash, a.cfg.trash_grace);
	gc_filters(g);
	agent_paths_free(&p);
	return 0;
}

static int gc_main(int argc, char **argv, const wtb_global *gl)
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	__attribute__((cleanup(gc_run_free))) gc_run g = {0};
	_cleanup_error_ wtb_error *err = NULL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			g.dry_run = true;
			break;
		case 'j':
			g.json = true;
			break;
		case 'h':
			fputs(gc_usage, stdout);
			return 0;
		default:
			return cmd_usage_error("gc", "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind < argc)
		return cmd_usage_error("gc", "unexpected argument '%s'", argv[optind]);
	if (!g.json && g.dry_run)
		printf("gc: dry run: nothing is changed\n");
	if (gc(&g, gl, &err) < 0)
		return wtb_error_report(err);
	if (g.json) {
		_cleanup_free_ char *text = gc_items_json(g.items, g.n, !g.dry_run);

		printf("%s\n", text);
	} else if (g.n == 0 && g.failed == 0) {
		printf("gc: nothing to do\n");
	} else if (g.n == 0) {
		printf("gc: nothing done; %d skipped (above)\n", g.failed);
	}
	return g.failed > 0 ? WTB_EXIT_ERROR : 0;
}

const wtb_command cmd_gc_def = {
    .name = "gc",
    .summary = "clean up after crashes: orphaned agents, vanished worktrees, old trash",
    .usage = gc_usage,
    .run = gc_main,
};
