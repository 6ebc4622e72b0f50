/* Where things live: repository ids, XDG directories, agent paths, and the
 * names of trash entries. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"
#include "trash.h"
#include "util.h"

#include "tap.h"

static void dirs_freep(wtb_dirs *d)
{
	dirs_free(d);
}
#define _cleanup_dirs_ __attribute__((cleanup(dirs_freep)))

static void test_repo_id(void)
{
	_cleanup_free_ char *a = repo_id_make("/home/u/proj", "/home/u/proj/.git");
	_cleanup_free_ char *a2 = repo_id_make("/home/u/proj", "/home/u/proj/.git");
	_cleanup_free_ char *b = repo_id_make("/work/proj", "/work/proj/.git");
	_cleanup_free_ char *slash = repo_id_make("/home/u/proj/", "/home/u/proj/.git");
	_cleanup_free_ char *slashes = repo_id_make("/home/u/proj///", "/home/u/proj/.git");
	_cleanup_free_ char *rel = repo_id_make("proj", "/home/u/proj/.git");
	_cleanup_free_ char *space = repo_id_make("/x/my proj", "/x/my proj/.git");
	_cleanup_free_ char *utf8 = repo_id_make("/x/caf\xc3\xa9", "/x/caf\xc3\xa9/.git");
	_cleanup_free_ char *odd = repo_id_make("/x/a:b*c", "/x/a:b*c/.git");
	_cleanup_free_ char *keep = repo_id_make("/x/A-b_c.9", "/x/A-b_c.9/.git");
	_cleanup_free_ char *root = repo_id_make("/", "/.git");
	_cleanup_free_ char *empty = repo_id_make("", "/.git");
	_cleanup_free_ char *dot = repo_id_make("/x/.", "/x/.git");
	_cleanup_free_ char *dotdot = repo_id_make("/x/..", "/.git");
	_cleanup_free_ char *hidden = repo_id_make("/x/.hidden", "/x/.hidden/.git");
	_cleanup_free_ char *longname =
	    repo_id_make("/x/abcdefghijklmnopqrstuvwxyz0123456789abcdefghij", "/x/long/.git");

	like(a, "^proj-[0-9a-f]{12}$", "the id is <basename>-<12 hex>");
	is_str(a2, a, "the same inputs give the same id");
	like(b, "^proj-[0-9a-f]{12}$", "a second 'proj' has the same shape");
	ok(a && b && strcmp(a, b) != 0, "two repositories named 'proj' get different ids (%s, %s)",
	   a, b);
	is_str(slash, a, "a trailing slash on the workdir is ignored");
	is_str(slashes, a, "several trailing slashes are ignored");
	is_str(rel, a, "a bare basename gives the same id");
	like(space, "^my_proj-[0-9a-f]{12}$", "a space becomes '_'");
	like(utf8, "^caf__-[0-9a-f]{12}$", "each byte of a non-ASCII letter becomes '_'");
	like(odd, "^a_b_c-[0-9a-f]{12}$", "':' and '*' become '_'");
	like(keep, "^A-b_c\\.9-[0-9a-f]{12}$", "letters, digits, '.', '_' and '-' are kept");
	like(root, "^repo-[0-9a-f]{12}$", "'/' falls back to 'repo'");
	like(empty, "^repo-[0-9a-f]{12}$", "an empty workdir falls back to 'repo'");
	like(dot, "^repo-[0-9a-f]{12}$", "a '.' basename falls back to 'repo'");
	like(dotdot, "^repo-[0-9a-f]{12}$", "a '..' basename falls back to 'repo'");
	like(hidden, "^_hidden-[0-9a-f]{12}$", "a leading '.' of the basename becomes '_'");
	like(longname, "^[a-z0-9]{1,32}-[0-9a-f]{12}$", "a long basename is shortened (%s)",
	     longname);

	/* The hash is of the common git directory only: the basename does not
	 * change it. */
	_cleanup_free_ char *c1 = repo_id_make("/x/one", "/same/.git");
	_cleanup_free_ char *c2 = repo_id_make("/y/two", "/same/.git");
	ok(c1 && c2 && strcmp(c1 + strlen(c1) - 12, c2 + strlen(c2) - 12) == 0,
	   "the hash depends on the common dir, not the workdir (%s, %s)", c1, c2);
}

static void test_dirs(void)
{
	_cleanup_dirs_ wtb_dirs d = {0}, rel = {0};
	_cleanup_dirs_ wtb_dirs none = {0};
	_cleanup_error_ wtb_error *err = NULL;

	setenv("HOME", "/home/t", 1);
	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	setenv("XDG_CONFIG_HOME", "/xdg/config/", 1);
	ok(dirs_from_env(&d, &err) == 0, "dirs_from_env with XDG variables set");
	is_str(d.data, "/xdg/data/wtbox", "XDG_DATA_HOME is used");
	is_str(d.state, "/xdg/state/wtbox", "XDG_STATE_HOME is used");
	is_str(d.config, "/xdg/config/wtbox", "XDG_CONFIG_HOME with a trailing slash");

	setenv("XDG_DATA_HOME", "relative/data", 1);
	setenv("XDG_STATE_HOME", "", 1);
	unsetenv("XDG_CONFIG_HOME");
	ok(dirs_from_env(&rel, &err) == 0, "dirs_from_env with unusable XDG variables");
	is_str(rel.data, "/home/t/.local/share/wtbox", "a relative XDG_DATA_HOME is ignored");
	is_str(rel.state, "/home/t/.local/state/wtbox", "an empty XDG_STATE_HOME is ignored");
	is_str(rel.config, "/home/t/.config/wtbox", "an unset XDG_CONFIG_HOME is ignored");

	unsetenv("HOME");
	ok(dirs_from_env(&none, &err) < 0, "dirs_from_env fails without HOME");
	has_str(err ? err->msg : NULL, "HOME is not set", "the error says why");
}

static void test_agent_paths(void)
{
	char data[] = "/d", state[] = "/s/", config[] = "/c";
	wtb_dirs d = {.data = data, .state = state, .config = config};
	wtb_agent_paths p = {0};

	agent_paths_init(&p, &d, "proj-0123456789ab", "brave-otter");
	is_str(p.repo_data, "/d/proj-0123456789ab", "repo_data");
	is_str(p.repo_state, "/s/proj-0123456789ab", "repo_state");
	is_str(p.worktree, "/d/proj-0123456789ab/brave-otter", "worktree");
	is_str(p.state, "/s/proj-0123456789ab/brave-otter", "state");
	is_str(p.record, "/s/proj-0123456789ab/brave-otter/record.json", "record");
	_cleanup_free_ char *lock = repo_lock_path(&d, "proj-0123456789ab");
	is_str(lock, "/s/proj-0123456789ab/.lock", "the repository lock is not a valid agent name");
	is_str(p.trash, "/d/trash", "trash");
	agent_paths_free(&p);
	ok(p.worktree == NULL, "agent_paths_free clears the struct");
}

static void entry_time(const char *name, long long want)
{
	is_int((long long)trash_entry_time(name), want, "trash_entry_time('%s')", name);
}

static void test_trash_entry_time(void)
{
	entry_time("proj-0123456789ab.brave-otter.1700000000.42", 1700000000);
	entry_time("r-abc.my.agent.1700000000.42", 1700000000);
	entry_time("r.a.b.c.5.1", 5);
	entry_time("r.n.0.1", 0);

	entry_time(".deleting.1.x", -1);
	entry_time(".deleting.123.r.n.1700000000.42", -1);
	entry_time("foo", -1);
	entry_time("", -1);
	entry_time(".", -1);
	entry_time("a.b.c", -1);
	entry_time("a.notnum.12", -1);
	entry_time("a.12.notnum", -1);
	entry_time("a.12.3x", -1);
	entry_time("a.12x.3", -1);
	entry_time("a.12.", -1);
	entry_time("a..3", -1);
	entry_time("1700000000.42", -1);
	entry_time("a.-5.3", -1);
	/* Only what trash_new_entry writes: digits, nothing signed or padded. */
	entry_time("a. 12.3", -1);
	entry_time("a.+12.3", -1);
	entry_time("a.12.-3", -1);
	entry_time("a.12.+3", -1);
	entry_time("a.1.99999999999999999999", -1);
	entry_time("a..12.3", -1);
}

static void deleting(const char *name, const char *want_entry, long long want_pid)
{
	pid_t pid = 0;
	const char *e = trash_deleting_entry(name, &pid);

	is_str(e, want_entry, "trash_deleting_entry('%s')", name);
	if (want_entry != NULL)
		is_int((long long)pid, want_pid, "its pid");
}

/* Only what trash_delete makes: ".deleting.<pid>.<an entry's name>". */
static void test_trash_deleting_entry(void)
{
	deleting(".deleting.123.r.n.1700000000.42", "r.n.1700000000.42", 123);
	deleting(".deleting.7.r-abc.my.agent.1700000000.42", "r-abc.my.agent.1700000000.42", 7);

	deleting("r.n.1700000000.42", NULL, 0);
	deleting(".deleting.", NULL, 0);
	deleting(".deleting.123", NULL, 0);
	deleting(".deleting.123.", NULL, 0);
	deleting(".deleting.0.r.n.1.2", NULL, 0);
	deleting(".deleting.-1.r.n.1.2", NULL, 0);
	deleting(".deleting.+1.r.n.1.2", NULL, 0);
	deleting(".deleting. 1.r.n.1.2", NULL, 0);
	deleting(".deleting.1234567890.r.n.1.2", NULL, 0);
	deleting(".deleting.12.notanentry", NULL, 0);
	deleting(".deleting.12..deleting.3.r.n.1.2", NULL, 0);
	deleting(".deleting.x.r.n.1.2", NULL, 0);
}

/* An entry made by trash_new_entry is one that trash_entry_time reads. */
static void test_trash_new_entry(void)
{
	char tmpl[] = "/tmp/wtbox-unit-XXXXXX";
	char *dir = mkdtemp(tmpl);
	_cleanup_free_ char *trash = NULL, *entry = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	time_t before = time(NULL), after;

	if (!ok(dir != NULL, "mkdtemp"))
		return;
	trash = path_join(dir, "data/trash");
	ok(trash_new_entry(trash, "proj-0123456789ab", "my.agent", &entry, &err) == 0,
	   "trash_new_entry creates the trash dir and an entry");
	after = time(NULL);
	ok(entry != NULL && access(entry, F_OK) == 0, "the entry exists ('%s')",
	   entry ? entry : "");
	ok(entry != NULL && str_has_prefix(entry, trash), "the entry lies in the trash dir");
	if (entry != NULL) {
		int64_t t = trash_entry_time(strrchr(entry, '/') + 1);

		ok(t >= before && t <= after, "its name holds the time it was made (%lld)",
		   (long long)t);
	}
	wtb_error_free(&err);
	ok(remove_tree(dir, &err) == 0, "clean up");
}

int main(void)
{
	test_repo_id();
	test_dirs();
	test_agent_paths();
	test_trash_entry_time();
	test_trash_deleting_entry();
	test_trash_new_entry();
	return done_testing();
}
