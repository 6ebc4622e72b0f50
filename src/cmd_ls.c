/* wtbox ls: the agents of this repository (or of all), from their records,
 * without any lock and without opening their worktrees: fast with
 * hundreds of agents. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cmd.h"
#include "error.h"
#include "registry.h"
#include "stranded.h"
#include "util.h"

static const char ls_usage[] =
    "usage: wtbox ls [--all] [--json]\n"
    "\n"
    "List the agents of this repository, one line each:\n"
    "  NAME     the agent's name\n"
    "  STATUS   running (its supervisor is alive), exited N (the command's exit\n"
    "           status), killed (ended by a signal, or stopped by wtbox stop),\n"
    "           orphaned (its supervisor was killed: see wtbox gc), creating,\n"
    "           removing (its removal was interrupted: wtbox rm NAME finishes it)\n"
    "  BRANCH   its branch, wtbox/NAME\n"
    "  PORTS    host ports forwarded to it while it runs (HOST, HOST->INSIDE)\n"
    "  SINCE    time since its status last changed\n"
    "  CHANGES  +COMMITS ~FILES: commits on its branch not in its base, and files\n"
    "           changed in its worktree, counted when its last run ended; '-'\n"
    "           while it runs (and before it first ended)\n"
    "A record that cannot be read is reported on stderr and skipped. With --all,\n"
    "a repository that is gone (deleted, moved or renamed) is marked '(gone)';\n"
    "'wtbox -C PATH rm --force NAME' removes such an agent. Without --all, ls\n"
    "of a moved repository says on stderr how many of its agents are there.\n"
    "\n"
    "Options:\n"
    "  -a, --all   the agents of every repository (with a REPO column)\n"
    "      --json  a JSON array: every field of each record, plus \"status\",\n"
    "              \"since\" (seconds), \"changes\" ({\"ahead\", \"dirty\"} or null)\n"
    "              and \"repo_gone\"\n"
    "  -h, --help  show this help\n";

typedef struct ls_row {
	char *cols[7]; /* REPO, NAME, STATUS, BRANCH, PORTS, SINCE, CHANGES */
} ls_row;

static const char *const headers[] = {"REPO",  "NAME",	"STATUS", "BRANCH",
				      "PORTS", "SINCE", "CHANGES"};

static const char *short_branch(const char *ref)
{
	return str_has_prefix(ref, "refs/heads/") ? ref + strlen("refs/heads/") : ref;
}

/* Columns a text takes on a terminal: paths may hold any UTF-8 (and
 * what term_escape left of anything else is ASCII). A character of no
 * known width counts as one column. */
static size_t display_width(const char *text)
{
	static locale_t utf8 = (locale_t)0;
	static bool tried = false;
	size_t width = 0, len = strlen(text);
	mbstate_t st;

	if (!tried) {
		tried = true;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (utf8 == (locale_t)0) {
		/* No UTF-8 locale: a column per character. */
		for (const unsigned char *p = (const unsigned char *)text; *p; p++)
			width += (*p & 0xc0) != 0x80;
		return width;
	}
	locale_t old = uselocale(utf8);

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < len;) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, text + i, len - i, &st);
		int w;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
			w = 1;
		} else {
			w = wcwidth(wc);
		}
		width += w < 0 ? 1 : (size_t)w;
		i += n;
	}
	uselocale(old);
	return width;
}

static void print_cell(size_t width, const char *text, bool last)
{
	if (last)
		printf("%s\n", text);
	else
		printf("%s%*s  ", text, (int)(width - display_width(text)), "");
}

static void print_table(const wtb_registry *reg, const wtb_listed *v, bool all)
{
	ls_row *rows = xcalloc(reg->n + 1, sizeof(*rows));
	size_t width[ARRAY_SIZE(headers)];
	time_t now = time(NULL);
	size_t first = all ? 0 : 1;

	for (size_t c = 0; c < ARRAY_SIZE(headers); c++)
		width[c] = strlen(headers[c]);
	for (size_t i = 0; i < reg->n; i++) {
		const wtb_record *r = &reg->v[i];
		char **col = rows[i].cols;

		col[0] = term_escape(r->workdir);
		if (v[i].repo_gone) {
			char *gone = xasprintf("%s (gone)", col[0]);

			free(col[0]);
			col[0] = gone;
		}
		col[1] = xstrdup(r->name);
		col[2] = record_status_text(r, v[i].status);
		col[3] = xstrdup(short_branch(r->branch));
		/* Ports are held while the supervisor runs; a run that is over
		 * holds none (the record keeps them for the next run). */
		col[4] = v[i].status == WTB_STATUS_RUNNING ? record_ports_text(r) : xstrdup("-");
		col[5] = since_text((int64_t)now - r->updated);
		/* Counts of a run that is over: a running agent's would be stale. */
		col[6] = v[i].status == WTB_STATUS_RUNNING || v[i].status == WTB_STATUS_CREATING
			     ? xstrdup("-")
			     : record_changes_text(r);
		for (size_t c = 0; c < ARRAY_SIZE(headers); c++)
			if (display_width(col[c]) > width[c])
				width[c] = display_width(col[c]);
	}
	for (size_t c = first; c < ARRAY_SIZE(headers); c++)
		print_cell(width[c], headers[c], c + 1 == ARRAY_SIZE(headers));
	for (size_t i = 0; i < reg->n; i++) {
		for (size_t c = first; c < ARRAY_SIZE(headers); c++)
			print_cell(width[c], rows[i].cols[c], c + 1 == ARRAY_SIZE(headers));
		for (size_t c = 0; c < ARRAY_SIZE(headers); c++)
			free(rows[i].cols[c]);
	}
	free(rows);
}

static int ls_agents(const wtb_global *g, bool all, bool json, wtb_error **err)
{
	__attribute__((cleanup(repo_close))) wtb_repo repo = {0};
	__attribute__((cleanup(dirs_free))) wtb_dirs dirs = {0};
	__attribute__((cleanup(registry_free))) wtb_registry reg = {0};
	_cleanup_free_ wtb_listed *v = NULL;
	_cleanup_free_ char *boot = boot_id();
	time_t now = time(NULL);

	/* The repository only names the directory to read: with --all there
	 * need not be one. */
	if (!all && repo_open(&repo, g->dir ? g->dir : ".", false, err) < 0)
		return -1;
	if (dirs_from_env(&dirs, err) < 0 ||
	    registry_read(&reg, &dirs, all ? NULL : repo.id, err) < 0)
		return -1;
	v = xcalloc(reg.n + 1, sizeof(*v));
	for (size_t i = 0; i < reg.n; i++) {
		/* Only a record that claims a supervisor needs /proc. */
		bool alive = reg.v[i].state != WTB_STATE_EXITED &&
			     record_supervisor_alive_on(&reg.v[i], boot);

		v[i] = (wtb_listed){.rec = &reg.v[i],
				    .status = record_status(&reg.v[i], alive),
				    .since = (int64_t)now - reg.v[i].updated,
				    .repo_gone = all && record_repo_gone(&reg.v[i])};
	}
	if (json) {
		_cleanup_free_ char *text = record_list_format(v, reg.n);

		puts(text);
	} else {
		print_table(&reg, v, all);
	}
	if (fflush(stdout) != 0)
		return wtb_error_errno(err, "cannot write the list");
	if (!all)
		stranded_say_moved(&repo, &dirs);
	return 0;
}

enum { OPT_JSON = 256 };

static int ls_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_error_ wtb_error *err = NULL;
	bool all = false, json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+ah", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(ls_usage, stdout);
			return 0;
		default:
			return cmd_usage_error("ls", "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind < argc)
		return cmd_usage_error("ls", "unexpected argument '%s'", argv[optind]);
	if (ls_agents(g, all, json, &err) < 0)
		return wtb_error_report(err);
	return 0;
}

const wtb_command cmd_ls_def = {
    .name = "ls",
    .summary = "list the agents and their status",
    .usage = ls_usage,
    .run = ls_main,
};
