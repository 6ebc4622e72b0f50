/* Agent records: JSON round trip, parse errors, supervisor liveness. */
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	test_round_trip();
	test_parse_errors();
	test_supervisor_alive();
	return done_testing();
}
