#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Noreturn void die_oom(void)
{
	fputs("wtbox: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die_oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die_oom();
	va_end(ap);
	return s;
}

void freep(void *p)
{
	free(*(void **)p);
}

void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

void fclosep(void *f)
{
	FILE **fp = f;

	if (*fp != NULL)
		fclose(*fp);
	*fp = NULL;
}

void strv_freep(void *v)
{
	char ***pv = v;

	if (*pv == NULL)
		return;
	for (char **p = *pv; *p != NULL; p++)
		free(*p);
	free(*pv);
	*pv = NULL;
}

void strv_push(strv *s, char *owned)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
}

void strv_clear(strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

int parse_digits(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned long d = (unsigned long)(*s - '0');

		if (*s < '0' || *s > '9' || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* The length of the valid UTF-8 sequence at `s` (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 when none starts there.
 * Stops at the terminating NUL, which is never a continuation byte. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *term_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(4 * strlen(s) + 1), *o = out;

	while (*p != '\0') {
		size_t n = utf8_len(p);
		/* C0 and DEL; the C1 controls U+0080..U+009F are c2 80..c2 9f;
		 * the marks that reorder or break a line: U+200E/U+200F
		 * (e2 80 8e/8f), U+2028..U+202E (e2 80 a8..ae) and
		 * U+2066..U+2069 (e2 81 a6..a9). */
		bool escape =
		    n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
		    (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
		     (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xa8 && p[2] <= 0xae))) ||
		    (n == 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);

		for (size_t i = 0; i < (n ? n : 1); i++, p++) {
			if (escape)
				o += sprintf(o, "\\x%02x", *p);
			else
				*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (*b == '/')
		b++;
	if (la > 0 && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *path_plain(const char *path)
{
	char *out, *o;

	if (path[0] != '/')
		return NULL;
	o = out = xmalloc(strlen(path) + 2);
	for (const char *p = path; *p != '\0';) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	return out;
}

void closedirp(void *d)
{
	DIR **dir = d;

	if (*dir != NULL)
		closedir(*dir);
}

int open_beneath(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC | O_NOCTTY),
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};

	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

int mkdir_p(const char *path, mode_t mode, wtb_error **err)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;

	/* Most calls find the directory there: one stat, not a mkdir per
	 * component. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	p = xstrdup(path);

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return wtb_error_errno(err, "cannot create directory '%s'", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		if (errno != EEXIST)
			return wtb_error_errno(err, "cannot create directory '%s'", p);
		if (stat(p, &st) < 0)
			return wtb_error_errno(err, "cannot create directory '%s'", p);
		if (!S_ISDIR(st.st_mode))
			return wtb_error_set(err, ENOTDIR, "cannot create directory '%s'", p);
	}
	return 0;
}

int read_fd(int fd, const char *what, size_t max, char **out, size_t *len, wtb_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 4096;

	buf = xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (cap > max)
				return wtb_error_set(err, EFBIG, "cannot read '%s'", what);
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wtb_error_errno(err, "cannot read '%s'", what);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max)
		return wtb_error_set(err, EFBIG, "cannot read '%s'", what);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	*out = steal_ptr(buf);
	return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len, wtb_error **err)
{
	/* O_NONBLOCK: a FIFO by that name must not hang the open. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return wtb_error_errno(err, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		return wtb_error_errno(err, "cannot read '%s'", path);
	if (!S_ISREG(st.st_mode))
		return wtb_error_set(err, 0, "cannot read '%s': it is not a regular file", path);
	return read_fd(fd, path, max, out, len, err);
}

int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* How a new file's content reaches the disk before it takes a name. */
typedef enum { TEMP_PLAIN, TEMP_FSYNC, TEMP_WRITEBACK } temp_sync;

/* `data` in a new file `<name>.tmp.<pid>` of dirfd (its name in *tmp):
 * the fd, or -1 with nothing left behind. O_EXCL and O_NOFOLLOW: a name
 * someone else put there (a symlink included) is never written through. */
static int write_temp(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
		      temp_sync sync, char **tmp, wtb_error **err)
{
	int fd;

	*tmp = xasprintf("%s.tmp.%d", name, (int)getpid());
	unlinkat(dirfd, *tmp, 0);
	fd = openat(dirfd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return wtb_error_errno(err, "cannot create '%s'", *tmp);
	if (write_all(fd, data, len) < 0 || (sync == TEMP_FSYNC && fsync(fd) < 0)) {
		wtb_error_errno(err, "cannot write '%s'", *tmp);
		unlinkat(dirfd, *tmp, 0);
		close(fd);
		return -1;
	}
	if (sync == TEMP_WRITEBACK)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return fd;
}

/* The temp file takes `name`; on failure it is removed. */
static int rename_temp(int dirfd, const char *tmp, const char *name, wtb_error **err)
{
	if (renameat(dirfd, tmp, dirfd, name) == 0)
		return 0;
	wtb_error_errno(err, "cannot rename '%s' to '%s'", tmp, name);
	unlinkat(dirfd, tmp, 0);
	return -1;
}

/* The temp file is fsynced before the rename when `durable`: after a
 * crash the name holds the old or the new content. Without, a crash can
 * leave it empty on a file system that does not order a rename after
 * the data it replaces (ext4 does); readers still never see a part. */
static int replace_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
		      bool durable, wtb_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd =
	    write_temp(dirfd, name, data, len, mode, durable ? TEMP_FSYNC : TEMP_PLAIN, &tmp, err);

	return fd < 0 ? -1 : rename_temp(dirfd, tmp, name, err);
}

int write_atomic_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
		    wtb_error **err)
{
	return replace_at(dirfd, name, data, len, mode, true, err);
}

/* Opens the directory of `path` (AT_FDCWD for a bare name) and returns
 * the last component (inside `path`), or NULL. */
static const char *open_parent(const char *path, int *dirfd, wtb_error **err)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = NULL;

	*dirfd = AT_FDCWD;
	if (slash == NULL)
		return path;
	dir = slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		wtb_error_errno(err, "cannot open '%s'", dir);
		return NULL;
	}
	return slash + 1;
}

static int replace_path(const char *path, const char *data, size_t len, mode_t mode, bool durable,
			wtb_error **err)
{
	_cleanup_close_ int dirfd = -1;
	const char *name = open_parent(path, &dirfd, err);

	if (name == NULL)
		return -1;
	if (replace_at(dirfd, name, data, len, mode, durable, err) < 0)
		return wtb_error_wrap(err, "cannot write '%s'", path);
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, wtb_error **err)
{
	return replace_path(path, data, len, mode, true, err);
}

int write_file_replace(const char *path, const char *data, size_t len, mode_t mode, wtb_error **err)
{
	return replace_path(path, data, len, mode, false, err);
}

/* flock, waiting at most timeout_ms (polled: a bounded wait, never a hang
 * behind a stuck process). -1 with errno, EWOULDBLOCK when it timed out. */
static int flock_within(int fd, int op, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	unsigned delay_us = 100;

	while (flock(fd, op | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		if (now_ms() >= deadline)
			return -1;
		usleep(delay_us);
		if (delay_us < 50000)
			delay_us *= 2;
	}
	return 0;
}

static int pwrite_all(int fd, const char *data, size_t len)
{
	for (off_t off = 0; len > 0;) {
		ssize_t w = pwrite(fd, data, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The fast way: the spare has this length already. Written in place under
 * its lock (no block allocated, none freed, the size unchanged), then
 * exchanged with `name`. 1: not possible now, take the slow way. */
static int swap_in_place(int dirfd, const char *name, const char *spare, const char *data,
			 size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, spare, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st, now;

	/* Not waited for: a reader holding it (or a stopped one) costs the
	 * slow way, never a hang. Then the name must still be this file
	 * (another writer may have exchanged it meanwhile) and it must be
	 * ours alone to overwrite. */
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
	    fstatat(dirfd, spare, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return 1;
	if (st.st_ino != now.st_ino || st.st_dev != now.st_dev || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_size != (off_t)len)
		return 1;
	if (pwrite_all(fd, data, len) < 0)
		return 1;
	return renameat2(dirfd, spare, dirfd, name, RENAME_EXCHANGE) == 0 ? 0 : 1;
}

/* The slow way: a new file, its write-back started (as ext4 does for a
 * rename over a file), exchanged with `name`; the old one becomes the
 * spare. Without RENAME_EXCHANGE (or without `name`), a plain rename. */
static int swap_new(int dirfd, const char *name, const char *spare, const char *data, size_t len,
		    mode_t mode, wtb_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd =
	    write_temp(dirfd, name, data, len, mode, TEMP_WRITEBACK, &tmp, err);

	if (fd < 0)
		return -1;
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
		if (renameat(dirfd, tmp, dirfd, spare) < 0)
			unlinkat(dirfd, tmp, 0);
		return 0;
	}
	return rename_temp(dirfd, tmp, name, err);
}

int write_file_swap(const char *path, const char *data, size_t len, mode_t mode, wtb_error **err)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ char *spare = NULL;
	const char *name = open_parent(path, &dirfd, err);

	if (name == NULL)
		return -1;
	spare = xasprintf("%s.spare", name);
	if (swap_in_place(dirfd, name, spare, data, len) == 0)
		return 0;
	if (swap_new(dirfd, name, spare, data, len, mode, err) < 0)
		return wtb_error_wrap(err, "cannot write '%s'", path);
	return 0;
}

int read_file_shared(const char *path, size_t max, char **out, size_t *len, wtb_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return wtb_error_errno(err, "cannot open '%s'", path);
	/* A writer stuck for a second: read anyway; a part shows as corrupt. */
	flock_within(fd, LOCK_SH, 1000);
	return read_fd(fd, path, max, out, len, err);
}

static bool holds(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *old = NULL;
	_cleanup_error_ wtb_error *rerr = NULL;
	size_t old_len;

	return read_file(path, len + 1, &old, &old_len, &rerr) == 0 && old_len == len &&
	       memcmp(old, data, len) == 0;
}

int write_file_if_changed(const char *path, const char *data, size_t len, mode_t mode,
			  wtb_error **err)
{
	return holds(path, data, len) ? 0 : write_file_atomic(path, data, len, mode, err);
}

int replace_file_if_changed(const char *path, const char *data, size_t len, mode_t mode,
			    wtb_error **err)
{
	return holds(path, data, len) ? 0 : write_file_replace(path, data, len, mode, err);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int lock_file(const char *path, int timeout_ms, int *out_fd, wtb_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return wtb_error_errno(err, "cannot open lock '%s'", path);
	/* Poll with LOCK_NB rather than block: a bounded wait gives a clear
	 * error instead of hanging behind a stuck process. */
	if (flock_within(fd, LOCK_EX, timeout_ms) < 0)
		return errno == EWOULDBLOCK
			   ? wtb_error_set(err, ETIMEDOUT, "cannot lock '%s'", path)
			   : wtb_error_errno(err, "cannot lock '%s'", path);
	*out_fd = steal_fd(fd);
	return 0;
}

static int remove_at(int dirfd, const char *name, dev_t dev, wtb_error **err);

static int remove_dir_contents(int fd, dev_t dev, wtb_error **err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (d == NULL) {
		close(fd);
		return wtb_error_errno(err, "cannot list directory");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_at(dirfd(d), de->d_name, dev, err) < 0) {
			r = -1;
			break;
		}
	}
	closedir(d);
	return r;
}

static int remove_at(int dirfd, const char *name, dev_t dev, wtb_error **err)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : wtb_error_errno(err, "cannot stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return wtb_error_errno(err, "cannot remove '%s'", name);
		return 0;
	}
	if (st.st_dev != dev)
		return wtb_error_set(err, EXDEV, "refusing to remove mount point '%s'", name);
	/* Make it searchable and writable first: a tree may hold read-only
	 * directories (Go's module cache does that). */
	if ((st.st_mode & 0700) != 0700 && fchmodat(dirfd, name, st.st_mode | 0700, 0) < 0)
		return wtb_error_errno(err, "cannot make '%s' writable", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wtb_error_errno(err, "cannot open '%s'", name);
	if (remove_dir_contents(fd, dev, err) < 0)
		return wtb_error_wrap(err, "in '%s'", name);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot remove '%s'", name);
	return 0;
}

bool pid_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

int remove_tree(const char *path, wtb_error **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : wtb_error_errno(err, "cannot stat '%s'", path);
	if (remove_at(AT_FDCWD, path, st.st_dev, err) < 0)
		return wtb_error_wrap(err, "cannot remove '%s'", path);
	return 0;
}

int proc_stat_read(pid_t pid, wtb_proc_stat *out)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
	_cleanup_free_ char *buf = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	unsigned long long start = 0;
	char *p;

	memset(out, 0, sizeof(*out));
	if (read_file(path, 1 << 16, &buf, NULL, &err) < 0)
		return -1;
	/* The command name (field 2) may hold spaces and parentheses: skip
	 * to the last ')'; field 3 follows a space. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	out->state = p[2];
	p++;
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p + 1, ' ');
		if (p != NULL && field == 19)
			out->threads = strtol(p + 1, NULL, 10);
	}
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	out->start = start;
	return 0;
}

uint64_t proc_start_time(pid_t pid)
{
	wtb_proc_stat st;

	/* A zombie (Z, or X while it is reaped) is no longer a live process:
	 * a SIGKILLed supervisor whose parent has not waited for it yet is
	 * dead, and so is its sandbox. */
	if (proc_stat_read(pid, &st) < 0 || st.state == 'Z' || st.state == 'X')
		return 0;
	return st.start;
}

char *boot_id(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	char *buf = NULL;
	size_t len = 0;

	if (read_file("/proc/sys/kernel/random/boot_id", 256, &buf, &len, &err) < 0)
		return xstrdup("");
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

#ifdef WTBOX_FAULTS
#include <signal.h>

#include "fault.h"

int fault_check(const char *point, wtb_error **err)
{
	const char *want = getenv("WTBOX_FAULT");

	size_t len = strlen(point);

	if (want == NULL || strncmp(want, point, len) != 0)
		return 0;
	/* "POINT:crash": die on the spot, as a SIGKILL would leave things. */
	if (strcmp(want + len, ":crash") == 0)
		kill(getpid(), SIGKILL);
	/* "POINT:stop": stopped there until a SIGCONT, so a test can act in
	 * that window; then on as if nothing happened. */
	if (strcmp(want + len, ":stop") == 0) {
		kill(getpid(), SIGSTOP);
		return 0;
	}
	if (want[len] == '\0')
		return wtb_error_set(err, 0, "injected fault at '%s'", point);
	return 0;
}
#endif
