#include "report.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

static void add_list(cJSON *o, const char *key, const strv *list)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; i < list->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(list->v[i]));
}

static void add_import(cJSON *o, const wtb_import *imp, const char *error)
{
	cJSON *refs = cJSON_AddArrayToObject(o, "imported");

	for (size_t i = 0; i < imp->nrefs; i++) {
		const wtb_import_ref *e = &imp->refs[i];
		cJSON *ref = cJSON_CreateObject();

		cJSON_AddStringToObject(ref, "ref", e->ref);
		cJSON_AddStringToObject(ref, "from", e->from);
		if (e->old[0] != '\0')
			cJSON_AddStringToObject(ref, "old", e->old);
		else
			cJSON_AddNullToObject(ref, "old");
		cJSON_AddStringToObject(ref, "new", e->new);
		cJSON_AddNumberToObject(ref, "commits", (double)e->commits);
		cJSON_AddBoolToObject(ref, "forced", e->forced);
		cJSON_AddItemToArray(refs, ref);
	}
	add_list(o, "not_imported", &imp->refused);
	add_list(o, "git_notes", &imp->notes);
	cJSON_AddNumberToObject(o, "objects_imported", (double)imp->objects);
	cJSON_AddBoolToObject(o, "index_carried", imp->index);
	if (error != NULL)
		cJSON_AddStringToObject(o, "import_error", error);
	else
		cJSON_AddNullToObject(o, "import_error");
}

char *report_json(const wtb_report *r)
{
	const wtb_changes *c = r->changes;
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (o == NULL)
		die_oom();
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "repo", r->repo);
	cJSON_AddStringToObject(o, "branch", r->branch);
	cJSON_AddStringToObject(o, "worktree", r->worktree);
	cJSON_AddStringToObject(o, "base", r->base);
	cJSON_AddStringToObject(o, "head", c->head);
	cJSON_AddNumberToObject(o, "commits_ahead", (double)c->ahead);
	if (c->head_ref != NULL)
		cJSON_AddStringToObject(o, "head_ref", c->head_ref);
	cJSON_AddBoolToObject(o, "gitfile_changed", c->gitfile_changed);
	add_list(o, "staged", &c->staged);
	add_list(o, "modified", &c->modified);
	add_list(o, "deleted", &c->deleted);
	add_list(o, "untracked", &c->untracked);
	add_list(o, "ignored", &c->ignored);
	add_list(o, "branches", &c->branches);
	add_list(o, "nested", &c->nested);
	add_list(o, "nested_stuck", &c->nested_stuck);
	if (r->nested_store != NULL && c->nested.n > 0)
		cJSON_AddStringToObject(o, "nested_store", r->nested_store);
	else
		cJSON_AddNullToObject(o, "nested_store");
	if (r->import != NULL)
		add_import(o, r->import, r->import_error);
	cJSON_AddNumberToObject(o, "processes_left", c->processes_left);
	cJSON_AddNumberToObject(o, "exit_status", r->exit_status);
	cJSON_AddBoolToObject(o, "changed", changes_any(c));
	cJSON_AddStringToObject(o, "action", r->removed ? "removed" : "kept");
	if (r->trash != NULL)
		cJSON_AddStringToObject(o, "trash", r->trash);
	else
		cJSON_AddNullToObject(o, "trash");
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text == NULL)
		die_oom();
	return text;
}

int report_write(const char *path, const wtb_report *r, wtb_error **err)
{
	_cleanup_free_ char *text = report_json(r);
	_cleanup_free_ char *line = xasprintf("%s\n", text);

	if (write_file_atomic(path, line, strlen(line), 0644, err) < 0)
		return wtb_error_wrap(err, "cannot write report");
	return 0;
}

int report_check(const char *path, wtb_error **err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	struct stat st;

	if (path[0] == '\0')
		return wtb_error_set(err, 0, "invalid --report '': expected a file name");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return wtb_error_set(err, 0, "cannot write the report to '%s': it is a directory",
				     path);
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0'; /* "/": the root */
	else
		*slash = '\0';
	/* The report is written to a temporary file there, then renamed. */
	if (access(dir, W_OK | X_OK) < 0)
		return wtb_error_errno(err, "cannot write the report to '%s'", path);
	return 0;
}

/* What the agent named is escaped on the terminal, not in the JSON: its
 * tools need the names as they are (cJSON escapes them for JSON). */
static void print_list(FILE *f, const char *what, const strv *list)
{
	if (list->n == 0)
		return;
	fprintf(f, "  %-10s", what);
	for (size_t i = 0; i < list->n && i < 5; i++) {
		_cleanup_free_ char *shown = term_escape(list->v[i]);

		fprintf(f, "%s%s", i ? ", " : "", shown);
	}
	if (list->n > 5)
		fprintf(f, ", ... (%zu in all)", list->n);
	fputc('\n', f);
}

void report_print(FILE *f, const wtb_report *r)
{
	const wtb_changes *c = r->changes;

	if (r->removed) {
		fprintf(f, "wtbox: agent '%s' changed nothing; removed (trash: '%s')\n", r->name,
			r->trash);
		return;
	}
	fprintf(f,
		"wtbox: agent '%s' kept: %zu commit%s ahead, %zu staged, %zu modified, "
		"%zu deleted, %zu untracked, %zu ignored",
		r->name, c->ahead, c->ahead == 1 ? "" : "s", c->staged.n, c->modified.n,
		c->deleted.n, c->untracked.n, c->ignored.n);
	fputc('\n', f);
	fprintf(f, "  worktree  %s\n", r->worktree);
	fprintf(f, "  branch    %s (base %.12s, head %.12s)\n", r->branch, r->base, c->head);
	if (c->head_ref != NULL) {
		_cleanup_free_ char *shown = term_escape(c->head_ref);

		fprintf(f, "  HEAD      %s\n", shown);
	}
	if (c->gitfile_changed)
		fprintf(f, "  warning   the worktree's .git file was changed: check it before "
			   "running git there\n");
	print_list(f, "staged", &c->staged);
	print_list(f, "modified", &c->modified);
	print_list(f, "deleted", &c->deleted);
	print_list(f, "untracked", &c->untracked);
	print_list(f, "ignored", &c->ignored);
	print_list(f, "branches", &c->branches);
	print_list(f, "nested", &c->nested);
	if (c->nested.n > 0)
		fprintf(f,
			"  note      the agent's own git repositories (nested) are kept in '%s' "
			"between its runs: git there would obey their config\n",
			r->nested_store != NULL ? r->nested_store : "its state");
	for (size_t i = 0; i < c->nested_stuck.n; i++) {
		_cleanup_free_ char *shown = term_escape(c->nested_stuck.v[i]);

		fprintf(f,
			"  warning   a git repository of the agent's stays in the worktree (%s): "
			"check it before running git there\n",
			shown);
	}
	fprintf(f, "  exit      %d\n", r->exit_status);
}

char *gc_items_json(const wtb_gc_item *items, size_t n, bool done)
{
	cJSON *a = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", items[i].kind);
		cJSON_AddStringToObject(o, "name", items[i].name);
		cJSON_AddStringToObject(o, "path", items[i].path);
		cJSON_AddStringToObject(o, "action", items[i].action);
		cJSON_AddBoolToObject(o, "done", done);
		cJSON_AddItemToArray(a, o);
	}
	text = cJSON_Print(a);
	cJSON_Delete(a);
	if (text == NULL)
		die_oom();
	return text;
}
