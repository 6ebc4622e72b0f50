/* wtbox run: one agent, one worktree, one command. The order of the whole
 * run is run_agent(); each step is a function below it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "error.h"
#include "fault.h"
#include "name.h"
#include "paths.h"
#include "process.h"
#include "report.h"
#include "state.h"
#include "trash.h"
#include "util.h"
#include "worktree.h"

extern char **environ;

/* How long a run waits for another wtbox process that is creating or
 * removing a worktree of the same repository. Those steps take well under
 * a second; a minute means something is stuck. */
#define REPO_LOCK_TIMEOUT_MS 60000
/* Random names tried before falling back to numbered ones. */
#define NAME_ATTEMPTS 16

static const char run_usage[] =
    "usage: wtbox run [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD in the agent's own worktree on branch wtbox/NAME, created from REV\n"
    "(or reused when the agent exists). When CMD ends, a worktree in which\n"
    "nothing changed is removed (to the trash); otherwise it is kept and a report\n"
    "says what changed. The exit status is CMD's (125: wtbox failed, 126: CMD\n"
    "not executable, 127: CMD not found, 128+N: CMD killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -n, --name NAME     agent name (default: a generated one); letters, digits,\n"
    "                      '.', '_', '-', at most 64\n"
    "  -b, --base REV      start the branch from REV (default: HEAD)\n"
    "  -k, --keep          keep the worktree even if nothing changed\n"
    "  -r, --report FILE   write the report as JSON to FILE\n"
    "  -h, --help          show this help\n";

typedef struct run_opts {
	const char *name;
	const char *base;
	const char *report;
	bool keep;
	char **argv;
} run_opts;

/* Everything one run holds; released by run_free(). */
typedef struct run_state {
	wtb_repo repo;
	wtb_dirs dirs;
	wtb_config cfg;
	wtb_agent_paths paths;
	wtb_record rec;
	char *name;
	char *branch; /* refs/heads/wtbox/<name> */
	char *admin;
	char *lock_reason;
	git_oid base;
	wtb_tree_spec spec;
	int lock_fd;
} run_state;

static void run_free(run_state *s)
{
	repo_close(&s->repo);
	dirs_free(&s->dirs);
	config_free(&s->cfg);
	agent_paths_free(&s->paths);
	record_free(&s->rec);
	free(s->name);
	free(s->branch);
	free(s->admin);
	free(s->lock_reason);
	closep(&s->lock_fd);
}

static int parse_opts(int argc, char **argv, run_opts *o, int *exit_now)
{
	static const struct option longopts[] = {
	    {"name", required_argument, NULL, 'n'}, {"base", required_argument, NULL, 'b'},
	    {"keep", no_argument, NULL, 'k'},	    {"report", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:n:b:kr:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			o->name = optarg;
			break;
		case 'b':
			o->base = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'r':
			o->report = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			*exit_now = 0;
			return -1;
		case ':':
			*exit_now = cmd_usage_error("run", "option '%s' needs an argument",
						    cmd_bad_option(argv));
			return -1;
		default:
			*exit_now =
			    cmd_usage_error("run", "unknown option '%s'", cmd_bad_option(argv));
			return -1;
		}
	}
	if (optind >= argc) {
		*exit_now = cmd_usage_error("run", "no command given");
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

static void set_name(run_state *s, const char *name)
{
	s->name = xstrdup(name);
	s->branch = xasprintf("refs/heads/wtbox/%s", name);
	s->admin = xasprintf("wtbox-%s", name);
	agent_paths_init(&s->paths, &s->dirs, s->repo.id, name);
	s->spec = (wtb_tree_spec){
	    .name = s->name, .branch = s->branch, .admin = s->admin, .path = s->paths.worktree};
}

static void clear_name(run_state *s)
{
	free(s->name);
	free(s->branch);
	free(s->admin);
	s->name = s->branch = s->admin = NULL;
	agent_paths_free(&s->paths);
}

/* Find the repository, the configuration and the base commit; check the
 * name. Nothing is created yet. */
static int run_prepare(run_state *s, const run_opts *o, const wtb_global *g, wtb_error **err)
{
	if (o->name != NULL && name_validate(o->name, err) < 0)
		return -1;
	if (repo_open(&s->repo, g->dir ? g->dir : ".", o->base == NULL, err) < 0)
		return -1;
	if (repo_resolve_commit(&s->repo, o->base, &s->base, err) < 0)
		return -1;
	if (dirs_from_env(&s->dirs, err) < 0)
		return -1;
	if (config_load(&s->cfg, s->dirs.config, s->repo.workdir, err) < 0)
		return -1;
	return 0;
}

static int lock_repo(run_state *s, wtb_error **err)
{
	_cleanup_free_ char *dir = path_join(s->dirs.state, s->repo.id);
	_cleanup_free_ char *lock = repo_lock_path(&s->dirs, s->repo.id);

	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (lock_file(lock, REPO_LOCK_TIMEOUT_MS, &s->lock_fd, err) < 0)
		return wtb_error_wrap(err, "cannot lock repository '%s'", s->repo.workdir);
	return 0;
}

static bool record_exists(const run_state *s)
{
	struct stat st;

	return lstat(s->paths.record, &st) == 0;
}

/* Under the repository lock: a name no agent, branch or directory has. */
static int pick_name(run_state *s, wtb_error **err)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (unsigned i = 0; i < NAME_ATTEMPTS + 100; i++) {
		_cleanup_free_ char *n = i < NAME_ATTEMPTS
					     ? name_generate(seed + i, 0)
					     : name_generate(seed, i - NAME_ATTEMPTS + 1);

		set_name(s, n);
		if (!record_exists(s) && worktree_is_free(&s->repo, &s->spec))
			return 0;
		clear_name(s);
	}
	return wtb_error_set(err, 0, "cannot find a free agent name; give one with --name");
}

static void stamp_supervisor(run_state *s)
{
	free(s->rec.boot_id);
	s->rec.pid = getpid();
	s->rec.pid_start = proc_start_time(s->rec.pid);
	s->rec.boot_id = boot_id();
	s->rec.state = WTB_STATE_RUNNING;
	s->rec.exit_status = 0;
	s->rec.updated = (int64_t)time(NULL);
}

/* A new agent: branch, worktree, lock, record; all rolled back on error. */
static int create_agent(run_state *s, wtb_error **err)
{
	_cleanup_free_ char *base_hex = xmalloc(GIT_OID_HEXSZ + 1);
	wtb_created made;
	bool state_made = false;
	struct stat st;

	git_oid_tostr(base_hex, GIT_OID_HEXSZ + 1, &s->base);
	if (mkdir_p(s->paths.repo_data, 0700, err) < 0)
		return -1;
	if (worktree_create(&s->repo, &s->spec, &s->base, s->lock_reason, &made, err) < 0)
		return wtb_error_wrap(err, "cannot create agent '%s'", s->name);
	s->rec = (wtb_record){
	    .name = xstrdup(s->name),
	    .repo_id = xstrdup(s->repo.id),
	    .repo = xstrdup(s->repo.commondir),
	    .workdir = xstrdup(s->repo.workdir),
	    .branch = xstrdup(s->branch),
	    .base = steal_ptr(base_hex),
	    .worktree = xstrdup(s->paths.worktree),
	    .admin = xstrdup(s->admin),
	    .created = (int64_t)time(NULL),
	};
	stamp_supervisor(s);
	state_made = lstat(s->paths.state, &st) < 0;
	if (mkdir_p(s->paths.state, 0700, err) < 0 ||
	    record_save(s->paths.record, &s->rec, err) < 0 || WTB_FAULT("after-record", err) < 0)
		goto fail;
	return 0;
fail:
	if (state_made) {
		_cleanup_error_ wtb_error *rm_err = NULL;

		if (remove_tree(s->paths.state, &rm_err) < 0)
			wtb_error_report(rm_err);
	}
	worktree_rollback(&s->repo, &s->spec, &s->base, &made);
	return wtb_error_wrap(err, "cannot create agent '%s'", s->name);
}

/* An existing agent: continue its work in the same worktree and branch. */
static int reuse_agent(run_state *s, const run_opts *o, wtb_error **err)
{
	git_oid recorded;

	if (record_load(s->paths.record, &s->rec, err) < 0)
		return -1;
	if (record_supervisor_alive(&s->rec))
		return wtb_error_set(err, 0, "agent '%s' is running (pid %d)", s->name,
				     (int)s->rec.pid);
	if (git_oid_fromstr(&recorded, s->rec.base) < 0)
		return wtb_error_set(err, 0, "agent record '%s' has an invalid base '%s'",
				     s->paths.record, s->rec.base);
	if (o->base != NULL && !git_oid_equal(&recorded, &s->base))
		return wtb_error_set(err, 0,
				     "agent '%s' already exists with base %.12s; --base applies "
				     "only to a new agent",
				     s->name, s->rec.base);
	git_oid_cpy(&s->base, &recorded);
	/* The record knows where this agent's worktree is, even if the XDG
	 * directories changed since. */
	s->spec.path = s->rec.worktree;
	if (worktree_check_existing(&s->repo, &s->spec, err) < 0)
		return -1;
	if (worktree_lock(&s->repo, &s->spec, s->lock_reason, err) < 0)
		return -1;
	stamp_supervisor(s);
	if (record_save(s->paths.record, &s->rec, err) < 0) {
		_cleanup_error_ wtb_error *unlock_err = NULL;

		worktree_unlock(&s->repo, &s->spec, &unlock_err);
		return -1;
	}
	return 0;
}

/* Under the repository lock: name, then create or reuse. */
static int run_acquire(run_state *s, const run_opts *o, wtb_error **err)
{
	int r;

	if (lock_repo(s, err) < 0)
		return -1;
	if (o->name != NULL)
		set_name(s, o->name);
	else if (pick_name(s, err) < 0)
		return -1;
	s->lock_reason = xasprintf("wtbox: in use by agent '%s' (pid %d)", s->name, (int)getpid());
	r = record_exists(s) ? reuse_agent(s, o, err) : create_agent(s, err);
	closep(&s->lock_fd);
	return r;
}

static char **command_env(const run_state *s)
{
	/* Ours are set below; git's would point the command's git at some
	 * other repository than its worktree. */
	static const char *const dropped[] = {
	    "WTBOX_NAME=",     "WTBOX_BRANCH=",		"WTBOX_WORKTREE=",
	    "GIT_DIR=",	       "GIT_WORK_TREE=",	"GIT_INDEX_FILE=",
	    "GIT_COMMON_DIR=", "GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=",
	    "GIT_PREFIX=",
	};
	strv env = {0};

	for (char **e = environ; *e != NULL; e++) {
		bool skip = false;

		for (size_t i = 0; i < ARRAY_SIZE(dropped); i++)
			skip = skip || str_has_prefix(*e, dropped[i]);
		if (!skip)
			strv_push(&env, xstrdup(*e));
	}
	strv_push(&env, xasprintf("WTBOX_NAME=%s", s->name));
	strv_push(&env, xasprintf("WTBOX_BRANCH=%s", s->branch + strlen("refs/heads/")));
	strv_push(&env, xasprintf("WTBOX_WORKTREE=%s", s->spec.path));
	return env.v;
}

static int run_command(run_state *s, const run_opts *o, int *status)
{
	_cleanup_strv_ char **env = command_env(s);
	_cleanup_error_ wtb_error *err = NULL;
	wtb_spawn sp = {.argv = o->argv, .envp = env, .cwd = s->spec.path};

	if (process_run(&sp, status, &err) < 0)
		wtb_error_report(err);
	return 0;
}

/* Move an unchanged agent into a new trash entry: state first, because it
 * is the step that is simple to undo when the worktree cannot go. */
static int remove_agent(run_state *s, char **entry, wtb_error **err)
{
	_cleanup_free_ char *state_dest = NULL;
	struct stat st;

	if (trash_new_entry(s->paths.trash, s->repo.id, s->name, entry, err) < 0)
		return -1;
	if (trash_move(s->paths.state, *entry, "state", s->paths.state_trash, &state_dest, err) < 0)
		return -1;
	if (worktree_remove(&s->repo, &s->spec, &s->base, *entry, err) < 0) {
		/* Worktree still in place: the agent stays whole, record too. */
		if (lstat(s->spec.path, &st) == 0 && rename(state_dest, s->paths.state) < 0)
			fprintf(stderr, "wtbox: the state of agent '%s' stays in '%s'\n", s->name,
				state_dest);
		return -1;
	}
	return 0;
}

static int keep_agent(run_state *s, int status, wtb_error **err)
{
	if (worktree_unlock(&s->repo, &s->spec, err) < 0)
		return -1;
	s->rec.state = WTB_STATE_EXITED;
	s->rec.exit_status = status;
	s->rec.updated = (int64_t)time(NULL);
	return record_save(s->paths.record, &s->rec, err);
}

/* Under the repository lock: the "changed nothing" rule, then remove or
 * keep, then the report. */
static int run_finish(run_state *s, const run_opts *o, int status, wtb_error **err)
{
	wtb_changes ch = {0};
	_cleanup_free_ char *entry = NULL;
	char base_hex[GIT_OID_HEXSZ + 1];
	wtb_report rep;
	int r = -1;

	git_oid_tostr(base_hex, sizeof(base_hex), &s->base);
	if (lock_repo(s, err) < 0)
		return -1;
	ch.processes_left = process_count_descendants();
	if (changes_collect(&s->repo, &s->spec, &s->base, &s->cfg, &ch, err) < 0) {
		_cleanup_error_ wtb_error *keep_err = NULL;

		/* Without a verdict nothing may go: keep it all. */
		keep_agent(s, status, &keep_err);
		wtb_error_wrap(err, "agent '%s' kept", s->name);
		goto out;
	}
	rep = (wtb_report){.name = s->name,
			   .repo = s->repo.commondir,
			   .branch = s->branch + strlen("refs/heads/"),
			   .worktree = s->spec.path,
			   .base = base_hex,
			   .changes = &ch,
			   .exit_status = status};
	if (!changes_any(&ch) && !o->keep) {
		r = remove_agent(s, &entry, err);
		rep.removed = r == 0;
		rep.trash = entry;
	} else {
		r = keep_agent(s, status, err);
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
	report_print(stderr, &rep);
out:
	closep(&s->lock_fd);
	changes_free(&ch);
	return r;
}

static int run_agent(const run_opts *o, const wtb_global *g, int *status, wtb_error **err)
{
	__attribute__((cleanup(run_free))) run_state s = {.lock_fd = -1};

	/* Orphans of the command become ours, to be counted at the end. A
	 * signal must not stop wtbox half-way through creating or removing a
	 * worktree: trap them for the whole run. */
	if (process_become_subreaper(err) < 0)
		return -1;
	process_trap_signals();
	if (run_prepare(&s, o, g, err) < 0)
		return -1;
	if (run_acquire(&s, o, err) < 0)
		return -1;
	fprintf(stderr, "wtbox: agent '%s' on branch '%s' at '%s'\n", s.name,
		s.branch + strlen("refs/heads/"), s.spec.path);
	if (process_interrupted() == 0) {
		run_command(&s, o, status);
	} else {
		fprintf(stderr, "wtbox: interrupted by signal %d; command not started\n",
			process_interrupted());
		*status = 128 + process_interrupted();
	}
	if (run_finish(&s, o, *status, err) < 0)
		return -1;
	trash_sweep(s.paths.trash, s.cfg.trash_grace);
	trash_sweep(s.paths.state_trash, s.cfg.trash_grace);
	return 0;
}

static int run_main(int argc, char **argv, const wtb_global *g)
{
	_cleanup_error_ wtb_error *err = NULL;
	run_opts o = {0};
	int status = 0, exit_now = 0;

	if (parse_opts(argc, argv, &o, &exit_now) < 0)
		return exit_now;
	if (run_agent(&o, g, &status, &err) < 0)
		return wtb_error_report(err);
	return status;
}

const wtb_command cmd_run_def = {
    .name = "run",
    .summary = "run a command in an agent's own worktree",
    .usage = run_usage,
    .run = run_main,
};
