/* The subcommands: one file each, one entry in main.c's table. */
#ifndef WTBOX_CMD_H
#define WTBOX_CMD_H

typedef struct wtb_global {
	const char *dir; /* -C DIR, or NULL */
} wtb_global;

typedef struct wtb_command {
	const char *name;
	const char *summary;
	const char *usage; /* full help text, printed for --help */
	int (*run)(int argc, char **argv, const wtb_global *g);
} wtb_command;

extern const wtb_command cmd_run_def;
extern const wtb_command cmd_sync_def;
extern const wtb_command cmd_policy_def;
/* Background agents and their records. */
extern const wtb_command cmd_ls_def;
extern const wtb_command cmd_logs_def;
extern const wtb_command cmd_wait_def;
extern const wtb_command cmd_stop_def;
/* The agents' lifecycle: rm, gc, exec, shell. */
extern const wtb_command cmd_rm_def;
extern const wtb_command cmd_gc_def;
extern const wtb_command cmd_exec_def;
extern const wtb_command cmd_shell_def;

/* "wtbox CMD: unknown option '-x'" + hint; returns 125. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The option getopt just rejected, for the message. */
const char *cmd_bad_option(char **argv);

/* An option that takes one value, given again, would silently replace the
 * first one: `once` lists such options by their getopt value (0 ends it,
 * at most 32 entries), `seen` remembers which came. Returns the option's
 * name ("--name", or "-C" when it has no long form) when `opt` is one of
 * them and came before, for "option '--name' given twice"; else NULL. */
struct option;
const char *cmd_given_twice(const struct option *longopts, const int *once, unsigned *seen,
			    int opt);

#endif
