#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

char *record_format(const wtb_record *r)
{
	_cleanup_cjson_ cJSON *o = cJSON_CreateObject();
	cJSON *ports;
	char *text;

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
	text = cJSON_Print(o);
	if (text == NULL)
		die_oom();
	return text;
}

int record_load(const char *path, wtb_record *out, wtb_error **err)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	if (record_parse(text, out, err) < 0)
		return wtb_error_wrap(err, "corrupt agent record '%s'", path);
	return 0;
}

int record_save(const char *path, const wtb_record *r, wtb_error **err)
{
	_cleanup_free_ char *text = record_format(r);
	size_t len = strlen(text);

	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	if (write_file_atomic(path, text, len, 0600, err) < 0)
		return wtb_error_wrap(err, "cannot save agent record");
	return 0;
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
	memset(r, 0, sizeof(*r));
}

bool record_supervisor_alive(const wtb_record *r)
{
	_cleanup_free_ char *boot = NULL;

	if (r->pid <= 0 || r->pid_start == 0 || r->boot_id == NULL)
		return false;
	boot = boot_id();
	if (strcmp(boot, r->boot_id) != 0)
		return false;
	return proc_start_time(r->pid) == r->pid_start;
}
