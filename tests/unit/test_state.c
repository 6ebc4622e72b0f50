/* Agent records: JSON round trip, parse errors, supervisor liveness. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

#include "tap.h"

static void record_freep(wtb_record *r)
{
	record_free(r);
}
#define _cleanup_record_ __attribute__((cleanup(record_freep)))

/* A record with every field set to a value distinct from its neighbours. */
static void sample(wtb_record *r, wtb_run_state state)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup("brave-otter");
	r->repo_id = xstrdup("proj-0123456789ab");
	r->repo = xstrdup("/src/proj/.git");
	r->workdir = xstrdup("/src/proj");
	r->branch = xstrdup("refs/heads/wtbox/brave-otter");
	r->base = xstrdup("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
	r->worktree = xstrdup("/home/u/.local/share/wtbox/proj-0123456789ab/brave-otter");
	r->admin = xstrdup("brave-otter1");
	r->state = state;
	r->exit_status = state == WTB_STATE_EXITED ? 143 : 0;
	r->pid = 4194303;
	r->pid_start = 123456789012ULL;
	r->boot_id = xstrdup("0f4c7f9e-3b1a-4d2c-9e8f-a1b2c3d4e5f6");
	r->created = 1700000000;
	r->updated = 1700000123;
	r->ports = xcalloc(2, sizeof(*r->ports));
	r->ports[0] = (wtb_port_map){.host = 24117, .inside = 24117};
	r->ports[1] = (wtb_port_map){.host = 24118, .inside = 3000};
	r->nports = 2;
	r->net = xstrdup("private");
	r->policy = xstrdup("strict");
	r->sandbox_pid = 4194302;
	r->sandbox_start = 123456789013ULL;
	r->detached = true;
	r->log = xstrdup("/home/u/.local/state/wtbox/proj-0123456789ab/brave-otter/log");
	r->command = xcalloc(4, sizeof(char *));
	r->command[0] = xstrdup("npm");
	r->command[1] = xstrdup("run");
	r->command[2] = xstrdup("dev \"x\"");
	r->signal = state == WTB_STATE_EXITED ? 15 : 0;
	r->stopped = state == WTB_STATE_EXITED;
	r->counted = state == WTB_STATE_EXITED;
	r->ahead = r->counted ? 4000000000U : 0;
	r->dirty = r->counted ? 7 : 0;
}

static void round_trip(wtb_run_state state)
{
	_cleanup_record_ wtb_record in = {0}, out = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	const char *st = run_state_name(state);

	sample(&in, state);
	text = record_format(&in);
	ok(text != NULL, "record_format of a '%s' record", st);
	if (record_parse(text, &out, &err) < 0) {
		ok(false, "record_parse reads back the '%s' record: %s", st, err->msg);
		return;
	}
	ok(true, "record_parse reads back the '%s' record", st);
	is_str(out.name, in.name, "%s: name", st);
	is_str(out.repo_id, in.repo_id, "%s: repo_id", st);
	is_str(out.repo, in.repo, "%s: repo", st);
	is_str(out.workdir, in.workdir, "%s: workdir", st);
	is_str(out.branch, in.branch, "%s: branch", st);
	is_str(out.base, in.base, "%s: base", st);
	is_str(out.worktree, in.worktree, "%s: worktree", st);
	is_str(out.admin, in.admin, "%s: admin", st);
	is_int(out.state, in.state, "%s: state", st);
	is_int(out.exit_status, in.exit_status, "%s: exit_status", st);
	is_int(out.pid, in.pid, "%s: pid", st);
	is_int((long long)out.pid_start, 123456789012LL, "%s: pid_start beyond 32 bits", st);
	is_str(out.boot_id, in.boot_id, "%s: boot_id", st);
	is_int(out.created, in.created, "%s: created", st);
	is_int(out.updated, in.updated, "%s: updated", st);
	is_int((long long)out.nports, 2, "%s: two ports", st);
	if (out.nports == 2) {
		is_int(out.ports[0].host, 24117, "%s: ports[0].host", st);
		is_int(out.ports[0].inside, 24117, "%s: ports[0].inside", st);
		is_int(out.ports[1].host, 24118, "%s: ports[1].host", st);
		is_int(out.ports[1].inside, 3000, "%s: ports[1].inside", st);
	}
	is_str(out.net, "private", "%s: net", st);
	is_str(out.policy, "strict", "%s: policy", st);
	is_int(out.sandbox_pid, 4194302, "%s: sandbox_pid", st);
	is_int((long long)out.sandbox_start, 123456789013LL, "%s: sandbox_start", st);
	is_int(out.detached, in.detached, "%s: detached", st);
	is_str(out.log, in.log, "%s: log", st);
	ok(out.command != NULL && out.command[3] == NULL, "%s: command has 3 words", st);
	if (out.command != NULL && out.command[3] == NULL)
		is_str(out.command[2], "dev \"x\"", "%s: command[2]", st);
	is_int(out.signal, in.signal, "%s: signal", st);
	is_int(out.stopped, in.stopped, "%s: stopped", st);
	is_int(out.counted, in.counted, "%s: counted", st);
	is_int(out.ahead, in.ahead, "%s: ahead beyond 31 bits", st);
	is_int(out.dirty, in.dirty, "%s: dirty", st);
}

static void test_round_trip(void)
{
	_cleanup_record_ wtb_record in = {0}, out = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *text = NULL;

	is_str(run_state_name(WTB_STATE_RUNNING), "running", "run_state_name(RUNNING)");
	is_str(run_state_name(WTB_STATE_EXITED), "exited", "run_state_name(EXITED)");
	is_str(run_state_name(WTB_STATE_CREATING), "creating", "run_state_name(CREATING)");
	round_trip(WTB_STATE_CREATING);
	round_trip(WTB_STATE_RUNNING);
	round_trip(WTB_STATE_EXITED);

	/* Strings that need escaping in JSON survive too. */
	sample(&in, WTB_STATE_RUNNING);
	free(in.worktree);
	in.worktree = xstrdup("/tmp/a \"quoted\" \\ dir/\xc3\xa9\t");
	text = record_format(&in);
	ok(record_parse(text, &out, &err) == 0, "a record with quotes and UTF-8 parses");
	is_str(out.worktree, in.worktree, "quotes, backslash, tab and UTF-8 survive");

	/* Formatting what was parsed gives the same text again. */
	_cleanup_free_ char *again = record_format(&out);
	is_str(again, text, "format(parse(format(r))) == format(r)");
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* On disk: padded to whole 4 KiB blocks, so that an update is a write in
 * place of the spare (record.json.spare), exchanged with record.json. */
static void test_save_and_update(void)
{
	char dir[] = "/tmp/wtbox-unit-state-XXXXXX";
	_cleanup_record_ wtb_record in = {0}, out = {0}, big = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *path = NULL, *spare = NULL, *text = NULL;
	struct stat st;
	ino_t spare_ino;

	if (mkdtemp(dir) == NULL)
		abort();
	path = path_join(dir, "record.json");
	spare = path_join(dir, "record.json.spare");
	sample(&in, WTB_STATE_RUNNING);
	ok(record_save(path, &in, &err) == 0, "record_save");
	is_int(size_of(path), 4096, "a record is padded to 4 KiB");
	ok(read_file(path, 8192, &text, NULL, &err) == 0 && text[4095] == '\n' &&
	       text[4094] == ' ' && strchr(text, '}') != NULL,
	   "with blanks after the JSON and a newline at the end");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	in.pid = 4242;
	ok(record_update(path, &in, &err) == 0 && record_update(path, &in, &err) == 0,
	   "two record_updates");
	is_int(size_of(spare), 4096, "the spare is a padded record too");
	spare_ino = stat(spare, &st) == 0 ? st.st_ino : 0;
	in.exit_status = 3;
	in.state = WTB_STATE_EXITED;
	ok(record_update(path, &in, &err) == 0, "a third record_update");
	ok(stat(path, &st) == 0 && st.st_ino == spare_ino && (st.st_mode & 0777) == 0600,
	   "went into the spare, which is now the record (0600)");
	ok(record_load(path, &out, &err) == 0, "record_load after the updates");
	is_int(out.pid, 4242, "the updated pid");
	is_int(out.exit_status, 3, "the updated exit status");
	is_int(out.state, WTB_STATE_EXITED, "the updated state");

	/* A record past 4 KiB takes two blocks. */
	sample(&big, WTB_STATE_RUNNING);
	free(big.log);
	big.log = xmalloc(6001);
	memset(big.log, 'l', 6000);
	big.log[6000] = '\0';
	ok(record_update(path, &big, &err) == 0, "record_update of a 6 KB record");
	is_int(size_of(path), 8192, "padded to 8 KiB");
	record_free(&out);
	ok(record_load(path, &out, &err) == 0 && out.log != NULL && strlen(out.log) == 6000,
	   "and read back whole");
	ok(stat(spare, &st) == 0, "a spare exists");
	ok(record_save(path, &in, &err) == 0 && stat(spare, &st) < 0 && errno == ENOENT,
	   "record_save removes it: no version older than a durable one can come back");
	ok(remove_tree(dir, &err) == 0, "the scratch directory is removed");
}

/* The sample record's JSON with the line of `field` replaced by `line`:
 * record_format prints one field per line. */
static char *sample_json_with(const char *field, const char *line)
{
	_cleanup_record_ wtb_record r = {0};
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *key = xasprintf("\"%s\":", field);
	const char *at, *eol;

	sample(&r, WTB_STATE_RUNNING);
	text = record_format(&r);
	at = strstr(text, key);
	eol = at ? strchr(at, '\n') : NULL;
	if (eol == NULL)
		abort();
	return xasprintf("%.*s%s%s%s", (int)(at - text), text, line, eol[-1] == ',' ? "," : "",
			 eol);
}

static void parse_fails(const char *json, const char *want, const char *what)
{
	_cleanup_record_ wtb_record out = {0};
	_cleanup_error_ wtb_error *err = NULL;

	ok(record_parse(json, &out, &err) < 0 && err != NULL, "record_parse rejects %s", what);
	has_str(err ? err->msg : NULL, want, "the error for %s", what);
	ok(out.name == NULL && out.boot_id == NULL, "nothing is handed out for %s", what);
}

static void field_fails(const char *field, const char *line, const char *want, const char *what)
{
	_cleanup_free_ char *json = sample_json_with(field, line);

	parse_fails(json, want, what);
}

static void test_parse_errors(void)
{
	_cleanup_record_ wtb_record out = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *json = NULL;

	parse_fails("", "not valid JSON", "an empty text");
	parse_fails("{\"version\": 1,", "not valid JSON", "a truncated record");
	parse_fails("running", "not valid JSON", "a bare word");
	parse_fails("[1, 2]", "not a JSON object", "an array");
	parse_fails("\"record\"", "not a JSON object", "a string");
	parse_fails("{}", "field 'version' is missing", "an empty object (no version)");

	field_fails("version", "\"version\": 2", "unsupported version 2", "version 2");
	/* Numbers are required like strings: a record missing its pid must
	 * not read as "pid 0". */
	field_fails("pid", "\"pi\": 1", "field 'pid' is missing", "a record without pid");
	field_fails("pid_start", "\"pid_star\": 1", "field 'pid_start' is missing",
		    "a record without pid_start");
	field_fails("exit_status", "\"exit_statu\": 1", "field 'exit_status' is missing",
		    "a record without exit_status");
	field_fails("pid", "\"pid\": 4294967296", "field 'pid' out of range", "a huge pid");
	field_fails("exit_status", "\"exit_status\": 256", "field 'exit_status' out of range",
		    "an exit status over 255");
	field_fails("version", "\"version\": \"1\"", "field 'version'", "a string version");
	field_fails("branch", "\"_branch\": \"x\"", "field 'branch' is missing",
		    "a record without branch");
	field_fails("name", "\"nam\": \"x\"", "field 'name' is missing", "a record without name");
	field_fails("admin", "\"admin\": null", "field 'admin' is missing", "a null admin");
	field_fails("state", "\"stat\": \"running\"", "field 'state' is missing",
		    "a record without state");
	field_fails("state", "\"state\": \"zombie\"", "field 'state' has unknown value 'zombie'",
		    "an unknown state");
	field_fails("state", "\"state\": \"\"", "field 'state' has unknown value ''",
		    "an empty state");
	field_fails("repo", "\"repo\": 7", "field 'repo' is not a string", "a number for repo");
	field_fails("pid", "\"pid\": -1", "field 'pid'", "a negative pid");
	field_fails("pid", "\"pid\": \"12\"", "field 'pid'", "a string pid");
	field_fails("pid_start", "\"pid_start\": true", "field 'pid_start'", "a boolean pid_start");

	/* boot_id is optional: a record written without one still loads. */
	json = sample_json_with("boot_id", "\"_boot\": \"x\"");
	ok(record_parse(json, &out, &err) == 0, "a record without boot_id parses");
	ok(out.boot_id == NULL, "a missing boot_id is NULL");

	/* Fields of later versions are optional: a record without them (as
	 * written before ports existed) loads with none. */
	record_free(&out);
	free(json);
	json =
	    xstrdup("{\"version\": 1, \"name\": \"a\", \"repo_id\": \"r\", \"repo\": \"/r/.git\", "
		    "\"workdir\": \"/r\", \"branch\": \"refs/heads/wtbox/a\", \"base\": \"00\", "
		    "\"worktree\": \"/w\", \"admin\": \"a\", \"state\": \"exited\", "
		    "\"exit_status\": 0, \"pid\": 1, \"pid_start\": 2, \"created\": 3, "
		    "\"updated\": 4}");
	ok(record_parse(json, &out, &err) == 0, "a record without ports, net, policy parses");
	ok(out.nports == 0 && out.ports == NULL && out.net == NULL && out.policy == NULL &&
	       out.sandbox_pid == 0 && out.sandbox_start == 0,
	   "and has none of them");
	ok(!out.detached && out.log == NULL && out.command == NULL && out.signal == 0 &&
	       !out.stopped && !out.counted,
	   "an old record is not detached, has no log, command, signal, stop or counts");
	/* ports lines are nested; these replace the whole array. */
	{
		_cleanup_free_ char *bad = NULL;
		_cleanup_record_ wtb_record r2 = {0};

		sample(&r2, WTB_STATE_RUNNING);
		free(r2.ports);
		r2.ports = NULL;
		r2.nports = 0;
		bad = record_format(&r2);
		free(json);
		json = NULL;
		{
			char *at = strstr(bad, "\"ports\":\t[]");

			if (at == NULL)
				at = strstr(bad, "\"ports\": []");
			ok(at != NULL, "an empty ports array is written as []");
			if (at != NULL) {
				size_t pre = (size_t)(at - bad);
				const char *rest = strchr(at, ']') + 1;

				json =
				    xasprintf("%.*s\"ports\": [{\"host\": 70000, \"inside\": 1}]%s",
					      (int)pre, bad, rest);
				parse_fails(json, "field 'ports[0]': port out of range",
					    "a port over 65535");
				free(json);
				json = xasprintf("%.*s\"ports\": [{\"host\": 1}]%s", (int)pre, bad,
						 rest);
				parse_fails(json, "field 'inside' is missing",
					    "a port without inside");
				free(json);
				json = xasprintf("%.*s\"ports\": 5%s", (int)pre, bad, rest);
				parse_fails(json, "field 'ports' is not an array",
					    "ports not an array");
			}
		}
	}

	/* The fields of run -d and of the end of a run. */
	field_fails("signal", "\"signal\": 65", "field 'signal' out of range", "signal 65");
	field_fails("signal", "\"signal\": -1", "field 'signal'", "a negative signal");
	field_fails("detached", "\"detached\": 1", "field 'detached' is not a boolean",
		    "a number for detached");
	field_fails("stopped", "\"stopped\": \"yes\"", "field 'stopped' is not a boolean",
		    "a string for stopped");
	field_fails("log", "\"log\": []", "field 'log' is not a string", "an array for log");
	field_fails("command", "\"command\": \"npm run dev\"", "field 'command' is not an array",
		    "a string for command");
	field_fails("command", "\"command\": [\"npm\", 1]", "field 'command[1]' is not a string",
		    "a number in command");
	{
		_cleanup_record_ wtb_record r3 = {0};
		_cleanup_free_ char *text = NULL, *bad = NULL;
		char *at;

		sample(&r3, WTB_STATE_EXITED);
		text = record_format(&r3);
		at = strstr(text, "\"dirty\":");
		ok(at != NULL, "an exited sample has counts");
		if (at != NULL) {
			bad = xasprintf("%.*s\"dirtx\":%s", (int)(at - text), text, at + 8);
			parse_fails(bad, "fields 'ahead' and 'dirty' go together",
				    "ahead without dirty");
			free(bad);
			bad = xasprintf("%.*s\"dirty\": 4294967296%s", (int)(at - text), text,
					strchr(at, '\n'));
			parse_fails(bad, "field 'dirty' out of range", "dirty over 32 bits");
		}
	}

	/* Sanity check of the helper: an unchanged line parses. */
	record_free(&out);
	free(json);
	json = sample_json_with("branch", "\"branch\": \"refs/heads/x\"");
	ok(record_parse(json, &out, &err) == 0, "a record with a replaced branch line parses");
	is_str(out.branch, "refs/heads/x", "the replaced line is the one read");
}

static void test_supervisor_alive(void)
{
	_cleanup_record_ wtb_record r = {0};
	_cleanup_free_ char *boot = boot_id();
	uint64_t start = proc_start_time(getpid());

	ok(boot != NULL && strlen(boot) >= 32, "boot_id() reads this boot's id ('%s')",
	   boot ? boot : "");
	ok(start > 0, "proc_start_time(getpid()) is known (%llu)", (unsigned long long)start);
	is_int((long long)proc_start_time(getpid()), (long long)start,
	       "proc_start_time is stable for one process");
	{
		wtb_proc_stat st;
		pid_t child;

		ok(proc_stat_read(getpid(), &st) == 0 && st.state == 'R' && st.threads == 1 &&
		       st.start == start,
		   "proc_stat_read: this process runs, one thread, its start time");
		child = fork();
		if (child == 0)
			_exit(0);
		/* Unreaped: a zombie, which proc_start_time counts as dead. */
		for (int i = 0; i < 2000 && proc_stat_read(child, &st) == 0 && st.state != 'Z'; i++)
			usleep(1000);
		ok(proc_stat_read(child, &st) == 0 && st.state == 'Z',
		   "proc_stat_read: an exited, unreaped child is a zombie ('%c')", st.state);
		is_int((long long)proc_start_time(child), 0, "a zombie has no start time");
		waitpid(child, NULL, 0);
		ok(proc_stat_read(child, &st) < 0, "a reaped child cannot be read");
	}

	sample(&r, WTB_STATE_RUNNING);
	r.pid = getpid();
	r.pid_start = start;
	free(r.boot_id);
	r.boot_id = xstrdup(boot);
	ok(record_supervisor_alive(&r), "this process is alive as a supervisor");

	r.pid_start = start + 1;
	ok(!record_supervisor_alive(&r), "not alive with a wrong start time (pid reused)");
	r.pid_start = 0;
	ok(!record_supervisor_alive(&r), "not alive with an unknown start time");
	r.pid_start = start;

	free(r.boot_id);
	r.boot_id = xstrdup("00000000-0000-0000-0000-000000000000");
	ok(!record_supervisor_alive(&r), "not alive with another boot id (rebooted)");
	free(r.boot_id);
	r.boot_id = NULL;
	ok(!record_supervisor_alive(&r), "not alive without a boot id");
	r.boot_id = xstrdup(boot);

	r.pid = 0;
	ok(!record_supervisor_alive(&r), "not alive for pid 0");
	r.pid = -1;
	ok(!record_supervisor_alive(&r), "not alive for pid -1");
	r.pid = getpid();
	ok(record_supervisor_alive(&r), "alive again with every field restored");
}

static void test_status_rules(void)
{
	_cleanup_record_ wtb_record r = {0};
	_cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;

	sample(&r, WTB_STATE_RUNNING);
	is_int(record_status(&r, true), WTB_STATUS_RUNNING, "running + alive: running");
	is_int(record_status(&r, false), WTB_STATUS_ORPHANED, "running + gone: orphaned");
	r.state = WTB_STATE_CREATING;
	is_int(record_status(&r, true), WTB_STATUS_CREATING, "creating + alive: creating");
	is_int(record_status(&r, false), WTB_STATUS_ORPHANED, "creating + gone: orphaned");
	r.state = WTB_STATE_EXITED;
	r.signal = 0;
	r.stopped = false;
	r.exit_status = 3;
	is_int(record_status(&r, false), WTB_STATUS_EXITED, "exited by itself: exited");
	is_int(record_status(&r, true), WTB_STATUS_EXITED,
	       "exited, with a live pid of the same identity (a new run not yet recorded)");
	t1 = record_status_text(&r, WTB_STATUS_EXITED);
	is_str(t1, "exited 3", "exited N");
	r.signal = 9;
	is_int(record_status(&r, false), WTB_STATUS_KILLED, "ended by a signal: killed");
	r.signal = 0;
	r.stopped = true;
	r.exit_status = 0;
	is_int(record_status(&r, false), WTB_STATUS_KILLED,
	       "stopped, though it exited 0 on SIGTERM: killed");
	t2 = record_status_text(&r, WTB_STATUS_KILLED);
	is_str(t2, "killed", "killed has no number");
	t3 = record_status_text(&r, WTB_STATUS_ORPHANED);
	is_str(t3, "orphaned", "orphaned");
	is_str(status_name(WTB_STATUS_RUNNING), "running", "status_name(RUNNING)");
	is_str(status_name(WTB_STATUS_CREATING), "creating", "status_name(CREATING)");
}

static void text_is(char *got, const char *want, const char *what)
{
	is_str(got, want, "%s", what);
	free(got);
}

static void test_texts(void)
{
	_cleanup_record_ wtb_record r = {0};

	sample(&r, WTB_STATE_EXITED);
	text_is(record_ports_text(&r), "24117,24118->3000", "ports: same number once, else ->");
	r.nports = 0;
	text_is(record_ports_text(&r), "-", "no ports: -");
	text_is(record_changes_text(&r), "+4000000000 ~7", "changes: +ahead ~dirty");
	r.counted = false;
	text_is(record_changes_text(&r), "-", "changes not counted: -");
	text_is(since_text(-5), "0s", "since: a clock that went back is 0s");
	text_is(since_text(59), "59s", "since: 59s");
	text_is(since_text(60), "1m", "since: 1m");
	text_is(since_text(3599), "59m", "since: 59m");
	text_is(since_text(7200), "2h", "since: 2h");
	text_is(since_text(86400 * 3 + 5), "3d", "since: 3d");
}

static void test_list_format(void)
{
	_cleanup_record_ wtb_record a = {0}, b = {0}, back = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *text = NULL, *empty = NULL;
	wtb_listed v[2];

	sample(&a, WTB_STATE_EXITED);
	sample(&b, WTB_STATE_RUNNING);
	v[0] = (wtb_listed){.rec = &a, .status = WTB_STATUS_KILLED, .since = 42};
	v[1] = (wtb_listed){.rec = &b, .status = WTB_STATUS_ORPHANED, .since = -3};
	text = record_list_format(v, 2);
	has_str(text, "\"status\":\"killed\"", "the first has status killed");
	has_str(text, "\"status\":\"orphaned\"", "the second has status orphaned");
	has_str(text, "\"since\":42", "since in seconds");
	has_str(text, "\"since\":0", "a negative since is 0");
	has_str(text, "\"changes\":{", "counted changes are an object");
	has_str(text, "\"changes\":null", "uncounted changes are null");
	has_str(text, "\"boot_id\":", "every field of the record is there");
	/* Each element is a record as record_parse reads it. */
	{
		/* The end of the first element: "}]," closes its ports. */
		const char *second = strstr(text + 2, "},{\"version\"");

		ok(second != NULL, "two objects");
		if (second != NULL) {
			_cleanup_free_ char *one =
			    xasprintf("%.*s}", (int)(second - text - 1), text + 1);

			ok(record_parse(one, &back, &err) == 0, "an element parses as a record");
			is_str(back.name, a.name, "and is the first record");
		}
	}
	empty = record_list_format(NULL, 0);
	is_str(empty, "[]", "an empty list is []");
}

int main(void)
{
	test_round_trip();
	test_save_and_update();
	test_parse_errors();
	test_supervisor_alive();
	test_status_rules();
	test_texts();
	test_list_format();
	return done_testing();
}
