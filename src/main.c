/* wtbox: argv, global options and the subcommand table. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <git2.h>

#include "cmd.h"
#include "error.h"
#include "util.h"

static const wtb_command *const commands[] = {
    &cmd_run_def,
    &cmd_sync_def,
    &cmd_policy_def,
    /* Background agents and their records. */
    &cmd_ls_def,
    &cmd_logs_def,
    &cmd_wait_def,
    &cmd_stop_def,
    /* The agents' lifecycle. */
    &cmd_rm_def,
    &cmd_gc_def,
    &cmd_exec_def,
    &cmd_shell_def,
};

static void print_usage(FILE *f)
{
	fputs("usage: wtbox [-C DIR] COMMAND [OPTIONS] [-- CMD ARGS...]\n"
	      "\n"
	      "Run coding agents side by side, each in its own git worktree and branch.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "  -C DIR         run as if started in DIR\n"
	      "  -h, --help     show this help (wtbox COMMAND --help: help for COMMAND)\n"
	      "  -V, --version  show the version\n",
	      f);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wtbox%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* The hint on the same line: an error is one line. */
	fprintf(stderr, " (see 'wtbox %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return WTB_EXIT_ERROR;
}

const char *cmd_bad_option(char **argv)
{
	static char short_opt[3];

	const char *arg = argv[optind - 1];

	/* A long option as typed (without "=value"); getopt_long's optopt
	 * would give its short letter instead. */
	if (str_has_prefix(arg, "--")) {
		static char long_opt[64];

		snprintf(long_opt, sizeof(long_opt), "%.*s", (int)strcspn(arg, "="), arg);
		return long_opt;
	}
	if (optopt != 0) {
		snprintf(short_opt, sizeof(short_opt), "-%c", optopt);
		return short_opt;
	}
	return arg;
}

const char *cmd_given_twice(const struct option *longopts, const int *once, unsigned *seen, int opt)
{
	static char name[64];

	for (unsigned i = 0; i < 32 && once[i] != 0; i++) {
		if (once[i] != opt)
			continue;
		if (!(*seen & (1U << i))) {
			*seen |= 1U << i;
			return NULL;
		}
		/* Named by its long form whichever form was typed: -n and
		 * --name are the same option. */
		snprintf(name, sizeof(name), "-%c", opt);
		for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
			if (o->val == opt && o->flag == NULL)
				snprintf(name, sizeof(name), "--%s", o->name);
		return name;
	}
	return NULL;
}

static const wtb_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const wtb_command *c;

	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (c == NULL)
		return cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

static int dispatch(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static const int once[] = {'C', 0};
	wtb_global g = {0};
	const wtb_command *c;
	const char *twice;
	unsigned seen = 0;
	int opt;

	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+:C:hV", longopts, NULL)) != -1) {
		if ((twice = cmd_given_twice(longopts, once, &seen, opt)) != NULL)
			return cmd_usage_error(NULL, "option '%s' given twice", twice);
		switch (opt) {
		case 'C':
			g.dir = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'V':
			printf("wtbox %s\n", WTBOX_VERSION);
			return 0;
		case ':':
			return cmd_usage_error(NULL, "option '%s' needs an argument",
					       cmd_bad_option(argv));
		default:
			return cmd_usage_error(NULL, "unknown option '%s'", cmd_bad_option(argv));
		}
	}
	if (optind >= argc)
		return cmd_usage_error(NULL, "no command given");
	if (strcmp(argv[optind], "help") == 0)
		return help(argc - optind, argv + optind);
	c = find_command(argv[optind]);
	if (c == NULL)
		return cmd_usage_error(NULL, "unknown command '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* 0, not 1: glibc then re-initialises for the next parse */
	return c->run(argc, argv, &g);
}

/* With stdin, stdout or stderr closed, the next open file would take its
 * number, and the sandbox would see it as a standard stream. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			abort();
}

#ifdef __SANITIZE_ADDRESS__
const char *__asan_default_options(void);
/* Under the address sanitizer, RLIMIT_DATA cannot cap the status child
 * (changes.c: the shadow memory counts as data), so a single allocation
 * over 2 GiB fails instead, as the limit would make it. */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=2048";
}
#endif

int main(int argc, char **argv)
{
	int status;

	ensure_std_fds();
	git_libgit2_init();
	status = dispatch(argc, argv);
	git_libgit2_shutdown();
	return status;
}
