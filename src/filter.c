/* wtb_policy -> classic BPF with libseccomp; loading it. */
#include "filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}
#define _cleanup_scmp_ __attribute__((cleanup(seccomp_releasep)))

void filter_free(wtb_filter *f)
{
	free(f->prog.filter);
	strv_clear(&f->skipped);
	strv_clear(&f->skipped_at);
	strv_clear(&f->left_out);
	memset(f, 0, sizeof(*f));
}

/* What the filter does for a policy action. */
static uint32_t effective_action(uint32_t action, const wtb_filter_opts *opts)
{
	bool is_errno = (action & 0xffff0000U) == SCMP_ACT_ERRNO(0);

	if (opts->notify && (is_errno || action == SCMP_ACT_NOTIFY))
		return SCMP_ACT_NOTIFY;
	/* Nobody but wtbox could answer a notification, and wtbox does only
	 * for --log-denials: otherwise the call fails as it would with no
	 * listener at all. */
	if (action == SCMP_ACT_NOTIFY)
		return SCMP_ACT_ERRNO(ENOSYS);
	return action;
}

static bool covers(const wtb_filter *f, uint32_t arch)
{
	for (size_t i = 0; i < f->narches; i++)
		if (f->arches[i] == arch)
			return true;
	return false;
}

static void add_arch(wtb_filter *f, uint32_t arch)
{
	if (arch != 0 && f->narches < ARRAY_SIZE(f->arches) && !covers(f, arch))
		f->arches[f->narches++] = arch;
}

#define X32_SYSCALL_BIT 0x40000000L

/* Asked in a child: where x32 is off, an outer filter (a container's,
 * a service manager's) may end the process that tries. Anything but the
 * call's plain success counts as "no": without x32 in the filter, every
 * x32 call is refused, which is never less safe. */
static wtb_x32 kernel_runs_x32(void)
{
	pid_t child = fork();
	int ws;

	if (child == 0)
		_exit(syscall(X32_SYSCALL_BIT | SYS_getpid) > 0 ? 0 : 1);
	if (child < 0)
		return WTB_X32_NO;
	while (waitpid(child, &ws, 0) < 0)
		if (errno != EINTR)
			return WTB_X32_NO;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? WTB_X32_YES : WTB_X32_NO;
}

/* An architecture the policy names: in the filter where it can run
 * here, else left out (another machine's calls never reach this filter,
 * and libseccomp refuses an architecture of the other byte order). */
static void pick_arch(wtb_filter *f, uint32_t arch, const char *name, const wtb_policy_env *env)
{
	const char *shown = str_has_prefix(name, "SCMP_ARCH_") ? name + strlen("SCMP_ARCH_") : name;

	if (policy_arch_runs(arch, env)) {
		add_arch(f, arch);
		return;
	}
	for (size_t i = 0; i < f->left_out.n; i++)
		if (strcmp(f->left_out.v[i], shown) == 0)
			return;
	strv_push(&f->left_out, xstrdup(shown));
}

/* The ABIs: the native one; those the policy names and the native entry
 * of archMap with its sub-architectures, where they run here; and on
 * x86_64 always i386 and x32 as well: a 64-bit process can make 32-bit
 * system calls (int $0x80) and x32 ones (bit 30 of the number), and a
 * policy written with one ABI in mind must not leave the others open.
 * x32 only where the kernel runs its calls: elsewhere they fail before
 * doing anything, and the filter refuses them all (ENOSYS, see
 * compile_arch) in a few instructions instead of a third of its length,
 * which the kernel pays for at every load. */
static void pick_arches(wtb_filter *f, const wtb_policy *p, const wtb_policy_env *env)
{
	add_arch(f, env->native);
	for (size_t i = 0; i < p->narches; i++)
		pick_arch(f, p->arches[i], p->arch_names.v[i], env);
	for (size_t i = 0; i < p->narchmap; i++) {
		if (p->archmap[i].arch != env->native)
			continue;
		for (size_t k = 0; k < p->archmap[i].nsub; k++)
			pick_arch(f, p->archmap[i].sub[k], p->archmap[i].sub_names.v[k], env);
	}
	if (env->native == SCMP_ARCH_X86_64) {
		add_arch(f, SCMP_ARCH_X86);
		if (env->x32 == WTB_X32_YES)
			add_arch(f, SCMP_ARCH_X32);
	}
}

static void skip_name(wtb_filter *f, const char *name, int index)
{
	for (size_t i = 0; i < f->skipped.n; i++)
		if (strcmp(f->skipped.v[i], name) == 0)
			return;
	strv_push(&f->skipped, xstrdup(name));
	strv_push(&f->skipped_at, xasprintf("syscalls[%d]", index));
}

/* One rule into the context of one ABI. */
static int add_rule(wtb_filter *f, scmp_filter_ctx ctx, uint32_t arch, const wtb_policy *p,
		    const wtb_policy_rule *r, const wtb_filter_opts *opts, wtb_error **err)
{
	struct scmp_arg_cmp cmp[WTB_POLICY_MAX_ARG + 1];
	uint32_t action = effective_action(r->action, opts);

	/* libseccomp refuses a rule that says what the default says. */
	if (action == f->default_action)
		return 0;
	for (size_t i = 0; i < r->nargs; i++)
		cmp[i] = (struct scmp_arg_cmp){.arg = r->args[i].index,
					       .op = (enum scmp_compare)r->args[i].op,
					       .datum_a = r->args[i].value,
					       .datum_b = r->args[i].value_two};
	for (size_t i = 0; i < r->names.n; i++) {
		const char *name = r->names.v[i];
		int nr = seccomp_syscall_resolve_name(name);
		int rc;

		/* Newer profiles name system calls older libraries lack. */
		if (nr == __NR_SCMP_ERROR) {
			skip_name(f, name, r->index);
			continue;
		}
		/* Where a call exists only inside a multiplexer (socket() in
		 * i386's socketcall), libseccomp can compare the multiplexer's
		 * first argument only: it would drop the rule's comparisons,
		 * turning "allow socket(AF_UNIX)" into "allow every socket".
		 * Such a rule is left out on that ABI, where the call then
		 * gets what the policy says for it without arguments (or for
		 * the multiplexer), else the default. */
		if (r->nargs > 0 && seccomp_syscall_resolve_name_arch(arch, name) < 0)
			continue;
		/* The number is the native one: libseccomp translates it to
		 * this ABI's by name. */
		rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->nargs, cmp);
		if (rc < 0)
			return wtb_error_set(err, -rc,
					     "%s: syscalls[%d]: cannot add a rule for '%s'",
					     p->source, r->index, name);
	}
	return 0;
}

/* The filter of one ABI. */
static int compile_arch(wtb_filter *f, scmp_filter_ctx *out, uint32_t arch, const wtb_policy *p,
			const wtb_policy_env *env, const wtb_filter_opts *opts, wtb_error **err)
{
	_cleanup_scmp_ scmp_filter_ctx ctx = seccomp_init(f->default_action);
	int rc = 0;

	if (ctx == NULL)
		return wtb_error_set(err, EINVAL, "cannot compile policy '%s'", p->source);
	/* A system call from an ABI the filter does not know ends the
	 * process: nothing legitimate makes one. On x86_64 without x32 in
	 * the filter, x32 calls are the only such calls (libseccomp sends
	 * them here), and they get the kernel's own answer. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			 env->native == SCMP_ARCH_X86_64 && !covers(f, SCMP_ARCH_X32)
			     ? SCMP_ACT_ERRNO(ENOSYS)
			     : SCMP_ACT_KILL_PROCESS);
	/* The calls as a binary tree, not a list: about 20 % more
	 * instructions, but each call's path through them is short, and the
	 * kernel, which runs the filter for every system call number when it
	 * loads it (to find the ones always allowed), loads it in 0.4 ms
	 * instead of 0.75 ms. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (arch != env->native) {
		rc = seccomp_arch_add(ctx, arch);
		if (rc == 0)
			rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
	}
	if (rc < 0)
		return wtb_error_set(err, -rc, "cannot compile policy '%s' for %s", p->source,
				     policy_arch_name(arch) ? policy_arch_name(arch) : "?");
	for (size_t i = 0; i < p->nrules; i++)
		if (policy_rule_applies(&p->rules[i], env) &&
		    add_rule(f, ctx, arch, p, &p->rules[i], opts, err) < 0)
			return -1;
	*out = steal_ptr(ctx);
	return 0;
}

/* libseccomp 2.5 exports BPF only to a file descriptor: a memfd, read
 * back into memory. */
static int export_bpf(wtb_filter *f, scmp_filter_ctx ctx, const wtb_policy *p, wtb_error **err)
{
	_cleanup_close_ int fd = memfd_create("wtbox-seccomp", MFD_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	off_t size;
	int rc;

	if (fd < 0)
		return wtb_error_errno(err, "cannot compile policy '%s'", p->source);
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return wtb_error_set(err, -rc, "cannot compile policy '%s'", p->source);
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0)
		return wtb_error_set(err, 0, "cannot compile policy '%s': bad BPF size %lld",
				     p->source, (long long)size);
	if (size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS_KERNEL)
		return wtb_error_set(err, 0,
				     "policy '%s' compiles to %lld BPF instructions, more than "
				     "the kernel's limit of %d",
				     p->source,
				     (long long)(size / (off_t)sizeof(struct sock_filter)),
				     BPF_MAXINSNS_KERNEL);
	buf = xmalloc((size_t)size);
	if (pread(fd, buf, (size_t)size, 0) != size)
		return wtb_error_errno(err, "cannot compile policy '%s'", p->source);
	f->prog.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	f->prog.filter = (struct sock_filter *)(void *)steal_ptr(buf);
	return 0;
}

void filter_env_settle(wtb_policy_env *env)
{
	if (env->native == SCMP_ARCH_X86_64 && env->x32 == WTB_X32_ASK)
		env->x32 = kernel_runs_x32();
}

int filter_compile(wtb_filter *f, const wtb_policy *p, const wtb_policy_env *env,
		   const wtb_filter_opts *opts, wtb_error **err)
{
	static const wtb_filter_opts none = {0};
	_cleanup_scmp_ scmp_filter_ctx ctx = NULL;
	wtb_policy_env here = *env;

	memset(f, 0, sizeof(*f));
	if (opts == NULL)
		opts = &none;
	filter_env_settle(&here);
	env = &here;
	f->default_action = effective_action(p->default_action, opts);
	pick_arches(f, p, env);
	for (size_t i = 0; i < p->nrules; i++)
		if (policy_rule_applies(&p->rules[i], env))
			f->nrules++;
	/* One context per ABI, merged: each ABI's rules are added knowing
	 * which ABI they are for (see add_rule). */
	for (size_t i = 0; i < f->narches; i++) {
		_cleanup_scmp_ scmp_filter_ctx one = NULL;
		int rc;

		if (compile_arch(f, &one, f->arches[i], p, env, opts, err) < 0)
			goto fail;
		if (ctx == NULL) {
			ctx = steal_ptr(one);
			continue;
		}
		rc = seccomp_merge(ctx, one);
		if (rc < 0) {
			wtb_error_set(err, -rc, "cannot compile policy '%s'", p->source);
			goto fail;
		}
		one = NULL; /* merged: freed with ctx */
	}
	f->flags = p->flags;
	if (opts->notify) {
		/* One thread is all there is when the command loads it; TSYNC
		 * and a listener together need TSYNC_ESRCH. */
		f->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		if (f->flags & SECCOMP_FILTER_FLAG_TSYNC)
			f->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	if (export_bpf(f, ctx, p, err) < 0)
		goto fail;
	return 0;
fail:
	filter_free(f);
	return -1;
}

int filter_load(const wtb_filter *f, int *listener, wtb_error **err)
{
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog);

	if (r < 0)
		return wtb_error_errno(err, "cannot load the seccomp filter");
	if (listener != NULL)
		*listener = (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? (int)r : -1;
	return 0;
}

char *filter_arches_text(const wtb_filter *f)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < f->narches; i++) {
		const char *n = policy_arch_name(f->arches[i]);
		char *tmp =
		    xasprintf("%s%s%s", s, i ? " " : "", n ? n + strlen("SCMP_ARCH_") : "?");

		free(s);
		s = tmp;
	}
	return s;
}
