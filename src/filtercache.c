/* Compiled filters on disk, keyed by everything the BPF depends on. */
#include "filtercache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <seccomp.h>

#include "paths.h"

/* The first bytes of every file; the digit is the format's version. */
static const char MAGIC[8] = {'W', 'T', 'B', 'X', 'B', 'P', 'F', '2'};

#define CACHE_MAX_SIZE (4 << 20) /* a key holds the policy: up to 1 MiB */

/* A file: the magic, the key's length and the key itself, this head,
 * the arches, the instructions, the skipped names, and last a checksum
 * of everything before it (a file damaged on disk is never loaded as a
 * filter). */
typedef struct cache_head {
	uint32_t flags;
	uint32_t default_action;
	uint32_t narches;
	uint32_t len; /* BPF instructions */
	uint32_t nskipped;
	uint32_t pad;
	uint64_t nrules;
} cache_head;

#define KEY_OFF (sizeof(MAGIC) + sizeof(uint64_t))
#define SUM_LEN sizeof(uint64_t)

/* The multiply carries no difference out of the top bit; the shift
 * after it folds the top half back down, so that two flips in
 * neighbouring words cannot cancel through bit 63. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h = h << 29 | h >> 35;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ h >> 32;
}

/* Against damage, not tampering (whoever can write the file can write
 * the policy): every step is one-to-one in both the sum so far and the
 * word, so a change within one 8-byte word (any flipped bit) always
 * changes the sum. A run reads some 50 kB through it; SHA-1s took
 * about 0.15 ms for that. */
static uint64_t checksum(const char *buf, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i = 0;

	for (; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, buf + i, sizeof(w));
		h = mix(h, w);
	}
	w = 0;
	memcpy(&w, buf + i, len - i);
	h = mix(h, w);
	return h ^ h >> 32;
}

static size_t strv_bytes(const strv *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += strlen(v->v[i]) + 1;
	return n;
}

static char *put(char *at, const void *src, size_t n)
{
	memcpy(at, src, n);
	return at + n;
}

char *filter_encode(const wtb_filter *f, const void *key, size_t keylen, size_t *len)
{
	cache_head h = {.flags = f->flags,
			.default_action = f->default_action,
			.narches = (uint32_t)f->narches,
			.len = f->prog.len,
			.nskipped = (uint32_t)f->skipped.n,
			.nrules = f->nrules};
	size_t arches = f->narches * sizeof(uint32_t);
	size_t insns = (size_t)f->prog.len * sizeof(struct sock_filter);
	size_t size = KEY_OFF + keylen + sizeof(h) + arches + insns + strv_bytes(&f->skipped) +
		      strv_bytes(&f->skipped_at) + SUM_LEN;
	uint64_t klen = keylen, sum;
	char *buf = xmalloc(size), *at = buf;

	at = put(at, MAGIC, sizeof(MAGIC));
	at = put(at, &klen, sizeof(klen));
	at = put(at, key, keylen);
	at = put(at, &h, sizeof(h));
	at = put(at, f->arches, arches);
	at = put(at, f->prog.filter, insns);
	/* Each skipped name followed by where the policy names it. */
	for (size_t i = 0; i < f->skipped.n; i++) {
		at = put(at, f->skipped.v[i], strlen(f->skipped.v[i]) + 1);
		at = put(at, f->skipped_at.v[i], strlen(f->skipped_at.v[i]) + 1);
	}
	sum = checksum(buf, size - SUM_LEN);
	memcpy(at, &sum, SUM_LEN);
	*len = size;
	return buf;
}

/* The next NUL-terminated string of [*at, end), or NULL. */
static const char *next_string(const char **at, const char *end)
{
	const char *s = *at, *nul = memchr(s, '\0', (size_t)(end - s));

	if (nul == NULL)
		return NULL;
	*at = nul + 1;
	return s;
}

int filter_decode(wtb_filter *f, const char *buf, size_t len, const void *key, size_t keylen)
{
	wtb_filter out = {0};
	cache_head h;
	const char *at, *end;
	uint64_t klen, sum;
	size_t arches, insns;

	if (len < KEY_OFF + keylen + sizeof(h) + SUM_LEN || memcmp(buf, MAGIC, sizeof(MAGIC)) != 0)
		return -1;
	memcpy(&klen, buf + sizeof(MAGIC), sizeof(klen));
	if (klen != keylen || memcmp(buf + KEY_OFF, key, keylen) != 0)
		return -1;
	end = buf + len - SUM_LEN;
	memcpy(&sum, end, SUM_LEN);
	if (sum != checksum(buf, len - SUM_LEN))
		return -1;
	memcpy(&h, buf + KEY_OFF + keylen, sizeof(h));
	at = buf + KEY_OFF + keylen + sizeof(h);
	if (h.narches == 0 || h.narches > ARRAY_SIZE(out.arches) || h.len == 0 ||
	    h.len > BPF_MAXINSNS_KERNEL || h.nskipped > CACHE_MAX_SIZE)
		return -1;
	arches = h.narches * sizeof(uint32_t);
	insns = (size_t)h.len * sizeof(struct sock_filter);
	if ((size_t)(end - at) < arches + insns)
		return -1;
	memcpy(out.arches, at, arches);
	out.narches = h.narches;
	out.flags = h.flags;
	out.default_action = h.default_action;
	out.nrules = (size_t)h.nrules;
	out.prog.len = (unsigned short)h.len;
	out.prog.filter = xmalloc(insns);
	memcpy(out.prog.filter, at += arches, insns);
	at += insns;
	for (uint32_t i = 0; i < h.nskipped; i++) {
		const char *name = next_string(&at, end);
		const char *where = name ? next_string(&at, end) : NULL;

		if (where == NULL) {
			filter_free(&out);
			return -1;
		}
		strv_push(&out.skipped, xstrdup(name));
		strv_push(&out.skipped_at, xstrdup(where));
	}
	/* Not a byte more than the writer wrote. */
	if (at != end) {
		filter_free(&out);
		return -1;
	}
	*f = out;
	return 0;
}

char *filter_cache_dir(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_dirs d = {0};
	char *dir;

	if (dirs_from_env(&d, &err) < 0)
		return NULL;
	dir = path_join(d.state, "filters");
	dirs_free(&d);
	return dir;
}

/* Everything the BPF depends on, the policy's bytes last: the file
 * holds the key itself, compared byte for byte (no hash to collide). The
 * binary's identity (device, inode, size, modification time) stands for
 * the compiler's own code: a rebuilt or upgraded wtbox compiles afresh
 * even when its version string did not change. The boot stands for what
 * the kernel was started with (whether it runs x32 calls). */
static char *cache_key(const wtb_policy *p, const wtb_policy_env *env, const wtb_filter_opts *opts,
		       size_t *len)
{
	const struct scmp_version *v = seccomp_version();
	struct stat exe = {0};
	_cleanup_free_ char *head = NULL, *boot = boot_id(); /* "" if unknown */
	char *all;
	size_t hl;

	stat("/proc/self/exe", &exe);
	head =
	    xasprintf("wtbox %s exe %llu:%llu:%lld:%lld.%09ld\n"
		      "libseccomp %u.%u.%u api %u\nnative %u kernel %u.%u boot %s\nnotify %d\n",
		      WTBOX_VERSION, (unsigned long long)exe.st_dev, (unsigned long long)exe.st_ino,
		      (long long)exe.st_size, (long long)exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec,
		      v->major, v->minor, v->micro, seccomp_api_get(), env->native, env->kernel[0],
		      env->kernel[1], boot, opts != NULL && opts->notify);
	hl = strlen(head);
	all = xmalloc(hl + p->text_len);
	memcpy(all, head, hl);
	memcpy(all + hl, p->text, p->text_len);
	*len = hl + p->text_len;
	return all;
}

/* One file per policy file and mode: an edited policy replaces its
 * entry rather than adding one, so the directory stays as small as the
 * set of policies in use. */
static char *cache_file(const char *dir, const wtb_policy *p, const wtb_filter_opts *opts)
{
	_cleanup_free_ char *id =
	    xasprintf("%s\n%s", p->source, opts != NULL && opts->notify ? "notify" : "filter");
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;

	git_odb_hash(&oid, id, strlen(id), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &oid);
	return xasprintf("%s/%s.bpf", dir, hex);
}

/* The file, when it is the user's own regular file that nobody else
 * can write, and holds a filter under this key. */
static int cache_read(wtb_filter *f, const char *path, const char *key, size_t keylen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	struct stat st;
	size_t len;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		return -1;
	if (read_fd(fd, path, CACHE_MAX_SIZE, &buf, &len, &err) < 0)
		return -1;
	return filter_decode(f, buf, len, key, keylen);
}

int filter_compile_cached(wtb_filter *f, wtb_policy *p, const wtb_policy_env *env,
			  const wtb_filter_opts *opts, const char *dir, bool *hit, wtb_error **err)
{
	_cleanup_error_ wtb_error *werr = NULL;
	_cleanup_free_ char *path = NULL, *buf = NULL, *key = NULL;
	size_t len, keylen;

	if (hit != NULL)
		*hit = false;
	if (p->text == NULL || dir == NULL)
		return policy_parse_text(p, err) < 0 ? -1 : filter_compile(f, p, env, opts, err);
	key = cache_key(p, env, opts, &keylen);
	path = cache_file(dir, p, opts);
	if (cache_read(f, path, key, keylen) == 0) {
		if (hit != NULL)
			*hit = true;
		return 0;
	}
	if (policy_parse_text(p, err) < 0 || filter_compile(f, p, env, opts, err) < 0)
		return -1;
	/* Best effort: a read-only or full state directory costs the next
	 * run a compile, nothing more. No fsync: a file a crash left empty
	 * or short fails its digest and is compiled again. */
	buf = filter_encode(f, key, keylen, &len);
	if (mkdir_p(dir, 0700, &werr) == 0)
		write_file_replace(path, buf, len, 0600, &werr);
	return 0;
}
