/* Seccomp policies: the OCI runtime-spec `linux.seccomp` object with
 * Docker's extensions, read into typed data (pure: buffers in, values
 * out), and where a policy named on the command line is found.
 *
 * The compiled form (libseccomp, BPF) is src/filter.h. */
#ifndef WTBOX_POLICY_H
#define WTBOX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

/* Arguments a rule may compare: 0..5, as the kernel's seccomp_data. */
#define WTB_POLICY_MAX_ARG 5

/* The comparisons, numbered as libseccomp's enum scmp_compare. */
typedef enum wtb_policy_op {
	WTB_OP_NE = 1,
	WTB_OP_LT,
	WTB_OP_LE,
	WTB_OP_EQ,
	WTB_OP_GE,
	WTB_OP_GT,
	WTB_OP_MASKED_EQ,
} wtb_policy_op;

typedef struct wtb_policy_arg {
	unsigned index;
	uint64_t value;	    /* the mask for MASKED_EQ */
	uint64_t value_two; /* the value compared under the mask */
	wtb_policy_op op;
} wtb_policy_arg;

/* includes / excludes of a rule. */
typedef struct wtb_policy_cond {
	strv caps;
	strv arches;
	bool has_min_kernel;
	unsigned min_kernel[2]; /* major, minor */
} wtb_policy_cond;

typedef struct wtb_policy_rule {
	int index; /* in syscalls[], for messages */
	strv names;
	uint32_t action; /* a libseccomp SCMP_ACT_* value, errno included */
	wtb_policy_arg *args;
	size_t nargs;
	wtb_policy_cond includes, excludes;
} wtb_policy_rule;

/* An archMap entry; arch 0: a name this libseccomp does not support. */
typedef struct wtb_policy_archmap {
	uint32_t arch;
	uint32_t *sub;
	size_t nsub;
	strv sub_names; /* the SCMP_ARCH_* names of sub, in order */
} wtb_policy_archmap;

typedef struct wtb_policy {
	char *source; /* the file (or display name), for messages */
	/* The file's bytes as read (policy_load_file only; NULL for a
	 * parsed buffer): what a compiled filter is cached under. */
	char *text;
	size_t text_len;
	char *description; /* top-level "description" or "comment", or NULL */
	uint32_t default_action;
	uint32_t *arches; /* "architectures"; 0 entries: unsupported here */
	size_t narches;
	strv arch_names; /* their SCMP_ARCH_* names, in order */
	wtb_policy_archmap *archmap;
	size_t narchmap;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* */
	wtb_policy_rule *rules;
	size_t nrules;
	bool parsed; /* false after policy_read until policy_parse_text */
} wtb_policy;

/* Whether the kernel runs x32 system calls (x86_64 only). Most kernels
 * do not (not built in, or off unless booted with syscall.x32=y); it can
 * change only with a reboot. */
typedef enum wtb_x32 {
	WTB_X32_ASK = 0, /* not known: filter_compile asks the kernel */
	WTB_X32_YES,
	WTB_X32_NO,
} wtb_x32;

/* What decides whether a rule applies: the native architecture (a
 * libseccomp SCMP_ARCH_* token) and the running kernel's version. No
 * capability is ever held inside the sandbox. */
typedef struct wtb_policy_env {
	uint32_t native;
	unsigned kernel[2];
	wtb_x32 x32;
} wtb_policy_env;

/* This machine's. */
void policy_env_host(wtb_policy_env *env);

/* Parse LEN bytes of JSON (need not be NUL-terminated). `source` names
 * the buffer in messages: "SOURCE:LINE:COL: ..." for syntax errors,
 * "SOURCE: syscalls[3]: ..." for the rest. */
int policy_parse(wtb_policy *p, const char *buf, size_t len, const char *source, wtb_error **err);

/* Read and parse a file (at most 1 MiB). */
int policy_load_file(wtb_policy *p, const char *path, wtb_error **err);

void policy_free(wtb_policy *p);
#define _cleanup_policy_ __attribute__((cleanup(policy_free)))

/* Whether rule r takes part in the filter on `env`: a rule that includes
 * a capability never does (none is held), one that excludes capabilities
 * always does; arches and minKernel are checked against env. */
bool policy_rule_applies(const wtb_policy_rule *r, const wtb_policy_env *env);

/* "SCMP_ACT_ERRNO(EPERM)"-style text for an action (static buffer). */
const char *policy_action_name(uint32_t action);
/* "SCMP_ARCH_X86_64" for a token, NULL when unknown. */
const char *policy_arch_name(uint32_t arch);

/* Whether a process on env's machine can make system calls of the ABI
 * `arch`: the native one, and those a kernel of the native architecture
 * runs besides (i386 and x32 on x86_64, arm on aarch64, ...); x32 only
 * where env->x32 is WTB_X32_YES. Never a token of 0. A filter covers
 * these and no other: another architecture's calls never happen here. */
bool policy_arch_runs(uint32_t arch, const wtb_policy_env *env);

/* A policy argument is a FILE when it holds a '/' or ends in ".json",
 * otherwise the NAME of a shipped policy. */
bool policy_arg_is_file(const char *arg);

/* Policy names: [a-z0-9][a-z0-9_.-]*, at most 64, no "..". */
int policy_name_check(const char *name, wtb_error **err);

/* The directories searched for NAME.json, in order: $WTBOX_POLICY_DIR,
 * the policies/ of the source tree the binary was built in (when it
 * exists), WTBOX_DATADIR/policies. */
void policy_dirs(strv *dirs);

/* NAME or FILE -> the path of the file. */
int policy_find(const char *arg, char **path, wtb_error **err);

/* policy_find + policy_load_file: p->source is the file's path. */
int policy_open(wtb_policy *p, const char *arg, wtb_error **err);
/* policy_find and read the file, unparsed: p->source and p->text only,
 * all a compiled filter is found under in the cache (parsing takes about
 * 0.4 ms, more than the rest of a cache hit). */
int policy_read(wtb_policy *p, const char *arg, wtb_error **err);
/* Parse what policy_read read; a no-op once parsed. */
int policy_parse_text(wtb_policy *p, wtb_error **err);

#endif
