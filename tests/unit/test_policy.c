/* Seccomp policies: parsing and its error texts, which rules apply, and
 * what the compiled filter does in the kernel (loaded in a child). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "bpf.h"
#include "filter.h"
#include "policy.h"
#include "util.h"

#include "tap.h"

/* Parse TEXT as "p.json"; the error text, or NULL on success. */
static char *parse_error(const char *text)
{
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;

	if (policy_parse(&p, text, strlen(text), "p.json", &err) == 0)
		return NULL;
	return wtb_error_text(err);
}

static void bad(const char *text, const char *want, const char *what)
{
	_cleanup_free_ char *got = parse_error(text);

	is_str(got, want, "%s", what);
}

#define HEAD "{\"defaultAction\": \"SCMP_ACT_ERRNO\", "

static void test_errors(void)
{
	bad("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n    {\"names\": "
	    "[\"read\"]",
	    "p.json:4:23: JSON syntax error: unexpected end of input", "truncated JSON");
	bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"x\": tru }",
	    "p.json:2:7: JSON syntax error: unexpected 't'", "bad token: line and column");
	bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\"} x",
	    "p.json:1:37: JSON syntax error: text after the end: 'x'", "trailing text");
	bad("", "p.json:1:1: JSON syntax error: unexpected end of input", "empty file");
	bad("[]", "p.json: top level: expected an object, got an array", "not an object");
	bad("{}", "p.json: defaultAction: missing", "no defaultAction");
	bad("{\"defaultAction\": 1}", "p.json: defaultAction: expected a string, got a number",
	    "defaultAction of the wrong type");
	bad(HEAD "\"syscalls\": [{\"names\": \"read\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0].names: expected an array of strings, got a string",
	    "names of the wrong type");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0].names[1]: expected a string, got a number", "a name not a string");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		 "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_FOO\"}]}",
	    "p.json: syscalls[1].action: unknown action 'SCMP_ACT_FOO'", "unknown action");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_BAD\"}]}]}",
	    "p.json: syscalls[0].args[0].op: unknown op 'SCMP_CMP_BAD'", "unknown op");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "p.json: syscalls[0].args[0].index: argument index 6 is out of range (0-5)",
	    "arg index 6");
	bad(HEAD "\"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0].names: empty list", "empty names");
	bad(HEAD "\"syscalls\": [{\"names\": [\"\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0].names[0]: empty string", "an empty name");
	bad(HEAD "\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0]: 'names' is missing", "names missing");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"]}]}", "p.json: syscalls[0].action: missing",
	    "action missing");
	bad(HEAD "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_FOO\"]}",
	    "p.json: architectures[1]: unknown architecture 'SCMP_ARCH_FOO'",
	    "unknown architecture");
	bad(HEAD "\"archMap\": [{\"architecture\": \"SCMP_ARCH_BAR\"}]}",
	    "p.json: archMap[0].architecture: unknown architecture 'SCMP_ARCH_BAR'",
	    "unknown architecture in archMap");
	bad(HEAD "\"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}",
	    "p.json: flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_NOPE'", "unknown flag");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
		 "\"errnoRet\": 1}]}",
	    "p.json: syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno",
	    "errnoRet with ALLOW");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
		 "\"errnoRet\": 5000}]}",
	    "p.json: syscalls[0].errnoRet: 5000 is out of range (0-4095)", "errnoRet too large");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 0, \"value\": 18446744073709551615, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "p.json: syscalls[0].args[0].value: 18446744073709551616 is out of range "
	    "(0-9007199254740992)",
	    "a value cJSON cannot hold exactly is refused");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "p.json: syscalls[0].args[0].value: expected a whole number >= 0, got -1",
	    "negative value");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_NE\"},"
		 "{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_NE\"}]}]}",
	    "p.json: syscalls[0].args[1]: argument 0 is already compared in this rule (use one "
	    "rule per comparison of the same argument)",
	    "one argument compared twice in a rule");
	bad(HEAD "\"syscalls\": [{\"name\": \"read\", \"names\": [\"read\"], "
		 "\"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[0]: both 'name' and 'names' given", "name and names");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
		 "\"includes\": {\"minKernel\": \"four\"}}]}",
	    "p.json: syscalls[0].includes.minKernel: invalid kernel version 'four' (expected "
	    "MAJOR.MINOR)",
	    "bad minKernel");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
		 "\"excludes\": {\"caps\": \"CAP_SYS_ADMIN\"}}]}",
	    "p.json: syscalls[0].excludes.caps: expected an array of strings, got a string",
	    "caps not an array");
}

/* Regression (audit): cJSON ended a string at \u0000 ("read\u0000x"
 * was the rule for read) and kept both members of a key given twice (a
 * lookup found the first: the second action went unseen). */
static void test_json_cjson_would_misread(void)
{
	static const char raw_nul[] = HEAD "\"syscalls\": [{\"names\": [\"read\0x\"], "
					   "\"action\": \"SCMP_ACT_ALLOW\"}]}";
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_free_ char *got = NULL;

	bad(HEAD "\"syscalls\": [{\"names\": [\"read\\u0000x\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json:1:66: \\u0000 in a string: a string cannot hold a NUL", "\\u0000 in a name");
	bad("{\"defaultAction\\u0000x\": \"SCMP_ACT_ERRNO\"}",
	    "p.json:1:16: \\u0000 in a string: a string cannot hold a NUL", "\\u0000 in a key");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\t\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "p.json:1:66: JSON syntax error: unexpected byte 0x09", "a raw tab in a string");
	bad("{\"defaultAction\":\x01\"SCMP_ACT_ERRNO\"}",
	    "p.json:1:18: JSON syntax error: unexpected byte 0x01",
	    "a control byte between tokens");
	ok(policy_parse(&p, raw_nul, sizeof(raw_nul) - 1, "p.json", &err) < 0,
	   "a raw NUL in a name");
	got = err ? wtb_error_text(err) : NULL;
	is_str(got, "p.json:1:66: JSON syntax error: unexpected byte 0x00", "its error");
	bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultAction\": \"SCMP_ACT_ALLOW\"}",
	    "p.json: defaultAction: duplicate key", "a top-level key given twice");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, "
		 "{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\", \"action\": "
		 "\"SCMP_ACT_ALLOW\"}]}",
	    "p.json: syscalls[1].action: duplicate key", "a rule's key given twice");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		 "[{\"index\": 0, \"value\": 1, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "p.json: syscalls[0].args[0].value: duplicate key", "an argument's key given twice");
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
		 "\"excludes\": {\"caps\": [], \"caps\": [\"CAP_SYS_ADMIN\"]}}]}",
	    "p.json: syscalls[0].excludes.caps: duplicate key", "a nested object's key twice");
	/* Not duplicates: the same key in two objects, keys that differ in
	 * case, an escaped backslash before "u0000". */
	bad(HEAD "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, "
		 "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"Action\": 1, "
		 "\"comment\": \"a\\\\u0000\"}]}",
	    NULL, "the same key in two rules, another case, an escaped backslash");
}

static void test_deep_nesting(void)
{
	size_t n = 5000;
	_cleanup_free_ char *text = xmalloc(2 * n + 1);
	_cleanup_free_ char *got = NULL;

	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	got = parse_error(text);
	like(got, "^p\\.json:1:[0-9]+: JSON syntax error", "deep nesting is a syntax error: %s",
	     got ? got : "");
}

static void test_parse(void)
{
	static const char text[] =
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,\n"
	    " \"description\": \"a test\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
	    " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
	    "[\"SCMP_ARCH_X86\"]},\n"
	    "   {\"architecture\": \"SCMP_ARCH_LOONGARCH64\", \"subArchitectures\": null}],\n"
	    " \"syscalls\": [\n"
	    "  {\"name\": \"read\", \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"legacy\"},\n"
	    "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
	    "\"value\": 2114060288, \"op\": \"SCMP_CMP_MASKED_EQ\"}], \"excludes\": {\"caps\": "
	    "[\"CAP_SYS_ADMIN\"], \"arches\": [\"s390x\"]}},\n"
	    "  {\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": "
	    "[\"CAP_SYS_ADMIN\"]}},\n"
	    "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": "
	    "{\"arches\": [\"amd64\", \"x32\"]}},\n"
	    "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": "
	    "{\"minKernel\": \"4.8\"}},\n"
	    "  {\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\"},\n"
	    "  {\"names\": [\"x\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7},\n"
	    "  {\"names\": [\"y\"], \"action\": \"SCMP_ACT_NOTIFY\"},\n"
	    "  {\"names\": [\"z\"], \"action\": \"SCMP_ACT_KILL_PROCESS\", \"excludes\": "
	    "{\"minKernel\": \"5.0\"}}\n"
	    " ]}\n";
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy_env amd64_new = {.native = SCMP_ARCH_X86_64, .kernel = {6, 1}};
	wtb_policy_env amd64_old = {.native = SCMP_ARCH_X86_64, .kernel = {4, 4}};
	wtb_policy_env arm64 = {.native = SCMP_ARCH_AARCH64, .kernel = {6, 1}};

	if (!ok(policy_parse(&p, text, strlen(text), "t.json", &err) == 0, "a full profile parses"))
		diag("%s", err->msg);
	is_int(p.default_action, SCMP_ACT_ERRNO(38), "defaultErrnoRet goes with defaultAction");
	is_str(p.description, "a test", "description");
	is_int(p.flags, SECCOMP_FILTER_FLAG_LOG, "flags");
	is_int((long long)p.narchmap, 2, "archMap entries");
	is_int(p.archmap[0].arch, SCMP_ARCH_X86_64, "archMap architecture");
	is_int((long long)p.archmap[0].nsub, 1, "subArchitectures");
	is_int(p.archmap[1].arch, 0, "an architecture libseccomp lacks is known, not supported");
	is_int((long long)p.nrules, 9, "rules");
	is_str(p.rules[0].names.v[0], "read", "legacy 'name'");
	is_int((long long)p.rules[1].nargs, 1, "args");
	is_int(p.rules[1].args[0].op, WTB_OP_MASKED_EQ, "op");
	is_int((long long)p.rules[1].args[0].value, 2114060288, "value");
	is_int(p.rules[5].action, SCMP_ACT_ERRNO(EPERM), "ERRNO without errnoRet is EPERM");
	is_int(p.rules[6].action, SCMP_ACT_TRACE(7), "TRACE with errnoRet");
	is_int(p.rules[7].action, SCMP_ACT_NOTIFY, "NOTIFY");
	ok(policy_rule_applies(&p.rules[1], &amd64_new), "excludes caps: applies (none held)");
	ok(!policy_rule_applies(&p.rules[2], &amd64_new), "includes caps: never applies");
	ok(policy_rule_applies(&p.rules[3], &amd64_new), "includes arches amd64 on x86_64");
	ok(!policy_rule_applies(&p.rules[3], &arm64), "includes arches amd64 on aarch64");
	ok(policy_rule_applies(&p.rules[4], &amd64_new), "minKernel 4.8 on 6.1");
	ok(!policy_rule_applies(&p.rules[4], &amd64_old), "minKernel 4.8 on 4.4");
	ok(!policy_rule_applies(&p.rules[8], &amd64_new), "excludes minKernel 5.0 on 6.1");
	ok(policy_rule_applies(&p.rules[8], &amd64_old), "excludes minKernel 5.0 on 4.4");
	is_str(policy_action_name(p.rules[5].action), "SCMP_ACT_ERRNO(EPERM)", "action name");
}

static void test_names(void)
{
	_cleanup_error_ wtb_error *err = NULL;

	ok(policy_arg_is_file("./x"), "'./x' is a file");
	ok(policy_arg_is_file("x.json"), "'x.json' is a file");
	ok(!policy_arg_is_file("default"), "'default' is a name");
	ok(policy_name_check("default", &err) == 0, "'default' is a valid name");
	ok(policy_name_check("Default", &err) < 0, "'Default' is not");
	wtb_error_free(&err);
	ok(policy_name_check("-x", &err) < 0, "'-x' is not");
	wtb_error_free(&err);
	ok(policy_name_check("a..b", &err) < 0, "'a..b' is not");
	wtb_error_free(&err);
	ok(policy_name_check("", &err) < 0, "'' is not");
	wtb_error_free(&err);
	/* A file a.json.json in a policy directory: `--policy a.json` reads
	 * ./a.json, so policy list must not call a.json a NAME. */
	ok(policy_name_check("a.json", &err) < 0, "'a.json' is not (read as a file)");
	is_str(err ? err->msg : NULL,
	       "invalid policy name 'a.json': a name ending in '.json' is read as a file path",
	       "why 'a.json' is not a name");
}

/* Which ABIs can run on a machine: the native one and its kernel's
 * compat ABIs, as Docker's archMap pairs them; x32 as the kernel says. */
static void test_arch_runs(void)
{
	wtb_policy_env amd64 = {.native = SCMP_ARCH_X86_64, .x32 = WTB_X32_NO};
	wtb_policy_env amd64_x32 = {.native = SCMP_ARCH_X86_64, .x32 = WTB_X32_YES};
	wtb_policy_env arm64 = {.native = SCMP_ARCH_AARCH64};
	wtb_policy_env s390x = {.native = SCMP_ARCH_S390X};
	wtb_policy_env mips64 = {.native = SCMP_ARCH_MIPS64};
	wtb_policy_env ppc64le = {.native = SCMP_ARCH_PPC64LE};
	wtb_policy_env arm = {.native = SCMP_ARCH_ARM};

	ok(policy_arch_runs(SCMP_ARCH_X86_64, &amd64), "x86_64 on x86_64");
	ok(policy_arch_runs(SCMP_ARCH_X86, &amd64), "i386 on x86_64");
	ok(!policy_arch_runs(SCMP_ARCH_X32, &amd64), "x32 on x86_64 without x32");
	ok(policy_arch_runs(SCMP_ARCH_X32, &amd64_x32), "x32 on x86_64 with x32");
	ok(!policy_arch_runs(SCMP_ARCH_AARCH64, &amd64), "aarch64 on x86_64");
	ok(!policy_arch_runs(SCMP_ARCH_ARM, &amd64), "arm on x86_64");
	ok(!policy_arch_runs(SCMP_ARCH_S390X, &amd64), "s390x on x86_64");
	ok(!policy_arch_runs(SCMP_ARCH_RISCV64, &amd64), "riscv64 on x86_64");
	ok(!policy_arch_runs(0, &amd64), "an architecture libseccomp lacks");
	ok(policy_arch_runs(SCMP_ARCH_ARM, &arm64), "arm on aarch64");
	ok(!policy_arch_runs(SCMP_ARCH_X86, &arm64), "i386 on aarch64");
	ok(!policy_arch_runs(SCMP_ARCH_X32, &arm64), "x32 on aarch64");
	ok(policy_arch_runs(SCMP_ARCH_S390, &s390x), "s390 on s390x");
	ok(policy_arch_runs(SCMP_ARCH_MIPS, &mips64), "mips (o32) on mips64");
	ok(policy_arch_runs(SCMP_ARCH_MIPS64N32, &mips64), "mips64n32 on mips64");
	ok(!policy_arch_runs(SCMP_ARCH_MIPSEL, &mips64), "mipsel on mips64");
	ok(!policy_arch_runs(SCMP_ARCH_PPC, &ppc64le), "ppc (big-endian) on ppc64le");
	ok(!policy_arch_runs(SCMP_ARCH_AARCH64, &arm), "aarch64 on arm");
}

/* ------------------------------------------------------------------ */
/* The compiled filter, in the kernel.                                 */

/* Compile TEXT; in a child, load it, make the call CALL and exit with its
 * errno (0: it worked). -1 when something else went wrong. */
typedef long (*call_fn)(void);

static int errno_under(const char *text, call_fn call, wtb_filter *keep)
{
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_filter_ wtb_filter f = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy_env env;
	int ws;
	pid_t pid;

	policy_env_host(&env);
	if (policy_parse(&p, text, strlen(text), "k.json", &err) < 0 ||
	    filter_compile(&f, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		long r;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || filter_load(&f, NULL, &err) < 0)
			_exit(255);
		errno = 0;
		r = call();
		_exit(r < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return -1;
	if (keep != NULL) {
		*keep = f;
		memset(&f, 0, sizeof(f));
	}
	return WEXITSTATUS(ws) == 255 ? -1 : WEXITSTATUS(ws);
}

static long call_keyctl(void)
{
	return syscall(SYS_keyctl, -1, 0, 0, 0, 0);
}
static long call_unshare_bad(void)
{
	return syscall(SYS_unshare, -1L, 0L, 0L);
}
static long call_clone_newuser(void)
{
	return syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0);
}
static long call_clone_fs_only(void)
{
	return syscall(SYS_clone, CLONE_FS | CLONE_NEWNS, 0, 0, 0, 0);
}
static long call_ioctl_high(void)
{
	return syscall(SYS_ioctl, -1, 0x100005412L, 0);
}
#if defined(__x86_64__)
static long call_int80_keyctl(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(288L), "b"(-1L), "c"(0L) : "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
static long call_x32_keyctl(void)
{
	return syscall(0x40000000L | SYS_keyctl, -1, 0, 0, 0, 0);
}

/* Asked in a child, without any filter. */
static bool kernel_runs_x32(void)
{
	pid_t pid = fork();
	int ws;

	if (pid == 0)
		_exit(syscall(0x40000000L | SYS_getpid) > 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

/* What the filter itself answers (the interpreter runs it) for keyctl
 * through x86_64 and x32, compiled for a kernel that runs x32 calls and
 * for one that does not. */
static void test_x32(void)
{
	static const char text[] =
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": "
	    "[{\"architecture\": \"SCMP_ARCH_X86_64\", "
	    "\"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}], "
	    "\"syscalls\": [{\"names\": [\"keyctl\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\"}]}";
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;
	struct seccomp_data native = {.nr = SYS_keyctl, .arch = AUDIT_ARCH_X86_64};
	struct seccomp_data x32 = {.nr = 0x40000000U | SYS_keyctl, .arch = AUDIT_ARCH_X86_64};
	struct seccomp_data x32_read = {.nr = 0x40000000U | SYS_read, .arch = AUDIT_ARCH_X86_64};
	wtb_policy_env env = {.native = SCMP_ARCH_X86_64, .kernel = {6, 1}};

	if (!ok(policy_parse(&p, text, strlen(text), "x.json", &err) == 0, "parses"))
		return;
	/* This machine's: policy_env_host leaves the question to the
	 * compile, which asks the kernel. */
	{
		_cleanup_filter_ wtb_filter f = {0};
		_cleanup_free_ char *arches = NULL;
		wtb_policy_env host;
		bool runs = kernel_runs_x32();

		memset(&host, 0x5a, sizeof(host));
		policy_env_host(&host);
		is_int(host.x32, WTB_X32_ASK, "policy_env_host: x32 is asked at the compile");
		if (ok(filter_compile(&f, &p, &host, NULL, &err) == 0,
		       "compiles for this machine")) {
			arches = filter_arches_text(&f);
			is_str(arches, runs ? "X86_64 X86 X32" : "X86_64 X86",
			       "this kernel's answer decides whether x32 is covered");
			is_int(bpf_seccomp_run(&f.prog, &x32_read),
			       runs ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(ENOSYS),
			       "x32 read on this machine: allowed only where the kernel runs it");
		}
	}
	for (int with = 0; with < 2; with++) {
		_cleanup_filter_ wtb_filter f = {0};
		_cleanup_free_ char *arches = NULL;

		env.x32 = with ? WTB_X32_YES : WTB_X32_NO;
		if (!ok(filter_compile(&f, &p, &env, NULL, &err) == 0, "compiles")) {
			diag("%s", err->msg);
			return;
		}
		arches = filter_arches_text(&f);
		is_str(arches, with ? "X86_64 X86 X32" : "X86_64 X86",
		       with ? "a kernel with x32: the filter covers it, though archMap names it"
			    : "without: x32 left out, though archMap names it");
		is_int(bpf_seccomp_run(&f.prog, &native), SCMP_ACT_ERRNO(EPERM),
		       "x86_64 keyctl: the rule");
		is_int(bpf_seccomp_run(&f.prog, &x32),
		       with ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ERRNO(ENOSYS),
		       with ? "x32 keyctl: the rule"
			    : "x32 keyctl: ENOSYS, the filter's own answer");
		is_int(bpf_seccomp_run(&f.prog, &x32_read),
		       with ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(ENOSYS),
		       with ? "x32 read: allowed" : "x32 read: ENOSYS too (never let through)");
	}
}
#endif

#define ALLOW_ALL "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["

static void test_kernel(void)
{
	is_int(errno_under(ALLOW_ALL "{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", "
				     "\"errnoRet\": 13}]}",
			   call_keyctl, NULL),
	       EACCES, "ERRNO with errnoRet");
	is_int(errno_under(ALLOW_ALL "{\"names\": [\"keyctl\", \"no_such_call\"], \"action\": "
				     "\"SCMP_ACT_ERRNO\"}]}",
			   call_keyctl, NULL),
	       EPERM, "unknown names are skipped, the others apply");
	is_int(errno_under(ALLOW_ALL "{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
			   call_keyctl, NULL),
	       ENOSYS, "NOTIFY without --log-denials is ENOSYS");
	is_int(errno_under(ALLOW_ALL "]}", call_keyctl, NULL), EOPNOTSUPP,
	       "without a rule, the kernel answers");
	/* args ANDed: both must hold. */
	is_int(errno_under(ALLOW_ALL
			   "{\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\", "
			   "\"args\": [{\"index\": 0, \"value\": 268435456, \"valueTwo\": "
			   "268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}, {\"index\": 1, "
			   "\"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
			   call_unshare_bad, NULL),
	       EPERM, "MASKED_EQ and EQ both hold: denied");
	is_int(errno_under(ALLOW_ALL
			   "{\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\", "
			   "\"args\": [{\"index\": 0, \"value\": 268435456, \"valueTwo\": "
			   "268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}, {\"index\": 1, "
			   "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
			   call_unshare_bad, NULL),
	       EINVAL, "one of two comparisons fails: not denied");
	is_int(errno_under(ALLOW_ALL
			   "{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ERRNO\", "
			   "\"args\": [{\"index\": 0, \"value\": 268435456, \"valueTwo\": "
			   "268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
			   call_clone_newuser, NULL),
	       EPERM, "clone with CLONE_NEWUSER denied");
	is_int(errno_under(ALLOW_ALL
			   "{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ERRNO\", "
			   "\"args\": [{\"index\": 0, \"value\": 268435456, \"valueTwo\": "
			   "268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
			   call_clone_fs_only, NULL),
	       EINVAL, "clone without CLONE_NEWUSER passes to the kernel");
	is_int(errno_under(ALLOW_ALL
			   "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ERRNO\", "
			   "\"args\": [{\"index\": 1, \"value\": 4294967295, \"valueTwo\": "
			   "21522, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
			   call_ioctl_high, NULL),
	       EPERM, "a mask on the low 32 bits catches TIOCSTI with high bits set");
	is_int(errno_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
			   "[\"SCMP_ARCH_X86_64\"], \"syscalls\": [{\"names\": [\"keyctl\"], "
			   "\"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": "
			   "[\"CAP_SYS_ADMIN\"]}}]}",
			   call_keyctl, NULL),
	       EOPNOTSUPP, "a rule for capability holders does not apply");
#if defined(__x86_64__)
	is_int(errno_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
			   "[\"SCMP_ARCH_X86_64\"], \"syscalls\": [{\"names\": [\"keyctl\"], "
			   "\"action\": \"SCMP_ACT_ERRNO\"}]}",
			   call_int80_keyctl, NULL),
	       EPERM, "i386 int $0x80 is filtered though only x86_64 is named");
	/* x32: by the rules where the kernel runs x32 calls, else ENOSYS
	 * from the filter (which the kernel would answer too: see
	 * test_x32 for the filter's own verdict). */
	is_int(errno_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
			   "[\"SCMP_ARCH_X86_64\"], \"syscalls\": [{\"names\": [\"keyctl\"], "
			   "\"action\": \"SCMP_ACT_ERRNO\"}]}",
			   call_x32_keyctl, NULL),
	       kernel_runs_x32() ? EPERM : ENOSYS, "x32 is filtered though only x86_64 is named");
#endif
}

static void test_compile_errors(void)
{
	static const char text[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
				   "{\"names\": [\"no_such_call\", \"other_unknown\"], "
				   "\"action\": \"SCMP_ACT_ERRNO\"}]}";
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_filter_ wtb_filter f = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy_env env;

	policy_env_host(&env);
	ok(policy_parse(&p, text, strlen(text), "u.json", &err) == 0, "parses");
	ok(filter_compile(&f, &p, &env, NULL, &err) == 0, "unknown names are not an error");
	is_int((long long)f.skipped.n, 2, "both are listed as skipped");
	is_str(f.skipped.n ? f.skipped.v[0] : NULL, "no_such_call", "the first skipped name");
	is_str(f.skipped_at.n ? f.skipped_at.v[0] : NULL, "syscalls[0]", "where it was");
#if defined(__x86_64__)
	is_int((long long)f.narches, kernel_runs_x32() ? 3 : 2,
	       "x86_64, i386, and x32 where the kernel runs it");
#endif
}

#if defined(__x86_64__)
/* "A B C" (caller frees). */
static char *words(const strv *v)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < v->n; i++) {
		char *tmp = xasprintf("%s%s%s", s, i ? " " : "", v->v[i]);

		free(s);
		s = tmp;
	}
	return s;
}

/* Regression: a portable profile naming every architecture failed to
 * compile on x86_64 ("Numerical argument out of domain": libseccomp
 * refuses an ABI of the other byte order), and the ones of the same
 * byte order (aarch64, riscv64...) went into the filter for nothing. */
static void test_foreign_arches_left_out(void)
{
	static const char text[] =
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", "
	    "\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\", \"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\", "
	    "\"SCMP_ARCH_S390X\", \"SCMP_ARCH_MIPS\", \"SCMP_ARCH_MIPSEL64\", "
	    "\"SCMP_ARCH_PPC64LE\", \"SCMP_ARCH_RISCV64\", \"SCMP_ARCH_LOONGARCH64\", "
	    "\"SCMP_ARCH_S390X\"], "
	    "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
	    "[\"SCMP_ARCH_PPC64\"]}, {\"architecture\": \"SCMP_ARCH_S390X\", "
	    "\"subArchitectures\": [\"SCMP_ARCH_S390\"]}], "
	    "\"syscalls\": [{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\"}]}";
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;
	struct seccomp_data native = {.nr = SYS_keyctl, .arch = AUDIT_ARCH_X86_64};
	struct seccomp_data i386 = {.nr = 288, .arch = AUDIT_ARCH_I386};

	if (!ok(policy_parse(&p, text, strlen(text), "a.json", &err) == 0, "parses"))
		return;
	for (int with = 0; with < 2; with++) {
		wtb_policy_env env = {.native = SCMP_ARCH_X86_64,
				      .kernel = {6, 1},
				      .x32 = with ? WTB_X32_YES : WTB_X32_NO};
		_cleanup_filter_ wtb_filter f = {0};
		_cleanup_free_ char *arches = NULL, *left = NULL;

		if (!ok(filter_compile(&f, &p, &env, NULL, &err) == 0,
			"every architecture named: compiles on x86_64")) {
			diag("%s", err->msg);
			wtb_error_free(&err);
			continue;
		}
		arches = filter_arches_text(&f);
		is_str(arches, with ? "X86_64 X86 X32" : "X86_64 X86",
		       "the filter covers what runs here, no more");
		left = words(&f.left_out);
		is_str(
		    left,
		    with ? "AARCH64 ARM S390X MIPS MIPSEL64 PPC64LE RISCV64 LOONGARCH64 PPC64"
			 : "X32 AARCH64 ARM S390X MIPS MIPSEL64 PPC64LE RISCV64 LOONGARCH64 PPC64",
		    "the others are left out, each named once, archMap's native entry too");
		is_int(bpf_seccomp_run(&f.prog, &native), SCMP_ACT_ERRNO(EPERM),
		       "x86_64: the rule");
		is_int(bpf_seccomp_run(&f.prog, &i386), SCMP_ACT_ERRNO(EPERM), "i386: the rule");
	}
}
#endif

int main(void)
{
	test_errors();
	test_json_cjson_would_misread();
	test_deep_nesting();
	test_parse();
	test_names();
	test_arch_runs();
	test_compile_errors();
	test_kernel();
#if defined(__x86_64__)
	test_x32();
	test_foreign_arches_left_out();
#endif
	return done_testing();
}
