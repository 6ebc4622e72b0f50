#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

static void cjson_deletep(cJSON **j)
{
	if (*j != NULL)
		cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

static const char *const state_names[] = {
    [WTB_STATE_CREATING] = "creating",
    [WTB_STATE_RUNNING] = "running",
    [WTB_STATE_EXITED] = "exited",
    [WTB_STATE_REMOVING] = "removing",
};

const char *run_state_name(wtb_run_state s)
{
	return state_names[s];
}

static int get_str(const cJSON *o, const char *key, bool required, char **out, wtb_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return wtb_error_set(err, 0, "field '%s' is missing", key);
		*out = NULL;
		return 0;
	}
	if (!cJSON_IsString(v))
		return wtb_error_set(err, 0, "field '%s' is not a string", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int get_int(const cJSON *o, const char *key, int64_t *out, wtb_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return wtb_error_set(err, 0, "field '%s' is missing", key);
	/* cJSON keeps numbers as doubles: integers up to 2^53 are exact, which
	 * covers pids, times and start ticks. */
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
		return wtb_error_set(err, 0, "field '%s' is not a non-negative integer", key);
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* An optional integer: absent or null is `def`. */
static int get_int_opt(const cJSON *o, const char *key, int64_t def, int64_t *out, wtb_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		*out = def;
		return 0;
	}
	return get_int(o, key, out, err);
}

/* An optional boolean: absent or null is false. */
static int get_bool_opt(const cJSON *o, const char *key, bool *out, wtb_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = false;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return wtb_error_set(err, 0, "field '%s' is not a boolean", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* An optional array of strings, as a NULL-terminated vector. */
static int get_strv_opt(const cJSON *o, const char *key, char ***out, wtb_error **err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
	const cJSON *item;
	size_t n = 0;

	*out = NULL;
	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return wtb_error_set(err, 0, "field '%s' is not an array", key);
	*out = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(char *));
	cJSON_ArrayForEach(item, arr)
	{
		if (!cJSON_IsString(item))
			return wtb_error_set(err, 0, "field '%s[%zu]' is not a string", key, n);
		(*out)[n++] = xstrdup(item->valuestring);
	}
	return 0;
}

/* The last run's ending: optional fields, all or nothing of the counts. */
static int get_ending(const cJSON *root, wtb_record *r, wtb_error **err)
{
	int64_t sig, ahead, dirty;

	if (get_bool_opt(root, "detached", &r->detached, err) < 0 ||
	    get_str(root, "log", false, &r->log, err) < 0 ||
	    get_strv_opt(root, "command", &r->command, err) < 0 ||
	    get_bool_opt(root, "stopped", &r->stopped, err) < 0 ||
	    get_int_opt(root, "signal", 0, &sig, err) < 0 ||
	    get_int_opt(root, "ahead", -1, &ahead, err) < 0 ||
	    get_int_opt(root, "dirty", -1, &dirty, err) < 0)
		return -1;
	if (sig > 64)
		return wtb_error_set(err, 0, "field 'signal' out of range");
	r->signal = (int)sig;
	if ((ahead < 0) != (dirty < 0))
		return wtb_error_set(err, 0, "fields 'ahead' and 'dirty' go together");
	if (ahead > UINT32_MAX || dirty > UINT32_MAX)
		return wtb_error_set(err, 0, "field '%s' out of range",
				     ahead > UINT32_MAX ? "ahead" : "dirty");
	r->counted = ahead >= 0;
	r->ahead = r->counted ? (uint32_t)ahead : 0;
	r->dirty = r->counted ? (uint32_t)dirty : 0;
	return 0;
}

static int get_ports(const cJSON *root, wtb_record *r, wtb_error **err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "ports");
	const cJSON *item;
	size_t n = 0;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return wtb_error_set(err, 0, "field 'ports' is not an array");
	r->ports = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->ports));
	cJSON_ArrayForEach(item, arr)
	{
		int64_t host, inside;

		if (!cJSON_IsObject(item) || get_int(item, "host", &host, err) < 0 ||
		    get_int(item, "inside", &inside, err) < 0)
			return wtb_error_wrap(err, "field 'ports[%zu]'", n);
		if (host < 1 || host > 65535 || inside < 1 || inside > 65535)
			return wtb_error_set(err, 0, "field 'ports[%zu]': port out of range", n);
		r->ports[n++] = (wtb_port_map){.host = (uint16_t)host, .inside = (uint16_t)inside};
	}
	r->nports = n;
	return 0;
}

static int parse_fields(const cJSON *root, wtb_record *r, wtb_error **err)
{
	_cleanup_free_ char *state = NULL;
	int64_t version, pid, pid_start, exit_status, sandbox_pid, sandbox_start;

	if (!cJSON_IsObject(root))
		return wtb_error_set(err, 0, "not a JSON object");
	if (get_int(root, "version", &version, err) < 0)
		return -1;
	if (version != WTB_RECORD_VERSION)
		return wtb_error_set(err, 0, "unsupported version %lld", (long long)version);
	if (get_str(root, "name", true, &r->name, err) < 0 ||
	    get_str(root, "repo_id", true, &r->repo_id, err) < 0 ||
	    get_str(root, "repo", true, &r->repo, err) < 0 ||
	    get_str(root, "workdir", true, &r->workdir, err) < 0 ||
	    get_str(root, "branch", true, &r->branch, err) < 0 ||
	    get_str(root, "base", true, &r->base, err) < 0 ||
	    get_str(root, "worktree", true, &r->worktree, err) < 0 ||
	    get_str(root, "admin", true, &r->admin, err) < 0 ||
	    get_str(root, "state", true, &state, err) < 0 ||
	    get_str(root, "boot_id", false, &r->boot_id, err) < 0 ||
	    get_str(root, "net", false, &r->net, err) < 0 ||
	    get_str(root, "policy", false, &r->policy, err) < 0 || get_ports(root, r, err) < 0)
		return -1;
	if (get_int(root, "pid", &pid, err) < 0 ||
	    get_int(root, "pid_start", &pid_start, err) < 0 ||
	    get_int(root, "exit_status", &exit_status, err) < 0 ||
	    get_int(root, "created", &r->created, err) < 0 ||
	    get_int(root, "updated", &r->updated, err) < 0 ||
	    get_int_opt(root, "sandbox_pid", 0, &sandbox_pid, err) < 0 ||
	    get_int_opt(root, "sandbox_start", 0, &sandbox_start, err) < 0)
		return -1;
	if (pid > 0x7fffffff)
		return wtb_error_set(err, 0, "field 'pid' out of range");
	if (sandbox_pid > 0x7fffffff)
		return wtb_error_set(err, 0, "field 'sandbox_pid' out of range");
	r->sandbox_pid = (pid_t)sandbox_pid;
	r->sandbox_start = (uint64_t)sandbox_start;
	if (exit_status > 255)
		return wtb_error_set(err, 0, "field 'exit_status' out of range");
	r->pid = (pid_t)pid;
	r->pid_start = (uint64_t)pid_start;
	r->exit_status = (int)exit_status;
	if (get_ending(root, r, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
		if (strcmp(state, state_names[i]) == 0) {
			r->state = (wtb_run_state)i;
			return 0;
		}
	return wtb_error_set(err, 0, "field 'state' has unknown value '%s'", state);
}

int record_parse(const char *json, wtb_record *out, wtb_error **err)
{
	_cleanup_cjson_ cJSON *root = cJSON_Parse(json);
	wtb_record r = {0};

	if (root == NULL)
		return wtb_error_set(err, 0, "not valid JSON");
	if (parse_fields(root, &r, err) < 0) {
		record_free(&r);
		return -1;
	}
	*out = r;
	return 0;
}

static void add_ending(cJSON *o, const wtb_record *r)
{
	cJSON_AddBoolToObject(o, "detached", r->detached);
	if (r->log != NULL)
		cJSON_AddStringToObject(o, "log", r->log);
	if (r->command != NULL) {
		cJSON *arr = cJSON_AddArrayToObject(o, "command");

		for (char **a = r->command; arr != NULL && *a != NULL; a++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(*a));
	}
	cJSON_AddNumberToObject(o, "signal", r->signal);
	cJSON_AddBoolToObject(o, "stopped", r->stopped);
	if (r->counted) {
		cJSON_AddNumberToObject(o, "ahead", r->ahead);
		cJSON_AddNumberToObject(o, "dirty", r->dirty);
	}
}

/* Every field of the record, in a new object. */
static cJSON *record_object(const wtb_record *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *ports;

	if (o == NULL)
		die_oom();
	cJSON_AddNumberToObject(o, "version", WTB_RECORD_VERSION);
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "repo_id", r->repo_id);
	cJSON_AddStringToObject(o, "repo", r->repo);
	cJSON_AddStringToObject(o, "workdir", r->workdir);
	cJSON_AddStringToObject(o, "branch", r->branch);
	cJSON_AddStringToObject(o, "base", r->base);
	cJSON_AddStringToObject(o, "worktree", r->worktree);
	cJSON_AddStringToObject(o, "admin", r->admin);
	cJSON_AddStringToObject(o, "state", run_state_name(r->state));
	cJSON_AddNumberToObject(o, "exit_status", r->exit_status);
	cJSON_AddNumberToObject(o, "pid", r->pid);
	cJSON_AddNumberToObject(o, "pid_start", (double)r->pid_start);
	cJSON_AddStringToObject(o, "boot_id", r->boot_id ? r->boot_id : "");
	cJSON_AddNumberToObject(o, "created", (double)r->created);
	cJSON_AddNumberToObject(o, "updated", (double)r->updated);
	ports = cJSON_AddArrayToObject(o, "ports");
	for (size_t i = 0; ports != NULL && i < r->nports; i++) {
		cJSON *p = cJSON_CreateObject();

		if (p == NULL)
			die_oom();
		cJSON_AddNumberToObject(p, "host", r->ports[i].host);
		cJSON_AddNumberToObject(p, "inside", r->ports[i].inside);
		cJSON_AddItemToArray(ports, p);
	}
	if (r->net != NULL)
		cJSON_AddStringToObject(o, "net", r->net);
	if (r->policy != NULL)
		cJSON_AddStringToObject(o, "policy", r->policy);
	cJSON_AddNumberToObject(o, "sandbox_pid", r->sandbox_pid);
	cJSON_AddNumberToObject(o, "sandbox_start", (double)r->sandbox_start);
	add_ending(o, r);
	return o;
}

char *record_format(const wtb_record *r)
{
	_cleanup_cjson_ cJSON *o = record_object(r);
	char *text;

	text = cJSON_Print(o);
	if (text == NULL)
		die_oom();
	return text;
}

int record_load(const char *path, wtb_record *out, wtb_error **err)
{
	_cleanup_free_ char *text = NULL;

	if (read_file_shared(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	if (record_parse(text, out, err) < 0) {
		/* The way out, since no other command takes the agent. */
		_cleanup_free_ char *why = wtb_error_text(*err);
		/* .../NAME/record.json */
		const char *end = strrchr(path, '/');
		const char *name = end;

		while (name != NULL && name > path && name[-1] != '/')
			name--;
		wtb_error_free(err);
		return wtb_error_set(err, 0,
				     "corrupt agent record '%s': %s ('wtbox rm --force %.*s' moves "
				     "the agent to the trash)",
				     path, why, name != NULL ? (int)(end - name) : 0,
				     name ? name : "");
	}
	return 0;
}

/* A record is padded with blanks to whole 4 KiB blocks: the next update
 * can then overwrite the spare in place (write_file_swap), and its size
 * changes only when the record outgrows its blocks. */
#define RECORD_BLOCK 4096

static int record_write(const char *path, const wtb_record *r, bool durable, wtb_error **err)
{
	_cleanup_free_ char *text = record_format(r);
	size_t len = strlen(text);
	size_t padded = (len + 1 + RECORD_BLOCK - 1) / RECORD_BLOCK * RECORD_BLOCK;

	text = xrealloc(text, padded + 1);
	memset(text + len, ' ', padded - len);
	text[padded - 1] = '\n';
	text[padded] = '\0';
	if ((durable ? write_file_atomic : write_file_swap)(path, text, padded, 0600, err) < 0)
		return wtb_error_wrap(err, "cannot save agent record");
	return 0;
}

int record_save(const char *path, const wtb_record *r, wtb_error **err)
{
	_cleanup_free_ char *spare = xasprintf("%s.spare", path);

	if (record_write(path, r, true, err) < 0)
		return -1;
	/* After a crash, an update in place can bring the spare's older
	 * content back (see write_file_swap): none older than this. */
	if (unlink(spare) < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot remove '%s'", spare);
	return 0;
}

int record_update(const char *path, const wtb_record *r, wtb_error **err)
{
	return record_write(path, r, false, err);
}

void record_free(wtb_record *r)
{
	free(r->name);
	free(r->repo_id);
	free(r->repo);
	free(r->workdir);
	free(r->branch);
	free(r->base);
	free(r->worktree);
	free(r->admin);
	free(r->boot_id);
	free(r->ports);
	free(r->net);
	free(r->policy);
	free(r->log);
	strv_freep(&r->command);
	memset(r, 0, sizeof(*r));
}

bool record_supervisor_alive(const wtb_record *r)
{
	_cleanup_free_ char *boot = boot_id();

	return record_supervisor_alive_on(r, boot);
}

bool record_supervisor_alive_on(const wtb_record *r, const char *boot)
{
	if (r->pid <= 0 || r->pid_start == 0 || r->boot_id == NULL || boot == NULL ||
	    boot[0] == '\0')
		return false;
	if (strcmp(boot, r->boot_id) != 0)
		return false;
	return proc_start_time(r->pid) == r->pid_start;
}

/* ------------------------------------------------------------------ */
/* What `ls` shows.                                                    */

static const char *const status_names[] = {
    [WTB_STATUS_CREATING] = "creating", [WTB_STATUS_RUNNING] = "running",
    [WTB_STATUS_EXITED] = "exited",	[WTB_STATUS_KILLED] = "killed",
    [WTB_STATUS_ORPHANED] = "orphaned", [WTB_STATUS_REMOVING] = "removing",
};

const char *status_name(wtb_status s)
{
	return status_names[s];
}

wtb_status record_status(const wtb_record *r, bool alive)
{
	if (r->state == WTB_STATE_REMOVING)
		return WTB_STATUS_REMOVING;
	if (r->state != WTB_STATE_EXITED) {
		/* "running" or "creating" in a record is a claim; only a live
		 * supervisor makes it true. */
		if (!alive)
			return WTB_STATUS_ORPHANED;
		return r->state == WTB_STATE_CREATING ? WTB_STATUS_CREATING : WTB_STATUS_RUNNING;
	}
	return r->signal != 0 || r->stopped ? WTB_STATUS_KILLED : WTB_STATUS_EXITED;
}

char *record_status_text(const wtb_record *r, wtb_status s)
{
	if (s == WTB_STATUS_EXITED)
		return xasprintf("exited %d", r->exit_status);
	return xstrdup(status_name(s));
}

char *record_ports_text(const wtb_record *r)
{
	strv parts = {0};
	size_t len = 1;
	char *text;

	if (r->nports == 0)
		return xstrdup("-");
	for (size_t i = 0; i < r->nports; i++) {
		const wtb_port_map *p = &r->ports[i];

		strv_push(&parts, p->host == p->inside ? xasprintf("%u", p->host)
						       : xasprintf("%u->%u", p->host, p->inside));
		len += strlen(parts.v[i]) + 1;
	}
	text = xcalloc(len, 1);
	for (size_t i = 0; i < parts.n; i++) {
		if (i > 0)
			strcat(text, ",");
		strcat(text, parts.v[i]);
	}
	strv_clear(&parts);
	return text;
}

char *record_changes_text(const wtb_record *r)
{
	if (!r->counted)
		return xstrdup("-");
	return xasprintf("+%u ~%u", r->ahead, r->dirty);
}

char *since_text(int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		return xasprintf("%llds", (long long)s);
	if (s < 3600)
		return xasprintf("%lldm", (long long)(s / 60));
	if (s < 86400)
		return xasprintf("%lldh", (long long)(s / 3600));
	return xasprintf("%lldd", (long long)(s / 86400));
}

char *record_list_format(const wtb_listed *v, size_t n)
{
	_cleanup_cjson_ cJSON *arr = cJSON_CreateArray();
	char *text;

	if (arr == NULL)
		die_oom();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = record_object(v[i].rec);

		cJSON_AddStringToObject(o, "status", status_name(v[i].status));
		cJSON_AddNumberToObject(o, "since", (double)(v[i].since < 0 ? 0 : v[i].since));
		cJSON_AddBoolToObject(o, "repo_gone", v[i].repo_gone);
		if (v[i].rec->counted) {
			cJSON *c = cJSON_AddObjectToObject(o, "changes");

			cJSON_AddNumberToObject(c, "ahead", v[i].rec->ahead);
			cJSON_AddNumberToObject(c, "dirty", v[i].rec->dirty);
		} else {
			cJSON_AddNullToObject(o, "changes");
		}
		cJSON_AddItemToArray(arr, o);
	}
	/* For machines: hundreds of records print faster without layout. */
	text = cJSON_PrintUnformatted(arr);
	if (text == NULL)
		die_oom();
	return text;
}
