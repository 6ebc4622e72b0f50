/* wtbox rm NAME [--force]: remove an agent (worktree, branches, record,
 * state), refusing while that would lose work. What goes is moved to the
 * trash and deleted after the grace period, never deleted on the spot. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "error.h"
#include "name.h"
#include "process.h"
#include "stranded.h"
#include "trash.h"
#include "unsaved.h"
#include "fault.h"
#include "util.h"

/* rm --force of a running agent: SIGTERM to its supervisor (which stops
 * the command and imports its work, as at any end of a run), SIGKILL after
 * this long, then at most RM_KILL_WAIT_MS more for it to be gone. */
#define RM_STOP_GRACE_MS 10000
#define RM_KILL_WAIT_MS	 5000

static const char rm_usage[] =
    "usage: wtbox rm NAME [--force]\n"
    "\n"
    "Remove agent NAME: its worktree, its branch wtbox/NAME and the branches it\n"
    "created (wtbox/NAME@BRANCH), its record, and its state (tmp, cache, home,\n"
    "private git directory). The agent's git work is imported first.\n"
    "\n"
    "rm refuses, and names what would be lost, when the agent is running, its\n"
    "branches hold commits that no other branch, tag or remote-tracking branch\n"
    "holds, its worktree has uncommitted changes or untracked files (ignored\n"
    "files do not count), or its git directory holds work that cannot be\n"
    "imported. With --force it removes the agent anyway (a running one is\n"
    "stopped first) and prints the id each deleted branch pointed at.\n"
    "\n"
    "The worktree and the state are moved to the trash, which is emptied after\n"
    "the grace period (24 h by default), so a removal can be undone until then.\n"
    "\n"
    "An agent whose repository is gone (deleted, moved or renamed: 'ls --all'\n"
    "marks it) is found by the path the repository had: wtbox -C PATH rm NAME.\n"
    "Nothing can tell then what it holds: --force moves its worktree and state\n"
    "to the trash, and its branch stays with the repository.\n"
    "\n"
    "Options:\n"
    "  -f, --force  remove even what would be lost\n"
    "  -h, --help   show this help\n";

/* Wait until the supervisor is gone, at most `ms`. */
static bool wait_gone(const wtb_record *rec, uint64_t ms)
{
	uint64_t deadline = now_ms() + ms;

	while (record_supervisor_alive(rec)) {
		if (now_ms() >= deadline)
			return false;
		usleep(20000);
	}
	return true;
}

/* Stop a running agent through its supervisor, identified by pid, start
 * time and boot id (a pidfd, so a reused pid is never signalled). */
static int stop_agent(const wtb_record *rec, wtb_error **err)
{
	_cleanup_close_ int pidfd = process_open_verified(rec->pid, rec->pid_start);

	if (pidfd < 0)
		return errno == ESRCH ? 0 : wtb_error_errno(err, "cannot signal pid %d", rec->pid);
	fprintf(stderr, "wtbox: agent '%s' is running (pid %d): stopping it\n", rec->name,
		(int)rec->pid);
	if (process_signal(pidfd, SIGTERM) < 0 && errno != ESRCH)
		return wtb_error_errno(err, "cannot stop agent '%s' (pid %d)", rec->name,
				       (int)rec->pid);
	if (wait_gone(rec, RM_STOP_GRACE_MS))
		return 0;
	/* Its sandbox dies with it (the sandbox's init has PDEATHSIG). */
	process_signal(pidfd, SIGKILL);
	if (!wait_gone(rec, RM_KILL_WAIT_MS))
		return wtb_error_set(err, 0, "agent '%s' (pid %d) did not stop", rec->name,
				     (int)rec->pid);
	return 0;
}

/* Under the lock: load, inventory, refuse or remove. `*stop` is set when
 * the agent runs and --force asks to stop it first (without the lock, which
 * its supervisor needs to end). */
static int rm_locked(wtb_agent *a, const char *name, bool force, bool *stop, wtb_error **err)
{
	__attribute__((cleanup(unsaved_free))) wtb_unsaved u = {0};
	_cleanup_free_ char *text = NULL;

	if (agent_load(a, name, err) < 0) {
		struct stat st;

		if (!force || lstat(a->paths.record, &st) < 0)
			return -1;
		/* The record is there but unusable: removed all the same. */
		wtb_error_report(*err);
		wtb_error_free(err);
		if (agent_salvage(a, name, err) < 0)
			return -1;
	}
	if (record_supervisor_alive(&a->rec) && force) {
		*stop = true;
		return 0;
	}
	/* A creation that died half-way: nothing ran in it. */
	if (a->rec.state == WTB_STATE_CREATING && !record_supervisor_alive(&a->rec)) {
		if (agent_drop_interrupted(a, err) < 0)
			return -1;
		printf("wtbox: removed the pieces of agent '%s', whose creation was interrupted\n",
		       a->name);
		return 0;
	}
	/* A removal that was interrupted: the rest of it, unless the branches
	 * hold commits that are nowhere else (then only with --force). */
	if (a->rec.state == WTB_STATE_REMOVING) {
		if (unsaved_branches(a, &u, err) < 0)
			return -1;
		if (u.unique > 0 && !force)
			return wtb_error_set(
			    err, 0,
			    "cannot finish removing agent '%s': %zu commit%s on its "
			    "branches not in any other branch, tag or remote (--force "
			    "removes it anyway)",
			    a->name, u.unique, u.unique == 1 ? "" : "s");
		printf("wtbox: agent '%s': finishing its removal, which was interrupted\n",
		       a->name);
		return unsaved_remove(a, &u, err);
	}
	if (unsaved_collect(a, &u, err) < 0) {
		if (!force)
			return wtb_error_wrap(err,
					      "cannot remove agent '%s' (--force removes it "
					      "anyway)",
					      a->name);
		/* It all goes to the trash, where it can still be found. */
		wtb_error_report(*err);
		wtb_error_free(err);
		fprintf(stderr, "wtbox: agent '%s': removing it anyway (--force)\n", a->name);
	}
	text = unsaved_text(&u);
	if (text != NULL && !force)
		return wtb_error_set(err, 0,
				     "cannot remove agent '%s': %s; nothing was removed (--force "
				     "removes it anyway)",
				     a->name, text);
	return unsaved_remove(a, &u, err);
}

/* An agent of a repository that is gone, found by the path it had. */
static int rm_stranded(const wtb_dirs *d, const char *repo_id, const char *workdir,
		       const char *name, bool force, wtb_error **err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		__attribute__((cleanup(record_free))) wtb_record rec = {0};
		bool stop = false;

		if (stranded_remove(d, repo_id, workdir, name, force, attempt > 0, &stop, &rec,
				    err) < 0)
			return -1;
		if (!stop)
			return 0;
		if (stop_agent(&rec, err) < 0)
			return -1;
	}
	return wtb_error_set(err, 0, "agent '%s' was started again while it was being removed",
			     name);
}

/* No repository at `dir`: the agent may be one of a repository that was
 * there and is gone. 1 when it was dealt with (or refused: *err), 0 when
 * there is no such agent. */
static int try_stranded(const char *dir, const char *name, bool force, int *rc, wtb_error **err)
{
	__attribute__((cleanup(repo_close))) wtb_repo repo = {0};
	__attribute__((cleanup(dirs_free))) wtb_dirs d = {0};
	_cleanup_error_ wtb_error *e = NULL;
	_cleanup_free_ char *id = NULL, *workdir = NULL;

	/* A repository is there: its own error stands. */
	if (repo_open(&repo, dir, false, &e) == 0)
		return 0;
	wtb_error_free(&e);
	if (dirs_from_env(&d, &e) < 0 || (id = stranded_find(&d, dir, name, &workdir)) == NULL)
		return 0;
	wtb_error_free(err);
	*rc = rm_stranded(&d, id, workdir, name, force, err);
	return 1;
}

static int rm_agent(const wtb_global *g, const char *name, bool force, wtb_error **err)
{
	wtb_agent_opts o = {.dir = g->dir, .name = name};

	for (int attempt = 0; attempt < 2; attempt++) {
		__attribute__((cleanup(agent_free))) wtb_agent a = WTB_AGENT_INIT;
		bool stop = false;
		int r;

		if (agent_prepare(&a, &o, err) < 0) {
			if (attempt == 0 && try_stranded(o.dir ? o.dir : ".", name, force, &r, err))
				return r;
			return -1;
		}
		if (agent_lock(&a, err) < 0)
			return -1;
		r = rm_locked(&a, name, force, &stop, err);
		agent_unlock(&a);
		if (r < 0 || !stop)
			return r;
		if (stop_agent(&a.rec, err) < 0)
			return -1;
		/* Its run may have removed it (it changed nothing). */
		if (access(a.paths.record, F_OK) < 0) {
			printf("wtbox: agent '%s' stopped; it changed nothing and its run removed "
			       "it\n",
			       name);
			return 0;
		}
	}
	return wtb_error_set(err, 0, "agent '%s' was started again while it was being removed",
			     name);
}

static int rm_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_error_ wtb_error *err = NULL;
	bool force = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(rm_usage, stdout);
			return 0;
		default:
			return cmd_usage_error("rm", "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind >= argc)
		return cmd_usage_error("rm", "no agent name given");
	if (optind + 1 < argc)
		return cmd_usage_error("rm", "one agent name only");
	if (name_validate(argv[optind], &err) < 0 || rm_agent(g, argv[optind], force, &err) < 0)
		return wtb_error_report(err);
	return 0;
}

const wtb_command cmd_rm_def = {
    .name = "rm",
    .summary = "remove an agent: worktree, branch, record and state",
    .usage = rm_usage,
    .run = rm_main,
};
