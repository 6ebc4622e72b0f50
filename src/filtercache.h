/* Compiled filters kept on disk: libseccomp takes about 20 ms to compile
 * a policy of the size of policies/default.json for two or three ABIs,
 * more than everything else `wtbox run` does before the command starts.
 * The BPF it produces depends only on the policy's bytes, the machine
 * (native ABI, kernel version and boot, libseccomp's version and API
 * level) and wtbox's version, so a run keeps it, under a key made of all
 * of these (held in the file and compared byte for byte), in
 * <state>/filters/ (mode 0700; that directory is never visible inside a
 * sandbox), and the next run with the same inputs loads it from there.
 *
 * A cached filter is trusted as the policy file is: both belong to the
 * user and sit in directories only the user can write. A file that is not
 * the user's, is writable by others, or does not check out to the byte is
 * ignored and replaced by a fresh compile. */
#ifndef WTBOX_FILTERCACHE_H
#define WTBOX_FILTERCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "filter.h"
#include "policy.h"

/* filter_compile(), through the cache in `dir` (created when missing).
 * A policy without its text (parsed from a buffer), or a cache that
 * cannot be read or written, means a plain compile: the cache never
 * makes a run fail. A policy only read (policy_read) is parsed when the
 * cache does not have it, and its errors are reported then. *hit (may
 * be NULL) says whether the filter came from the cache. */
int filter_compile_cached(wtb_filter *f, wtb_policy *p, const wtb_policy_env *env,
			  const wtb_filter_opts *opts, const char *dir, bool *hit, wtb_error **err);

/* The serialised form of a filter under `key` (KEYLEN bytes, kept in
 * the file), and back. filter_decode accepts exactly what filter_encode
 * produced for the same key and fails (-1, *f untouched) on anything
 * else. Pure. */
char *filter_encode(const wtb_filter *f, const void *key, size_t keylen, size_t *len);
int filter_decode(wtb_filter *f, const char *buf, size_t len, const void *key, size_t keylen);

/* <state>/filters for this user (caller frees), or NULL when the state
 * directory cannot be found. */
char *filter_cache_dir(void);

#endif
