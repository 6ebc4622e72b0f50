/* Pure helpers and cleanup macros shared by every file. */
#ifndef WTBOX_UTIL_H
#define WTBOX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not an error wtbox can report usefully: abort. */
_Noreturn void die_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Cleanup helpers: the variable must be initialised (NULL, -1). */
void freep(void *p);
void closep(int *fd);
void fclosep(void *f);
void strv_freep(void *v);

#define _cleanup_free_	 __attribute__((cleanup(freep)))
#define _cleanup_close_	 __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_strv_	 __attribute__((cleanup(strv_freep)))

/* closedir() of a DIR * that may be NULL. */
void closedirp(void *d);
#define _cleanup_dir_ __attribute__((cleanup(closedirp)))

/* Hand ownership out of a cleanup variable. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) _tmp = (p);                                                          \
		(p) = NULL;                                                                        \
		_tmp;                                                                              \
	})
#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int _tmp = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tmp;                                                                              \
	})

/* A growable NULL-terminated string vector. */
typedef struct strv {
	char **v;
	size_t n, cap;
} strv;
void strv_push(strv *s, char *owned);
void strv_clear(strv *s);
#define _cleanup_strvec_ __attribute__((cleanup(strv_clear)))

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* strcmp for qsort of an array of char * (strv's v). */
int str_ptr_cmp(const void *a, const void *b);

/* Whether a process with this pid exists (any process: pids are
 * reused). */
bool pid_exists(pid_t pid);

/* A whole number in `s` written as decimal digits only, at most `max`:
 * strtoul alone would also take leading white space, a sign (and wrap a
 * '-'), so ' 5', '+5' and '-0' are refused here. -1 when `s` is anything
 * else (empty, other characters, above max). Pure. */
int parse_digits(const char *s, unsigned long max, unsigned long *out);

/* A copy of `s` safe to print on a terminal (caller frees): C0 controls
 * (newline, ESC...), DEL, the C1 controls U+0080..U+009F, the marks that
 * reorder or break a line (U+200E, U+200F, U+2028..U+202E,
 * U+2066..U+2069) and every byte that is not valid UTF-8 are written
 * \xHH, one per byte; printable UTF-8 is kept. For what the agent named (paths, refs) on its way to
 * the user's terminal, never for what is stored: an escape sequence there could set the clipboard,
 * move the cursor or forge a line. */
char *term_escape(const char *s);

/* a + "/" + b, without doubling the slash. */
char *path_join(const char *a, const char *b);
/* An absolute path written plainly: no empty or "." components, no
 * trailing slash ("/a//b/./" -> "/a/b"). NULL when it has a ".."
 * component (which only the file system can resolve, through links) or
 * is not absolute. Pure. */
char *path_plain(const char *path);

/* openat2 of `path` below the directory `root`, following no symlink and
 * leaving neither `root` nor its file system: for trees the agent wrote.
 * O_CLOEXEC and O_NOCTTY are added. -1 with errno on failure. */
int open_beneath(int root, const char *path, int flags, mode_t mode);

/* Create a directory and its parents with `mode` (existing ones are kept as
 * they are). */
int mkdir_p(const char *path, mode_t mode, wtb_error **err);

/* Read a whole regular file (at most `max` bytes, NUL-terminated; a
 * FIFO, device or directory is an error, never a wait); read_fd names
 * it `what` in errors. */
int read_file(const char *path, size_t max, char **out, size_t *len, wtb_error **err);
int read_fd(int fd, const char *what, size_t max, char **out, size_t *len, wtb_error **err);

/* Write all of `data`, retrying on EINTR; -1 with errno on any other
 * failure (EAGAIN included, for a non-blocking fd). */
int write_all(int fd, const char *data, size_t len);

/* Write `data` to `path` through a temp file in the same directory, fsync,
 * rename: readers see the old or the new content, never a part, and so
 * does the next boot after a crash. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, wtb_error **err);
/* Same without the fsync, for what a crash makes worthless anyway (the
 * state of a run that no longer exists, a cache): readers still see the
 * old or the new content, but after a crash the file may be the old one
 * or, on some file systems, empty. Each fsync costs 0.5-1 ms on a
 * virtual disk, several times the rest of writing a record. */
int write_file_replace(const char *path, const char *data, size_t len, mode_t mode,
		       wtb_error **err);
/* For a small file rewritten often, at the same length each time (pad
 * it): the content goes into `<path>.spare` in place, under an exclusive
 * flock, and the two names are exchanged (renameat2 RENAME_EXCHANGE).
 * Nothing is allocated, freed or flushed: 25-30 us where a rename over the
 * file costs 200 on ext4 (its write-back started, the old blocks freed).
 * When the spare is missing, of another length, or locked by a reader, a
 * new file is written, its write-back started and exchanged; without
 * RENAME_EXCHANGE it is renamed over `path` as write_file_replace does.
 * Readers must use read_file_shared: a reader that opened the file before
 * it became the spare would otherwise see the next write half done. One
 * writer at a time (two can put an older version back). After a crash:
 * the new, the old or an earlier content, never a part of one (the size
 * never changes in place, and an overwritten block is not ordered before
 * the exchange: the spare's inode may come back with what it last had on
 * disk). */
int write_file_swap(const char *path, const char *data, size_t len, mode_t mode, wtb_error **err);
/* read_file, under a shared flock (waited for at most a second). */
int read_file_shared(const char *path, size_t max, char **out, size_t *len, wtb_error **err);
/* write_file_replace, unless the file already holds `data`: a replaced
 * file costs its old blocks freed (with -o discard, a discard each). */
int replace_file_if_changed(const char *path, const char *data, size_t len, mode_t mode,
			    wtb_error **err);
/* Same, but nothing is written when the file already holds `data`. */
int write_file_if_changed(const char *path, const char *data, size_t len, mode_t mode,
			  wtb_error **err);
/* Same for `name` (one component) in the directory `dirfd`; never writes
 * through a symlink. */
int write_atomic_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
		    wtb_error **err);

/* Take an exclusive flock on `path` (created 0600), waiting at most
 * timeout_ms. Returns the fd holding the lock. */
int lock_file(const char *path, int timeout_ms, int *out_fd, wtb_error **err);

/* Remove a tree without following symlinks and without crossing into other
 * file systems. Only for trees wtbox itself decided to delete. */
int remove_tree(const char *path, wtb_error **err);

/* What /proc/PID/stat says of a process: its state (field 3: 'R', 'S',
 * 'Z' for a zombie...), its threads (field 20) and its start time in
 * clock ticks since boot (field 22). -1 when it cannot be read (gone). */
typedef struct wtb_proc_stat {
	char state;
	long threads;
	uint64_t start;
} wtb_proc_stat;
int proc_stat_read(pid_t pid, wtb_proc_stat *out);

/* Identity of a live process: its start time (see wtb_proc_stat), and
 * this boot's id. 0 / "" when unknown or when the process is a zombie. */
uint64_t proc_start_time(pid_t pid);
char *boot_id(void);

/* Monotonic milliseconds (bounded waits) and microseconds (timing). */
uint64_t now_ms(void);
uint64_t now_us(void);

#endif
