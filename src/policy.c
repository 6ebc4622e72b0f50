/* Seccomp policies in the OCI / Docker JSON format -> wtb_policy. Pure
 * except for policy_env_host(), policy_dirs() and the file readers. */
#include "policy.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "json.h"

#define POLICY_MAX_SIZE (1024 * 1024)

static void cjson_deletep(cJSON **j)
{
	if (*j != NULL)
		cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

/* ------------------------------------------------------------------ */
/* Names.                                                              */

typedef struct arch_name {
	const char *scmp; /* as in profiles */
	const char *go;	  /* as Docker's includes/excludes "arches" say it */
	const char *uts;  /* as uname -m says it */
	uint32_t token;	  /* 0: this libseccomp does not support it */
} arch_name;

/* Every architecture the OCI runtime spec names. A known name that this
 * libseccomp cannot build a filter for is not an error: Docker's profile
 * maps architectures this machine will never be. */
static const arch_name arches[] = {
    {"SCMP_ARCH_X86", "386", "i686", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", "amd64", "x86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", "x32", "x32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", "arm", "armv7l", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", "arm64", "aarch64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", "mips", "mips", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", "mips64", "mips64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", "mips64n32", "mips64n32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", "mipsle", "mipsel", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", "mips64le", "mipsel64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", "mips64len32", "mipsel64n32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", "ppc", "ppc", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", "ppc64", "ppc64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", "ppc64le", "ppc64le", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", "s390", "s390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", "s390x", "s390x", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", "parisc", "parisc", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", "parisc64", "parisc64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", "riscv64", "riscv64", SCMP_ARCH_RISCV64},
    {"SCMP_ARCH_LOONGARCH64", "loong64", "loongarch64", 0},
    {"SCMP_ARCH_M68K", "m68k", "m68k", 0},
    {"SCMP_ARCH_SH", "sh", "sh", 0},
    {"SCMP_ARCH_SHEB", "sheb", "sheb", 0},
};

/* The other ABIs a kernel of an architecture runs besides its own (its
 * compat ABIs): a process there can make their system calls, by an
 * instruction (int $0x80 on x86_64) or by exec'ing a binary of that ABI.
 * No other architecture's calls ever reach a filter there, and
 * libseccomp refuses to add one of the other byte order (EDOM). Paired
 * as Docker's archMap and containerd's default profile pair them, plus
 * the kernel's CONFIG_COMPAT for ppc64 and parisc64 (riscv64's rv32 ABI
 * has no libseccomp token). */
static const struct {
	uint32_t native;
	uint32_t compat[2];
} compat_abis[] = {
    {SCMP_ARCH_X86_64, {SCMP_ARCH_X86, SCMP_ARCH_X32}},
    {SCMP_ARCH_AARCH64, {SCMP_ARCH_ARM}},
    {SCMP_ARCH_MIPS64, {SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64N32}},
    {SCMP_ARCH_MIPS64N32, {SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64}},
    {SCMP_ARCH_MIPSEL64, {SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64N32}},
    {SCMP_ARCH_MIPSEL64N32, {SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64}},
    {SCMP_ARCH_PPC64, {SCMP_ARCH_PPC}},
    {SCMP_ARCH_S390X, {SCMP_ARCH_S390}},
    {SCMP_ARCH_PARISC64, {SCMP_ARCH_PARISC}},
};

static const arch_name *arch_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (strcmp(arches[i].scmp, name) == 0)
			return &arches[i];
	return NULL;
}

static const arch_name *arch_by_token(uint32_t token)
{
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (token != 0 && arches[i].token == token)
			return &arches[i];
	return NULL;
}

const char *policy_arch_name(uint32_t arch)
{
	const arch_name *a = arch_by_token(arch);

	return a ? a->scmp : NULL;
}

bool policy_arch_runs(uint32_t arch, const wtb_policy_env *env)
{
	if (arch == 0)
		return false;
	if (arch == env->native)
		return true;
	/* Where the kernel does not run x32 calls, the filter answers them
	 * ENOSYS without rules for them (see filter_compile). */
	if (arch == SCMP_ARCH_X32 && env->x32 != WTB_X32_YES)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(compat_abis); i++) {
		if (compat_abis[i].native != env->native)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(compat_abis[i].compat); k++)
			if (compat_abis[i].compat[k] == arch)
				return true;
	}
	return false;
}

static const struct {
	const char *name;
	uint32_t action; /* ERRNO and TRACE get their value later */
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const char *const op_names[] = {
    [WTB_OP_NE] = "SCMP_CMP_NE",
    [WTB_OP_LT] = "SCMP_CMP_LT",
    [WTB_OP_LE] = "SCMP_CMP_LE",
    [WTB_OP_EQ] = "SCMP_CMP_EQ",
    [WTB_OP_GE] = "SCMP_CMP_GE",
    [WTB_OP_GT] = "SCMP_CMP_GT",
    [WTB_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5},
};

const char *policy_action_name(uint32_t action)
{
	static char buf[64];
	uint32_t data = action & 0xffffU;

	switch (action & 0xffff0000U) {
	case SCMP_ACT_ERRNO(0):
		snprintf(buf, sizeof(buf), "SCMP_ACT_ERRNO(%s)",
			 data < 4096 && strerrorname_np((int)data) ? strerrorname_np((int)data)
								   : "?");
		if (strcmp(buf, "SCMP_ACT_ERRNO(?)") == 0)
			snprintf(buf, sizeof(buf), "SCMP_ACT_ERRNO(%u)", data);
		return buf;
	case SCMP_ACT_TRACE(0):
		snprintf(buf, sizeof(buf), "SCMP_ACT_TRACE(%u)", data);
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (actions[i].action == action && strcmp(actions[i].name, "SCMP_ACT_KILL") != 0)
			return actions[i].name;
	snprintf(buf, sizeof(buf), "0x%08x", action);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Errors.                                                             */

/* "SOURCE: WHERE: what" */
static int bad(wtb_error **err, const wtb_policy *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(wtb_error **err, const wtb_policy *p, const char *where, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		die_oom();
	va_end(ap);
	return wtb_error_set(err, 0, "%s: %s: %s", p->source, where, what);
}

static const char *json_type(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsArray(j))
		return "an array";
	return "an object";
}

static int want(wtb_error **err, const wtb_policy *p, const char *where, const char *what,
		const cJSON *got)
{
	return bad(err, p, where, "expected %s, got %s", what, json_type(got));
}

static int syntax_error(wtb_error **err, const wtb_policy *p, const char *buf, size_t len,
			size_t off, const char *what)
{
	int line, col;

	if (off > len)
		off = len;
	json_position(buf, buf + off, &line, &col);
	if (off >= len)
		return wtb_error_set(err, 0, "%s:%d:%d: JSON syntax error: unexpected end of input",
				     p->source, line, col);
	if (buf[off] > 0x20 && buf[off] < 0x7f)
		return wtb_error_set(err, 0, "%s:%d:%d: JSON syntax error: %s '%c'", p->source,
				     line, col, what, buf[off]);
	return wtb_error_set(err, 0, "%s:%d:%d: JSON syntax error: %s byte 0x%02x", p->source, line,
			     col, what, (unsigned char)buf[off]);
}

/* ------------------------------------------------------------------ */
/* Values.                                                             */

/* The member `key` of object o; JSON null counts as absent. */
static const cJSON *member(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNull(j) ? NULL : j;
}

/* A whole number in [0, max]. cJSON holds numbers as doubles: above 2^53
 * not every integer is exact, so larger values are refused rather than
 * silently rounded. */
static int get_uint(const cJSON *j, uint64_t max, uint64_t *out, const wtb_policy *p,
		    const char *where, wtb_error **err)
{
	double d;

	if (!cJSON_IsNumber(j))
		return want(err, p, where, "a number", j);
	d = j->valuedouble;
	if (d != floor(d) || d < 0)
		return bad(err, p, where, "expected a whole number >= 0, got %g", d);
	if (max > (1ULL << 53))
		max = 1ULL << 53;
	if (d > (double)max)
		return bad(err, p, where, "%.0f is out of range (0-%llu)", d,
			   (unsigned long long)max);
	*out = (uint64_t)d;
	return 0;
}

static int get_strings(const cJSON *j, strv *out, bool nonempty, const wtb_policy *p,
		       const char *where, wtb_error **err)
{
	const cJSON *item;
	int i = 0;

	if (!cJSON_IsArray(j))
		return want(err, p, where, "an array of strings", j);
	cJSON_ArrayForEach(item, j)
	{
		if (!cJSON_IsString(item)) {
			_cleanup_free_ char *w = xasprintf("%s[%d]", where, i);
			return want(err, p, w, "a string", item);
		}
		if (nonempty && item->valuestring[0] == '\0') {
			_cleanup_free_ char *w = xasprintf("%s[%d]", where, i);
			return bad(err, p, w, "empty string");
		}
		strv_push(out, xstrdup(item->valuestring));
		i++;
	}
	return 0;
}

static int get_arch(const cJSON *j, uint32_t *out, const wtb_policy *p, const char *where,
		    wtb_error **err)
{
	const arch_name *a;

	if (!cJSON_IsString(j))
		return want(err, p, where, "a string", j);
	a = arch_by_name(j->valuestring);
	if (a == NULL)
		return bad(err, p, where, "unknown architecture '%s'", j->valuestring);
	*out = a->token;
	return 0;
}

/* An array of architecture names: their tokens in *out, and the names
 * themselves in `names` (a token of 0 does not say which it was). */
static int get_arches(const cJSON *j, uint32_t **out, size_t *n, strv *names, const wtb_policy *p,
		      const char *where, wtb_error **err)
{
	const cJSON *item;
	int i = 0;

	if (!cJSON_IsArray(j))
		return want(err, p, where, "an array of strings", j);
	*out = xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(**out));
	cJSON_ArrayForEach(item, j)
	{
		_cleanup_free_ char *w = xasprintf("%s[%d]", where, i++);

		if (get_arch(item, &(*out)[*n], p, w, err) < 0)
			return -1;
		strv_push(names, xstrdup(item->valuestring));
		(*n)++;
	}
	return 0;
}

/* The action named by a rule (or the default), with its errno. */
static int get_action(const cJSON *j, const cJSON *jerrno, uint32_t *out, const wtb_policy *p,
		      const char *where, const char *errno_where, wtb_error **err)
{
	uint64_t ret = EPERM;

	if (j == NULL)
		return bad(err, p, where, "missing");
	if (!cJSON_IsString(j))
		return want(err, p, where, "a string", j);
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, j->valuestring) != 0)
			continue;
		*out = actions[i].action;
		if (*out != SCMP_ACT_ERRNO(0) && *out != SCMP_ACT_TRACE(0)) {
			if (jerrno != NULL)
				return bad(err, p, errno_where,
					   "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno");
			return 0;
		}
		/* Without one, Docker and runc return EPERM. */
		if (jerrno != NULL && get_uint(jerrno, 4095, &ret, p, errno_where, err) < 0)
			return -1;
		*out |= (uint32_t)ret;
		return 0;
	}
	return bad(err, p, where, "unknown action '%s'", j->valuestring);
}

/* "4.8" or "5.10.3" (the micro version is not compared). */
static int get_kernel_version(const cJSON *j, unsigned v[2], const wtb_policy *p, const char *where,
			      wtb_error **err)
{
	unsigned long major, minor;
	const char *s;
	char *end;

	if (!cJSON_IsString(j))
		return want(err, p, where, "a string", j);
	s = j->valuestring;
	if (s[0] < '0' || s[0] > '9')
		goto invalid;
	errno = 0;
	major = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9' || errno != 0)
		goto invalid;
	minor = strtoul(end + 1, &end, 10);
	if ((*end != '\0' && *end != '.') || errno != 0 || major > 65535 || minor > 65535)
		goto invalid;
	v[0] = (unsigned)major;
	v[1] = (unsigned)minor;
	return 0;
invalid:
	return bad(err, p, where, "invalid kernel version '%s' (expected MAJOR.MINOR)", s);
}

static int get_cond(const cJSON *j, wtb_policy_cond *c, const wtb_policy *p, const char *where,
		    wtb_error **err)
{
	_cleanup_free_ char *w_caps = xasprintf("%s.caps", where);
	_cleanup_free_ char *w_arches = xasprintf("%s.arches", where);
	_cleanup_free_ char *w_kernel = xasprintf("%s.minKernel", where);
	const cJSON *v;

	if (j == NULL)
		return 0;
	if (!cJSON_IsObject(j))
		return want(err, p, where, "an object", j);
	if ((v = member(j, "caps")) != NULL && get_strings(v, &c->caps, true, p, w_caps, err) < 0)
		return -1;
	if ((v = member(j, "arches")) != NULL &&
	    get_strings(v, &c->arches, true, p, w_arches, err) < 0)
		return -1;
	if ((v = member(j, "minKernel")) != NULL) {
		if (get_kernel_version(v, c->min_kernel, p, w_kernel, err) < 0)
			return -1;
		c->has_min_kernel = true;
	}
	return 0;
}

static int get_arg(const cJSON *j, wtb_policy_arg *a, const wtb_policy *p, const char *where,
		   wtb_error **err)
{
	_cleanup_free_ char *w_index = xasprintf("%s.index", where);
	_cleanup_free_ char *w_value = xasprintf("%s.value", where);
	_cleanup_free_ char *w_two = xasprintf("%s.valueTwo", where);
	_cleanup_free_ char *w_op = xasprintf("%s.op", where);
	const cJSON *v;
	uint64_t index;

	if (!cJSON_IsObject(j))
		return want(err, p, where, "an object", j);
	if ((v = member(j, "index")) == NULL)
		return bad(err, p, w_index, "missing");
	if (!cJSON_IsNumber(v))
		return want(err, p, w_index, "a number", v);
	if (v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > WTB_POLICY_MAX_ARG)
		return bad(err, p, w_index, "argument index %g is out of range (0-%d)",
			   v->valuedouble, WTB_POLICY_MAX_ARG);
	index = (uint64_t)v->valuedouble;
	a->index = (unsigned)index;
	if ((v = member(j, "value")) == NULL)
		return bad(err, p, w_value, "missing");
	if (get_uint(v, UINT64_MAX, &a->value, p, w_value, err) < 0)
		return -1;
	if ((v = member(j, "valueTwo")) != NULL &&
	    get_uint(v, UINT64_MAX, &a->value_two, p, w_two, err) < 0)
		return -1;
	if ((v = member(j, "op")) == NULL)
		return bad(err, p, w_op, "missing");
	if (!cJSON_IsString(v))
		return want(err, p, w_op, "a string", v);
	for (size_t i = 1; i < ARRAY_SIZE(op_names); i++)
		if (strcmp(op_names[i], v->valuestring) == 0) {
			a->op = (wtb_policy_op)i;
			return 0;
		}
	return bad(err, p, w_op, "unknown op '%s'", v->valuestring);
}

static int get_args(const cJSON *j, wtb_policy_rule *r, const wtb_policy *p, const char *where,
		    wtb_error **err)
{
	const cJSON *item;
	int i = 0;

	if (!cJSON_IsArray(j))
		return want(err, p, where, "an array", j);
	r->args = xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(*r->args));
	cJSON_ArrayForEach(item, j)
	{
		_cleanup_free_ char *w = xasprintf("%s[%d]", where, i++);

		if (get_arg(item, &r->args[r->nargs], p, w, err) < 0)
			return -1;
		/* The comparisons of one rule are ANDed, and the BPF libseccomp
		 * builds tests each argument once per rule. */
		for (size_t k = 0; k < r->nargs; k++)
			if (r->args[k].index == r->args[r->nargs].index)
				return bad(err, p, w,
					   "argument %u is already compared in this rule (use "
					   "one rule per comparison of the same argument)",
					   r->args[k].index);
		r->nargs++;
	}
	return 0;
}

static int get_names(const cJSON *rule, wtb_policy_rule *r, const wtb_policy *p, const char *where,
		     wtb_error **err)
{
	_cleanup_free_ char *w_names = xasprintf("%s.names", where);
	_cleanup_free_ char *w_name = xasprintf("%s.name", where);
	const cJSON *names = member(rule, "names");
	const cJSON *name = member(rule, "name");

	if (names != NULL && name != NULL)
		return bad(err, p, where, "both 'name' and 'names' given");
	if (name != NULL) {
		if (!cJSON_IsString(name))
			return want(err, p, w_name, "a string", name);
		if (name->valuestring[0] == '\0')
			return bad(err, p, w_name, "empty string");
		strv_push(&r->names, xstrdup(name->valuestring));
		return 0;
	}
	if (names == NULL)
		return bad(err, p, where, "'names' is missing");
	if (get_strings(names, &r->names, true, p, w_names, err) < 0)
		return -1;
	if (r->names.n == 0)
		return bad(err, p, w_names, "empty list");
	return 0;
}

static int get_rule(const cJSON *j, wtb_policy_rule *r, const wtb_policy *p, wtb_error **err)
{
	_cleanup_free_ char *where = xasprintf("syscalls[%d]", r->index);
	_cleanup_free_ char *w_action = xasprintf("%s.action", where);
	_cleanup_free_ char *w_errno = xasprintf("%s.errnoRet", where);
	_cleanup_free_ char *w_args = xasprintf("%s.args", where);
	_cleanup_free_ char *w_inc = xasprintf("%s.includes", where);
	_cleanup_free_ char *w_exc = xasprintf("%s.excludes", where);
	const cJSON *v;

	if (!cJSON_IsObject(j))
		return want(err, p, where, "an object", j);
	if (get_names(j, r, p, where, err) < 0)
		return -1;
	if (get_action(member(j, "action"), member(j, "errnoRet"), &r->action, p, w_action, w_errno,
		       err) < 0)
		return -1;
	if ((v = member(j, "args")) != NULL && get_args(v, r, p, w_args, err) < 0)
		return -1;
	if ((v = member(j, "comment")) != NULL && !cJSON_IsString(v)) {
		_cleanup_free_ char *w = xasprintf("%s.comment", where);
		return want(err, p, w, "a string", v);
	}
	if (get_cond(member(j, "includes"), &r->includes, p, w_inc, err) < 0 ||
	    get_cond(member(j, "excludes"), &r->excludes, p, w_exc, err) < 0)
		return -1;
	return 0;
}

static int get_archmap(const cJSON *j, wtb_policy *p, wtb_error **err)
{
	const cJSON *item;
	int i = 0;

	if (!cJSON_IsArray(j))
		return want(err, p, "archMap", "an array", j);
	p->archmap = xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(*p->archmap));
	cJSON_ArrayForEach(item, j)
	{
		_cleanup_free_ char *w = xasprintf("archMap[%d]", i++);
		_cleanup_free_ char *w_arch = xasprintf("%s.architecture", w);
		_cleanup_free_ char *w_sub = xasprintf("%s.subArchitectures", w);
		wtb_policy_archmap *m = &p->archmap[p->narchmap];
		const cJSON *v;

		if (!cJSON_IsObject(item))
			return want(err, p, w, "an object", item);
		p->narchmap++;
		if ((v = member(item, "architecture")) == NULL)
			return bad(err, p, w_arch, "missing");
		if (get_arch(v, &m->arch, p, w_arch, err) < 0)
			return -1;
		if ((v = member(item, "subArchitectures")) != NULL &&
		    get_arches(v, &m->sub, &m->nsub, &m->sub_names, p, w_sub, err) < 0)
			return -1;
	}
	return 0;
}

static int get_flags(const cJSON *j, wtb_policy *p, wtb_error **err)
{
	const cJSON *item;
	int i = 0;

	if (!cJSON_IsArray(j))
		return want(err, p, "flags", "an array of strings", j);
	cJSON_ArrayForEach(item, j)
	{
		_cleanup_free_ char *w = xasprintf("flags[%d]", i++);
		size_t k;

		if (!cJSON_IsString(item))
			return want(err, p, w, "a string", item);
		for (k = 0; k < ARRAY_SIZE(flag_names); k++)
			if (strcmp(flag_names[k].name, item->valuestring) == 0)
				break;
		if (k == ARRAY_SIZE(flag_names))
			return bad(err, p, w, "unknown flag '%s'", item->valuestring);
		p->flags |= flag_names[k].flag;
	}
	return 0;
}

static int get_syscalls(const cJSON *j, wtb_policy *p, wtb_error **err)
{
	const cJSON *item;

	if (!cJSON_IsArray(j))
		return want(err, p, "syscalls", "an array", j);
	p->rules = xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(*p->rules));
	cJSON_ArrayForEach(item, j)
	{
		wtb_policy_rule *r = &p->rules[p->nrules];

		r->index = (int)p->nrules;
		p->nrules++;
		if (get_rule(item, r, p, err) < 0)
			return -1;
	}
	return 0;
}

static int get_policy(const cJSON *root, wtb_policy *p, wtb_error **err)
{
	const cJSON *v;

	if (!cJSON_IsObject(root))
		return want(err, p, "top level", "an object", root);
	if (get_action(member(root, "defaultAction"), member(root, "defaultErrnoRet"),
		       &p->default_action, p, "defaultAction", "defaultErrnoRet", err) < 0)
		return -1;
	if ((v = member(root, "architectures")) != NULL &&
	    get_arches(v, &p->arches, &p->narches, &p->arch_names, p, "architectures", err) < 0)
		return -1;
	if ((v = member(root, "archMap")) != NULL && get_archmap(v, p, err) < 0)
		return -1;
	if ((v = member(root, "flags")) != NULL && get_flags(v, p, err) < 0)
		return -1;
	if ((v = member(root, "syscalls")) != NULL && get_syscalls(v, p, err) < 0)
		return -1;
	/* Not part of the format: a line for `wtbox policy list`. */
	v = member(root, "description");
	if (v == NULL)
		v = member(root, "comment");
	if (v != NULL && cJSON_IsString(v))
		p->description = xstrdup(v->valuestring);
	return 0;
}

/* What cJSON takes but would read otherwise than written: a name cut at
 * \u0000, a key whose second value would go unseen. */
static int check_json(const cJSON *root, const wtb_policy *p, const char *buf, size_t len,
		      wtb_error **err)
{
	_cleanup_free_ char *where = NULL;
	size_t off;

	if (json_find_bad_byte(buf, len, &off)) {
		int line, col;

		json_position(buf, buf + off, &line, &col);
		if (buf[off] == '\\')
			return wtb_error_set(err, 0,
					     "%s:%d:%d: \\u0000 in a string: a string cannot hold "
					     "a NUL",
					     p->source, line, col);
		return syntax_error(err, p, buf, len, off, "unexpected");
	}
	if (json_find_duplicate_key(root, &where))
		return bad(err, p, where, "duplicate key");
	return 0;
}

int policy_parse(wtb_policy *p, const char *buf, size_t len, const char *source, wtb_error **err)
{
	_cleanup_cjson_ cJSON *root = NULL;
	const char *end = NULL;

	memset(p, 0, sizeof(*p));
	p->source = xstrdup(source);
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL) {
		const char *e = cJSON_GetErrorPtr();
		/* The error pointer is a global: trust it only inside buf. */
		size_t off = e != NULL && e >= buf && e <= buf + len ? (size_t)(e - buf) : len;

		/* cJSON points at the last byte when the input ends early. */
		if (off + 1 >= len && len > 0 && !json_is_space(buf[len - 1]))
			off = len;
		while (off < len && json_is_space(buf[off]))
			off++;
		return syntax_error(err, p, buf, len, off, "unexpected");
	}
	if (end != NULL && end >= buf && end <= buf + len) {
		size_t off = (size_t)(end - buf);

		while (off < len && json_is_space(buf[off]))
			off++;
		if (off < len)
			return syntax_error(err, p, buf, len, off, "text after the end:");
	}
	if (check_json(root, p, buf, len, err) < 0 || get_policy(root, p, err) < 0)
		return -1;
	p->parsed = true;
	return 0;
}

int policy_load_file(wtb_policy *p, const char *path, wtb_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	memset(p, 0, sizeof(*p));
	if (read_file(path, POLICY_MAX_SIZE, &text, &len, err) < 0)
		return wtb_error_wrap(err, "cannot read policy '%s'", path);
	if (policy_parse(p, text, len, path, err) < 0)
		return -1;
	p->text = steal_ptr(text);
	p->text_len = len;
	return 0;
}

static void cond_free(wtb_policy_cond *c)
{
	strv_clear(&c->caps);
	strv_clear(&c->arches);
}

void policy_free(wtb_policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		strv_clear(&p->rules[i].names);
		free(p->rules[i].args);
		cond_free(&p->rules[i].includes);
		cond_free(&p->rules[i].excludes);
	}
	for (size_t i = 0; i < p->narchmap; i++) {
		free(p->archmap[i].sub);
		strv_clear(&p->archmap[i].sub_names);
	}
	free(p->rules);
	free(p->archmap);
	free(p->arches);
	strv_clear(&p->arch_names);
	free(p->text);
	free(p->source);
	free(p->description);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------ */
/* Which rules apply.                                                  */

void policy_env_host(wtb_policy_env *env)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	env->native = seccomp_arch_native();
	env->x32 = WTB_X32_ASK;
	if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) != 2)
		major = minor = 0;
	env->kernel[0] = major;
	env->kernel[1] = minor;
}

static bool native_in(const strv *list, uint32_t native)
{
	const arch_name *a = arch_by_token(native);

	for (size_t i = 0; a != NULL && i < list->n; i++)
		if (strcmp(list->v[i], a->go) == 0 || strcmp(list->v[i], a->uts) == 0 ||
		    strcmp(list->v[i], a->scmp) == 0)
			return true;
	return false;
}

static bool kernel_at_least(const wtb_policy_env *env, const unsigned v[2])
{
	return env->kernel[0] > v[0] || (env->kernel[0] == v[0] && env->kernel[1] >= v[1]);
}

bool policy_rule_applies(const wtb_policy_rule *r, const wtb_policy_env *env)
{
	/* As Docker reads them: a rule for holders of capabilities (all of
	 * those listed) never applies, a rule for those without them always
	 * does, since nothing inside holds one. */
	if (r->includes.caps.n > 0)
		return false;
	if (r->includes.arches.n > 0 && !native_in(&r->includes.arches, env->native))
		return false;
	if (r->excludes.arches.n > 0 && native_in(&r->excludes.arches, env->native))
		return false;
	if (r->includes.has_min_kernel && !kernel_at_least(env, r->includes.min_kernel))
		return false;
	if (r->excludes.has_min_kernel && kernel_at_least(env, r->excludes.min_kernel))
		return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Finding a policy.                                                   */

bool policy_arg_is_file(const char *arg)
{
	return strchr(arg, '/') != NULL || str_has_suffix(arg, ".json");
}

int policy_name_check(const char *name, wtb_error **err)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 64 &&
		  ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'));

	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		     c == '.';
	}
	/* What ends in .json is read as a FILE (policy_arg_is_file): a file
	 * NAME.json.json in a policy directory is never found by NAME. */
	if (ok && str_has_suffix(name, ".json"))
		return wtb_error_set(err, 0,
				     "invalid policy name '%s': a name ending in '.json' is "
				     "read as a file path",
				     name);
	if (!ok || strstr(name, "..") != NULL)
		return wtb_error_set(
		    err, 0,
		    "invalid policy name '%s': expected lowercase letters, digits, "
		    "'-', '_', '.' (at most 64), or a file path",
		    name);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void policy_dirs(strv *dirs)
{
	const char *env = getenv("WTBOX_POLICY_DIR");
	_cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);

	if (env != NULL && env[0] != '\0')
		strv_push(dirs, xstrdup(env));
	/* A binary run from its build directory (build/wtbox, as the tests
	 * do) uses the policies of its source tree, not installed ones. */
	if (exe != NULL) {
		char *slash = strrchr(exe, '/');
		_cleanup_free_ char *src = NULL;

		if (slash != NULL) {
			*slash = '\0';
			src = path_join(exe, "../policies");
		}
		if (src != NULL && is_dir(src)) {
			char *real = realpath(src, NULL);

			if (real != NULL)
				strv_push(dirs, real);
		}
	}
	strv_push(dirs, xstrdup(WTBOX_DATADIR "/policies"));
}

int policy_find(const char *arg, char **path, wtb_error **err)
{
	_cleanup_strvec_ strv dirs = {0};
	_cleanup_free_ char *file = NULL, *looked = NULL;

	if (policy_arg_is_file(arg)) {
		*path = xstrdup(arg);
		return 0;
	}
	if (policy_name_check(arg, err) < 0)
		return -1;
	file = xasprintf("%s.json", arg);
	policy_dirs(&dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		_cleanup_free_ char *p = path_join(dirs.v[i], file);
		char *tmp;

		if (access(p, F_OK) == 0) {
			*path = steal_ptr(p);
			return 0;
		}
		tmp = xasprintf("%s%s%s", looked ? looked : "", looked ? ", " : "", dirs.v[i]);
		free(looked);
		looked = tmp;
	}
	return wtb_error_set(err, ENOENT, "cannot find policy '%s' (looked in %s)", arg, looked);
}

int policy_open(wtb_policy *p, const char *arg, wtb_error **err)
{
	_cleanup_free_ char *path = NULL;

	memset(p, 0, sizeof(*p));
	if (policy_find(arg, &path, err) < 0)
		return -1;
	return policy_load_file(p, path, err);
}

int policy_read(wtb_policy *p, const char *arg, wtb_error **err)
{
	_cleanup_free_ char *path = NULL;

	memset(p, 0, sizeof(*p));
	if (policy_find(arg, &path, err) < 0)
		return -1;
	if (read_file(path, POLICY_MAX_SIZE, &p->text, &p->text_len, err) < 0)
		return wtb_error_wrap(err, "cannot read policy '%s'", path);
	p->source = steal_ptr(path);
	return 0;
}

int policy_parse_text(wtb_policy *p, wtb_error **err)
{
	_cleanup_free_ char *source = steal_ptr(p->source);
	_cleanup_free_ char *text = steal_ptr(p->text);
	size_t len = p->text_len;
	int r;

	if (p->parsed || text == NULL) {
		p->source = steal_ptr(source);
		p->text = steal_ptr(text);
		return p->parsed ? 0
				 : wtb_error_set(err, EINVAL, "policy '%s' was never read",
						 p->source ? p->source : "?");
	}
	r = policy_parse(p, text, len, source, err);
	p->text = steal_ptr(text);
	p->text_len = len;
	return r;
}
