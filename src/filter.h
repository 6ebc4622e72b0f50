/* A policy compiled with libseccomp into classic BPF, held in memory: the
 * supervisor compiles it before anything of the run exists, the command
 * loads it last before exec. */
#ifndef WTBOX_FILTER_H
#define WTBOX_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "util.h"

/* The kernel's limit on one classic BPF program. */
#define BPF_MAXINSNS_KERNEL 4096

typedef struct wtb_filter {
	struct sock_fprog prog; /* what command_exec() loads */
	unsigned flags;		/* SECCOMP_FILTER_FLAG_* for seccomp(2) */
	uint32_t default_action;
	uint32_t arches[16]; /* the ABIs the filter covers */
	size_t narches;
	size_t nrules;	 /* rules of the policy that apply here */
	strv skipped;	 /* syscall names this libseccomp does not know */
	strv skipped_at; /* "syscalls[N]" for each of them */
	/* Architectures the policy names that cannot run here, left out of
	 * the filter ("S390X", as filter_arches_text names them). Not kept
	 * in the cache of compiled filters. */
	strv left_out;
} wtb_filter;

typedef struct wtb_filter_opts {
	/* Compile every ERRNO action (and NOTIFY) as a user notification,
	 * for the supervisor to report and answer (--log-denials). */
	bool notify;
} wtb_filter_opts;

/* Compile p for env. The filter covers the native ABI and those the
 * policy names ("architectures", and the subArchitectures of the native
 * archMap entry) that can run here (policy_arch_runs); the others are
 * left out, named in f->left_out. On x86_64 the filter always covers the
 * x86_64 and i386 ABIs, and x32 where the kernel runs x32 calls; where
 * it does not, the filter answers every x32 call ENOSYS (as the kernel
 * would) without rules for it. SCMP_ACT_NOTIFY in a policy means "deny
 * with ENOSYS" (what the kernel answers when nobody listens). */
int filter_compile(wtb_filter *f, const wtb_policy *p, const wtb_policy_env *env,
		   const wtb_filter_opts *opts, wtb_error **err);

/* Ask the kernel what env leaves to the compile (env->x32 on x86_64):
 * once for several compiles. */
void filter_env_settle(wtb_policy_env *env);

void filter_free(wtb_filter *f);
#define _cleanup_filter_ __attribute__((cleanup(filter_free)))

/* Load the filter into the calling thread (no_new_privs must be set).
 * With f->flags holding SECCOMP_FILTER_FLAG_NEW_LISTENER the listener fd
 * lands in *listener. */
int filter_load(const wtb_filter *f, int *listener, wtb_error **err);

/* "x86_64 x86 x32" (caller frees). */
char *filter_arches_text(const wtb_filter *f);

#endif
