/* libFuzzer target: any bytes through the policy parser and, when they
 * parse, the compiler (both compilations: plain and --log-denials); the
 * compiled program must pass the BPF check that --log-denials relies on.
 * Everything is freed, so LeakSanitizer sees every leak.
 *
 *   make fuzz [FUZZ_SECONDS=60]     (see the Makefile) */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <seccomp.h>

#include "bpf.h"
#include "filter.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A compiled program the interpreter refuses, or that does not return,
 * is a bug. */
static void check_program(const wtb_filter *f)
{
	static const struct seccomp_data probes[] = {
	    {.nr = 250, .arch = SCMP_ARCH_X86_64},
	    {.nr = 288, .arch = SCMP_ARCH_X86, .args = {0xffffffff}},
	    {.nr = 0x40000000 | 16, .arch = SCMP_ARCH_X86_64, .args = {3, 0x5412}},
	};
	wtb_error *err = NULL;

	if (bpf_seccomp_check(&f->prog, &err) < 0) {
		fprintf(stderr, "fuzz_policy: %s\n", err->msg);
		abort();
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		(void)bpf_seccomp_run(&f->prog, &probes[i]);
}

static void compile(const wtb_policy *p, const wtb_policy_env *env, bool notify)
{
	wtb_filter_opts opts = {.notify = notify};
	wtb_filter f;
	wtb_error *err = NULL;

	if (filter_compile(&f, p, env, &opts, &err) == 0) {
		check_program(&f);
		filter_free(&f);
	}
	wtb_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fixed, not this machine's: an input means the same everywhere. */
	static const wtb_policy_env env = {.native = SCMP_ARCH_X86_64, .kernel = {6, 1}};
	wtb_policy p = {0};
	wtb_error *err = NULL;

	if (policy_parse(&p, (const char *)data, size, "fuzz.json", &err) == 0) {
		compile(&p, &env, false);
		compile(&p, &env, true);
	}
	wtb_error_free(&err);
	policy_free(&p);
	return 0;
}
