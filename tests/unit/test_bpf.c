/* The seccomp BPF interpreter against the kernel: for programs compiled
 * from policies by libseccomp and for hand-written ones using every
 * opcode seccomp allows, the interpreter's verdict on a call's
 * seccomp_data is what the kernel's filter does to that call (made in a
 * forked child, through the x86_64, i386 and x32 entry points); and the
 * interpreter's check refuses what the kernel refuses to load. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <linux/audit.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "bpf.h"
#include "denials.h"
#include "filter.h"
#include "policy.h"
#include "util.h"

#include "tap.h"

#define X32_BIT 0x40000000U

enum abi { ABI_X86_64, ABI_I386, ABI_X32 };

/* A system call as a test makes it. */
typedef struct test_call {
	enum abi abi;
	uint32_t nr; /* the ABI's number, without the x32 bit */
	uint64_t args[6];
} test_call;

/* What happened to it: killed by a signal, or returned (err 0: success,
 * else the errno). */
typedef struct outcome {
	int sig;
	int err;
} outcome;

#if defined(__x86_64__)
/* i386 entry point: arguments are 32 bits (writing a 32-bit register
 * clears the upper half, so seccomp_data sees them zero-extended). The
 * sixth (ebp) is not set: programs tested through it do not read it. */
static long int80(uint32_t nr, const uint64_t *a)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"((uint32_t)a[0]), "c"((uint32_t)a[1]), "d"((uint32_t)a[2]),
			   "S"((uint32_t)a[3]), "D"((uint32_t)a[4])
			 : "memory");
	return ret;
}
#endif

static int make_call(const test_call *c)
{
	long r;

	if (c->abi == ABI_I386) {
#if defined(__x86_64__)
		r = int80(c->nr, c->args);
		return r < 0 && r > -4096 ? (int)-r : 0;
#else
		return ENOSYS;
#endif
	}
	errno = 0;
	r = syscall((long)(c->abi == ABI_X32 ? (c->nr | X32_BIT) : c->nr), c->args[0], c->args[1],
		    c->args[2], c->args[3], c->args[4], c->args[5]);
	return r < 0 ? errno : 0;
}

/* In a child: load prog (none when NULL), make the call, report. */
static int observe(const struct sock_fprog *prog, const test_call *c, outcome *o)
{
	int pipefd[2], ws, err = -1;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int e;

		close(pipefd[0]);
		if (prog != NULL && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
				     syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0))
			_exit(3);
		e = make_call(c);
		/* Raw calls: the sanitizers' write() and _exit() would make
		 * calls of their own, which the filter may fail. */
		syscall(SYS_write, pipefd[1], &e, sizeof(e));
		syscall(SYS_exit_group, 0);
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -1;
	}
	*o = (outcome){0};
	if (read(pipefd[0], &err, sizeof(err)) == sizeof(err))
		o->err = err;
	close(pipefd[0]);
	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	if (WIFSIGNALED(ws)) {
		o->sig = WTERMSIG(ws);
		return 0;
	}
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && err >= 0 ? 0 : -1;
}

static struct seccomp_data data_of(const test_call *c)
{
	struct seccomp_data d = {
	    .nr = (int)(c->abi == ABI_X32 ? (c->nr | X32_BIT) : c->nr),
	    .arch = c->abi == ABI_I386 ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64,
	};

	for (int i = 0; i < 6; i++)
		d.args[i] = c->abi == ABI_I386 ? (uint32_t)c->args[i] : c->args[i];
	return d;
}

/* What the kernel does to the call for a filter verdict. */
static int expected(uint32_t ret, const test_call *c, outcome *o)
{
	uint32_t data = ret & SECCOMP_RET_DATA;

	*o = (outcome){0};
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ERRNO:
		o->err = data > 4095 ? 4095 : (int)data;
		return 0;
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		return observe(NULL, c, o);
	case SECCOMP_RET_TRACE:
	case SECCOMP_RET_USER_NOTIF:
		o->err = ENOSYS; /* nobody traces or listens */
		return 0;
	default: /* KILL_PROCESS, KILL_THREAD, TRAP (no handler) */
		o->sig = SIGSYS;
		return 0;
	}
}

static const char *abi_name(enum abi a)
{
	return a == ABI_I386 ? "i386" : a == ABI_X32 ? "x32" : "x86_64";
}

/* Every call: the interpreter's verdict is what the kernel did. */
static void agree(const struct sock_fprog *prog, const test_call *calls, size_t n, const char *what)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct seccomp_data d = data_of(&calls[i]);
		uint32_t ret = bpf_seccomp_run(prog, &d);
		outcome want, got;

		if (expected(ret, &calls[i], &want) < 0 || observe(prog, &calls[i], &got) < 0) {
			diag("%s: call %zu: the child failed", what, i);
			bad++;
			continue;
		}
		if (want.sig != got.sig || want.err != got.err) {
			diag("%s: call %zu (%s nr %u, arg0 %#llx): interpreter %#x -> sig %d err "
			     "%d, kernel sig %d err %d",
			     what, i, abi_name(calls[i].abi), calls[i].nr,
			     (unsigned long long)calls[i].args[0], ret, want.sig, want.err, got.sig,
			     got.err);
			bad++;
		}
	}
	ok(bad == 0, "%s: the interpreter agrees with the kernel on %zu calls", what, n);
}

/* ------------------------------------------------------------------ */
/* Programs compiled from policies.                                    */

static int compile(const char *text, wtb_filter *f)
{
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy_env env;

	policy_env_host(&env);
	if (policy_parse(&p, text, strlen(text), "t.json", &err) < 0 ||
	    filter_compile(f, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		return -1;
	}
	return 0;
}

#define ERRNO_RULE(errno_, args_)                                                                  \
	"{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": " #errno_        \
	", \"args\": [" args_ "]},"
#define ARG(i, op, v, v2)                                                                          \
	"{\"index\": " #i ", \"op\": \"SCMP_CMP_" #op "\", \"value\": " #v ", \"valueTwo\": " #v2  \
	"}"

/* Every comparison, 64-bit values, masks, ANDed arguments, the
 * default's errno, kill and trap; through all three ABIs. */
/* clang-format off */
static const char cmp_policy[] =
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1000, \"syscalls\": ["
    "{\"names\": [\"write\", \"exit_group\", \"exit\"], \"action\": \"SCMP_ACT_ALLOW\"},"
    "{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1007},"
    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL_PROCESS\", \"args\": ["
	ARG(4, EQ, 99, 0) "]},"
    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
	ARG(4, EQ, 98, 0) "]},"
    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
	ARG(3, EQ, 119, 0) "]},"
    ERRNO_RULE(1001, ARG(0, EQ, 1, 0))
    ERRNO_RULE(1002, ARG(0, MASKED_EQ, 65280, 4608))
    ERRNO_RULE(1003, ARG(1, GT, 4294967296, 0))
    ERRNO_RULE(1004, ARG(1, GE, 5, 0) "," ARG(2, LT, 3, 0))
    ERRNO_RULE(1005, ARG(2, LE, 4294967301, 0) "," ARG(3, NE, 7, 0) "," ARG(0, EQ, 2, 0))
    ERRNO_RULE(1006, ARG(4, MASKED_EQ, 133143986176, 4294967296))
    "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
	ARG(0, EQ, 4294967295, 0) "]}"
    "]}";
/* clang-format on */

static void test_policy_programs(void)
{
	_cleanup_filter_ wtb_filter f = {0};
	_cleanup_error_ wtb_error *err = NULL;
	/* getppid: x86_64 110, i386 64; keyctl 250 / 288; personality
	 * 135 / 136. */
	static const test_call calls[] = {
	    {ABI_X86_64, 110, {0}},
	    {ABI_X86_64, 110, {1}},
	    {ABI_X86_64, 110, {0x100000001ULL}},
	    {ABI_X86_64, 110, {0x1234}},
	    {ABI_X86_64, 110, {0xff1200}},
	    {ABI_X86_64, 110, {0x1334}},
	    {ABI_X86_64, 110, {0, 0x100000001ULL}},
	    {ABI_X86_64, 110, {0, 0x100000000ULL}},
	    {ABI_X86_64, 110, {0, 6, 2}},
	    {ABI_X86_64, 110, {0, 6, 3}},
	    {ABI_X86_64, 110, {0, 4, 2}},
	    {ABI_X86_64, 110, {2, 0, 0x100000005ULL}},
	    {ABI_X86_64, 110, {2, 0, 0x100000006ULL}},
	    {ABI_X86_64, 110, {2, 0, 7, 7}},
	    {ABI_X86_64, 110, {0, 0, 0, 119}},
	    {ABI_X86_64, 110, {0, 0, 0, 119 | 0x100000000ULL}},
	    {ABI_X86_64, 110, {0, 0, 0, 0, 99}},
	    {ABI_X86_64, 110, {0, 0, 0, 0, 98}},
	    {ABI_X86_64, 110, {0, 0, 0, 0, 0x100000000ULL}},
	    {ABI_X86_64, 110, {0, 0, 0, 0, 0x1ffffffffULL}},
	    {ABI_X86_64, 250, {(uint64_t)-1}},
	    {ABI_X86_64, 135, {0xffffffffULL}},
	    {ABI_X86_64, 135, {0}},
	    {ABI_X86_64, 999, {0}},
	    {ABI_I386, 64, {0}},
	    {ABI_I386, 64, {1}},
	    {ABI_I386, 64, {0x1234}},
	    {ABI_I386, 64, {0, 6, 2}},
	    {ABI_I386, 64, {2, 0, 5}},
	    {ABI_I386, 64, {0, 0, 0, 119}},
	    {ABI_I386, 64, {0, 0, 0, 0, 99}},
	    {ABI_I386, 64, {0, 0, 0, 0, 98}},
	    {ABI_I386, 288, {(uint32_t)-1}},
	    {ABI_I386, 136, {0xffffffffULL}},
	    {ABI_I386, 999, {0}},
	    {ABI_X32, 110, {0}},
	    {ABI_X32, 110, {1}},
	    {ABI_X32, 110, {0, 0x100000001ULL}},
	    {ABI_X32, 110, {0, 0, 0, 119}},
	    {ABI_X32, 250, {(uint64_t)-1}},
	};

	if (compile(cmp_policy, &f) < 0) {
		ok(false, "the comparison policy compiles");
		return;
	}
	ok(bpf_seccomp_check(&f.prog, &err) == 0, "libseccomp's program passes the check");
	agree(&f.prog, calls, ARRAY_SIZE(calls), "comparison policy");
}

/* policies/default.json, found next to the build tree. */
static char *shipped_policy(const char *name)
{
	_cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
	char *path;

	for (int up = 0; exe != NULL && up < 3; up++) {
		char *slash = strrchr(exe, '/');

		if (slash == NULL)
			return NULL;
		*slash = '\0';
	}
	if (exe == NULL)
		return NULL;
	path = xasprintf("%s/policies/%s.json", exe, name);
	if (access(path, R_OK) == 0)
		return path;
	free(path);
	return NULL;
}

static void test_default_policy(void)
{
	_cleanup_free_ char *path = shipped_policy("default");
	_cleanup_policy_ wtb_policy p = {0};
	_cleanup_filter_ wtb_filter f = {0};
	_cleanup_error_ wtb_error *err = NULL;
	wtb_policy_env env;
	/* Calls that are harmless when allowed. */
	static const test_call calls[] = {
	    {ABI_X86_64, SYS_getppid, {0}},
	    {ABI_X86_64, SYS_keyctl, {(uint64_t)-1}},
	    {ABI_X86_64, SYS_clone3, {0}},
	    {ABI_X86_64, SYS_ioctl, {(uint64_t)-1, TIOCSTI}},
	    {ABI_X86_64, SYS_ioctl, {(uint64_t)-1, 0x100000000ULL | TIOCSTI}},
	    {ABI_X86_64, SYS_ioctl, {(uint64_t)-1, TCGETS}},
	    {ABI_X86_64, SYS_personality, {0xffffffffULL}},
	    {ABI_X86_64, SYS_personality, {PER_LINUX32}},
	    {ABI_X86_64, SYS_personality, {ADDR_NO_RANDOMIZE}},
	    {ABI_X86_64, SYS_unshare, {(uint64_t)-1}},
	    {ABI_X86_64, SYS_mount, {0}},
	    {ABI_X86_64, SYS_socket, {AF_VSOCK, SOCK_STREAM}},
	    {ABI_X86_64, SYS_clone, {CLONE_NEWUSER | CLONE_FS}},
	    {ABI_X86_64, 1000, {0}},
	    {ABI_I386, 64, {0}},
	    {ABI_I386, 288, {(uint32_t)-1}},
	    {ABI_I386, 310, {(uint32_t)-1}},
	    {ABI_I386, 54, {(uint32_t)-1, TIOCSTI}},
	    {ABI_I386, 54, {(uint32_t)-1, TCGETS}},
	    {ABI_X32, SYS_getppid, {0}},
	    {ABI_X32, SYS_keyctl, {(uint64_t)-1}},
	    {ABI_X32, SYS_unshare, {(uint64_t)-1}},
	};

	if (path == NULL) {
		diag("policies/default.json not found next to the build tree");
		ok(false, "policies/default.json found");
		return;
	}
	policy_env_host(&env);
	if (policy_load_file(&p, path, &err) < 0 || filter_compile(&f, &p, &env, NULL, &err) < 0) {
		diag("%s", err->msg);
		ok(false, "default.json compiles");
		return;
	}
	ok(bpf_seccomp_check(&f.prog, &err) == 0, "default.json's program passes the check");
	agree(&f.prog, calls, ARRAY_SIZE(calls), "default.json");
}

/* ------------------------------------------------------------------ */
/* Hand-written programs: every opcode seccomp allows.                 */

#define LD_ABS(off)  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define NR	     offsetof(struct seccomp_data, nr)
#define ARCH	     offsetof(struct seccomp_data, arch)
#define ARG_LO(i)    (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i)    (ARG_LO(i) + 4)
#define ALU_K(op, k) BPF_STMT(BPF_ALU | (op) | BPF_K, (k))
#define ALU_X(op)    BPF_STMT(BPF_ALU | (op) | BPF_X, 0)
#define RET_ERRNO_A()                                                                              \
	ALU_K(BPF_AND, 0xfff), ALU_K(BPF_OR, SECCOMP_RET_ERRNO), BPF_STMT(BPF_RET | BPF_A, 0)
/* write and exit_group pass, so that the child can report and leave. */
#define PROLOGUE                                                                                   \
	LD_ABS(NR), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 2, 0),                          \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 1, 0),                             \
	    BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* clang-format off */
static struct sock_filter alu_k[] = {
	PROLOGUE,
	LD_ABS(ARG_LO(0)),
	ALU_K(BPF_ADD, 0x1234), ALU_K(BPF_SUB, 7), ALU_K(BPF_MUL, 3), ALU_K(BPF_DIV, 5),
	ALU_K(BPF_XOR, 0xa5a5), ALU_K(BPF_OR, 0x10), ALU_K(BPF_LSH, 3), ALU_K(BPF_RSH, 1),
	BPF_STMT(BPF_ALU | BPF_NEG, 0),
	RET_ERRNO_A(),
};

static struct sock_filter alu_x[] = {
	PROLOGUE,
	LD_ABS(ARG_LO(1)), BPF_STMT(BPF_MISC | BPF_TAX, 0),
	LD_ABS(ARG_LO(0)), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 3),
	LD_ABS(ARG_LO(2)), BPF_STMT(BPF_MISC | BPF_TAX, 0),
	BPF_STMT(BPF_LD | BPF_MEM, 3), ALU_X(BPF_SUB), ALU_X(BPF_MUL), ALU_X(BPF_XOR),
	ALU_X(BPF_OR), ALU_X(BPF_AND), BPF_STMT(BPF_ST, 4),
	LD_ABS(ARG_LO(3)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 4),
	ALU_X(BPF_LSH), ALU_X(BPF_RSH),
	/* Division by X: by zero, the program returns 0 (kill). */
	BPF_STMT(BPF_MISC | BPF_TXA, 0), BPF_STMT(BPF_MISC | BPF_TAX, 0), LD_ABS(ARG_LO(4)),
	BPF_STMT(BPF_LDX | BPF_MEM, 4), ALU_X(BPF_DIV),
	RET_ERRNO_A(),
};

static struct sock_filter jumps[] = {
	PROLOGUE,
	LD_ABS(ARCH), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),
	BPF_STMT(BPF_LD | BPF_IMM, 100), BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	BPF_STMT(BPF_LD | BPF_IMM, 200), BPF_STMT(BPF_ST, 0),
	LD_ABS(NR), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_BIT, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 1000), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(0)), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 10, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 1), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(0)), BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 10, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 2), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(0)), BPF_STMT(BPF_MISC | BPF_TAX, 0), LD_ABS(ARG_LO(1)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 4), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(1)), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 8), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(1)), BPF_JUMP(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 16), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(2)), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 3),
	BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_K(BPF_ADD, 32), BPF_STMT(BPF_ST, 0),
	/* The lengths of seccomp_data, through A and X. */
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0),
	ALU_X(BPF_ADD), BPF_STMT(BPF_LDX | BPF_MEM, 0), ALU_X(BPF_ADD),
	BPF_STMT(BPF_STX, 7), BPF_STMT(BPF_LDX | BPF_IMM, 3), BPF_STMT(BPF_LD | BPF_MEM, 7),
	ALU_X(BPF_SUB),
	RET_ERRNO_A(),
};

/* Every word of seccomp_data but the instruction pointer. */
static struct sock_filter words[] = {
	PROLOGUE,
	LD_ABS(NR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARCH), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(0)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(0)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(1)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(1)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(2)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(2)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(3)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(3)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_LO(4)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_ADD), BPF_STMT(BPF_ST, 0),
	LD_ABS(ARG_HI(4)), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), ALU_X(BPF_XOR),
	ALU_K(BPF_RSH, 2),
	RET_ERRNO_A(),
};
/* clang-format on */

#define PROG(f)                                                                                    \
	{                                                                                          \
		.len = ARRAY_SIZE(f), .filter = (f)                                                \
	}

static void test_handwritten(void)
{
	static const struct {
		const char *name;
		struct sock_fprog prog;
	} progs[] = {
	    {"ALU with constants", PROG(alu_k)},
	    {"ALU with X, memory, division by X", PROG(alu_x)},
	    {"jumps, lengths, memory", PROG(jumps)},
	    {"every word of seccomp_data", PROG(words)},
	};
	static const test_call calls[] = {
	    {ABI_X86_64, SYS_getppid, {0, 0, 0, 0, 1}},
	    {ABI_X86_64, SYS_getppid, {1, 2, 3, 4, 5}},
	    {ABI_X86_64, SYS_getppid, {0xfffffff0, 0x10, 0x7, 33, 3}},
	    {ABI_X86_64, SYS_getppid, {11, 0, 0, 0, 0}},
	    {ABI_X86_64, SYS_getppid, {10, 1, 0xffff, 31, 0x100}},
	    {ABI_X86_64, SYS_getppid, {0x500000003ULL, 5, 0x40, 64, 7}},
	    {ABI_X86_64,
	     SYS_getppid,
	     {0xdeadbeefcafeULL, 0x123456789ULL, 0xffffffffffffffffULL, 0x8000000000000001ULL,
	      0x1234567800000009ULL}},
	    {ABI_I386, 64, {0, 0, 0, 0, 1}},
	    {ABI_I386, 64, {12, 3, 0xf0, 2, 9}},
	    {ABI_I386, 64, {0xffffffff, 0xffffffff, 1, 40, 0}},
	    {ABI_X32, SYS_getppid, {0, 0, 0, 0, 1}},
	    {ABI_X32, SYS_getppid, {0x100000000ULL, 0x100000000ULL, 5, 1, 2}},
	};
	_cleanup_error_ wtb_error *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		int rc = bpf_seccomp_check(&progs[i].prog, &err);

		ok(rc == 0, "%s: passes the check%s%s", progs[i].name, err ? ": " : "",
		   err ? err->msg : "");
		wtb_error_free(&err);
		agree(&progs[i].prog, calls, ARRAY_SIZE(calls), progs[i].name);
	}
}

/* ------------------------------------------------------------------ */
/* The check refuses what the kernel refuses.                          */

/* In a child: whether the kernel loads prog (0) or its errno. */
static int kernel_loads(const struct sock_fprog *prog)
{
	int ws;
	pid_t pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(255);
		_exit(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

#define RET_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void test_check(void)
{
	/* clang-format off */
	static struct sock_filter ok_min[] = {RET_ALLOW};
	static struct sock_filter no_ret[] = {LD_ABS(NR)};
	static struct sock_filter unaligned[] = {LD_ABS(2), RET_ALLOW};
	static struct sock_filter outside[] = {LD_ABS(64), RET_ALLOW};
	static struct sock_filter half[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), RET_ALLOW};
	static struct sock_filter byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), RET_ALLOW};
	static struct sock_filter ind[] = {BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), RET_ALLOW};
	static struct sock_filter mod[] = {ALU_K(BPF_MOD, 3), RET_ALLOW};
	static struct sock_filter div0[] = {ALU_K(BPF_DIV, 0), RET_ALLOW};
	static struct sock_filter shift32[] = {ALU_K(BPF_LSH, 32), RET_ALLOW};
	static struct sock_filter shift31[] = {ALU_K(BPF_RSH, 31), RET_ALLOW};
	static struct sock_filter ja_out[] = {BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), RET_ALLOW};
	static struct sock_filter jeq_out[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), RET_ALLOW};
	static struct sock_filter mem16[] = {BPF_STMT(BPF_ST, 16), RET_ALLOW};
	static struct sock_filter mem_unset[] = {BPF_STMT(BPF_LD | BPF_MEM, 1), RET_ALLOW};
	static struct sock_filter mem_one_path[] = {
		LD_ABS(NR), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), BPF_STMT(BPF_ST, 2),
		BPF_STMT(BPF_LD | BPF_MEM, 2), RET_ALLOW};
	static struct sock_filter mem_both_paths[] = {
		LD_ABS(NR), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2), BPF_STMT(BPF_ST, 2),
		BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), BPF_STMT(BPF_ST, 2),
		BPF_STMT(BPF_LD | BPF_MEM, 2), RET_ALLOW};
	static struct sock_filter ret_x[] = {BPF_STMT(BPF_RET | BPF_X, 0)};
	static struct sock_filter jlt[] = {BPF_JUMP(BPF_JMP | 0xa0 | BPF_K, 0, 0, 0), RET_ALLOW};
	/* clang-format on */
	static const struct {
		const char *name;
		struct sock_fprog prog;
	} progs[] = {
	    {"a lone return", PROG(ok_min)},
	    {"no return at the end", PROG(no_ret)},
	    {"an unaligned load", PROG(unaligned)},
	    {"a load past seccomp_data", PROG(outside)},
	    {"a half-word load", PROG(half)},
	    {"a byte load", PROG(byte)},
	    {"an indirect load", PROG(ind)},
	    {"a modulo", PROG(mod)},
	    {"a division by zero", PROG(div0)},
	    {"a shift by 32", PROG(shift32)},
	    {"a shift by 31", PROG(shift31)},
	    {"an unconditional jump past the end", PROG(ja_out)},
	    {"a conditional jump past the end", PROG(jeq_out)},
	    {"scratch memory 16", PROG(mem16)},
	    {"memory read before written", PROG(mem_unset)},
	    {"memory written on one path only", PROG(mem_one_path)},
	    {"memory written on both paths", PROG(mem_both_paths)},
	    {"a return of X", PROG(ret_x)},
	    {"an unknown jump", PROG(jlt)},
	};
	struct sock_fprog empty = {.len = 0, .filter = ok_min};
	_cleanup_error_ wtb_error *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		int mine = bpf_seccomp_check(&progs[i].prog, &err);
		int kernel = kernel_loads(&progs[i].prog);

		is_int(mine == 0 ? 0 : EINVAL, kernel, "%s: %s by the kernel and the check",
		       progs[i].name, kernel == 0 ? "loaded" : "refused");
		wtb_error_free(&err);
	}
	ok(bpf_seccomp_check(&empty, &err) < 0, "an empty program is refused");
	has_str(err ? err->msg : NULL, "0 instructions", "saying why");
	wtb_error_free(&err);
	ok(bpf_seccomp_check(&progs[2].prog, &err) < 0 &&
	       strcmp(err->msg, "invalid seccomp filter: instruction 0: load outside "
				"seccomp_data or not aligned") == 0,
	   "the message names the instruction");
}

/* A program that did not pass the check still ends, with 0. */
static void test_run_unchecked(void)
{
	static struct sock_filter fall_off[] = {BPF_STMT(BPF_LD | BPF_IMM, 5)};
	static struct sock_filter far_jump[] = {BPF_JUMP(BPF_JMP | BPF_JA, 0xffffffff, 0, 0),
						RET_ALLOW};
	static struct sock_filter bad_load[] = {LD_ABS(62), RET_ALLOW};
	struct sock_fprog p1 = PROG(fall_off), p2 = PROG(far_jump), p3 = PROG(bad_load);
	struct seccomp_data d = {0};

	is_int(bpf_seccomp_run(&p1, &d), 0, "falling off the end gives 0");
	is_int(bpf_seccomp_run(&p2, &d), 0, "a jump past the end gives 0");
	is_int(bpf_seccomp_run(&p3, &d), 0, "a load outside seccomp_data gives 0");
}

/* ------------------------------------------------------------------ */
/* The pure parts of the denial reports.                               */

static void test_denial_texts(void)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	is_int(denials_nspid("Name:\tcurl\nNSpid:\t4321\t12\nNgid:\t0\n"), 12,
	       "NSpid: the innermost pid");
	is_int(denials_nspid("Name:\tx\nNSpid:\t77\n"), 77, "NSpid with one level");
	is_int(denials_nspid("NSpid:\t1\t2\t3"), 3, "three levels, no newline");
	is_int(denials_nspid("Name:\tx\n"), -1, "no NSpid line");
	is_int(denials_nspid("Name:\tNSpid:\t5\n"), -1, "NSpid only at the start of a line");
	is_int(denials_nspid("NSpid:\n"), -1, "an empty NSpid line");

#if defined(__x86_64__)
	a = denials_call_name(AUDIT_ARCH_X86_64, SYS_keyctl);
	b = denials_call_name(AUDIT_ARCH_I386, 288);
	c = denials_call_name(AUDIT_ARCH_X86_64, X32_BIT | SYS_keyctl);
	d = denials_call_name(AUDIT_ARCH_X86_64, 4000);
	is_str(a, "keyctl", "a native call by its name");
	is_str(b, "keyctl [x86]", "an i386 call with its ABI");
	is_str(c, "keyctl [x32]", "an x32 call with its ABI");
	is_str(d, "syscall 4000", "an unknown number");
#endif
}

int main(void)
{
	test_check();
	test_run_unchecked();
	test_handwritten();
	test_policy_programs();
	test_default_policy();
	test_denial_texts();
	return done_testing();
}
