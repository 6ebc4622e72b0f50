/* wtbox sync NAME: bring what an agent did in git to the shared
 * repository now, while it runs or after. */
#include <getopt.h>
#include <stdio.h>

#include "agent.h"
#include "cmd.h"
#include "error.h"
#include "gitstate.h"
#include "name.h"
#include "util.h"

static const char sync_usage[] =
    "usage: wtbox sync NAME\n"
    "\n"
    "Import the git work of agent NAME into the repository: its new commits,\n"
    "its branch wtbox/NAME, the branches it created (as wtbox/NAME@BRANCH), the\n"
    "index and HEAD of its worktree. The same happens when its sandbox ends; sync\n"
    "does it while the agent runs, or for an agent whose wtbox was killed.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static int sync_main(int argc, char **argv, const wtb_global *g)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	__attribute__((cleanup(agent_free))) wtb_agent a = WTB_AGENT_INIT;
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_agent_opts o = {.dir = g->dir};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(sync_usage, stdout);
			return 0;
		}
		return cmd_usage_error("sync", "unknown option '%s'", cmd_bad_option(argv));
	}
	if (optind >= argc)
		return cmd_usage_error("sync", "no agent name given");
	if (optind + 1 < argc)
		return cmd_usage_error("sync", "one agent name only");
	o.name = argv[optind];
	if (agent_prepare(&a, &o, &err) < 0 || agent_sync(&a, &o, &imp, &err) < 0)
		return wtb_error_report(err);
	if (!import_any(&imp) && imp.notes.n == 0)
		printf("wtbox: agent '%s': nothing to import\n", a.name);
	import_print(stdout, a.name, &imp);
	return 0;
}

const wtb_command cmd_sync_def = {
    .name = "sync",
    .summary = "import an agent's commits and branch into the repository now",
    .usage = sync_usage,
    .run = sync_main,
};
