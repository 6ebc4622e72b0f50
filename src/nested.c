/* Git repositories the agent left inside its worktree (see nested.h).
 *
 * The store holds one numbered directory per repository moved:
 * <store>/<k>/git is the `.git` as it was, <store>/<k>/path says where it
 * was (relative to the worktree). Everything in the worktree is opened
 * with open_beneath, so a symlink the agent left there cannot send a move
 * elsewhere. */
#include "nested.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_FILE_MAX (PATH_MAX + 16)

/* An entry is a directory (not a symlink to one). */
static bool is_dir(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static char *child_path(const char *rel, const char *name)
{
	return rel[0] == '\0' ? xstrdup(name) : xasprintf("%s/%s", rel, name);
}

/* The directory part of "a/b/.git": "a/b". */
static char *parent_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	*(slash != NULL ? slash : dir) = '\0';
	return dir;
}

/* Directories the walk opened up (the agent took the owner's read or
 * search permission away, which would hide what is inside): their modes
 * go back once the moves are done, deepest first. */
typedef struct opened {
	strv paths;
	mode_t *modes;
} opened;

/* The last component of "a/b/.git": ".git". */
static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static int open_rel(int root, const char *rel)
{
	if (rel[0] == '\0')
		return openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return open_beneath(root, rel, O_RDONLY | O_DIRECTORY, 0);
}

/* Open the directory `rel`, giving it the owner's permissions first when
 * they were taken away (the user owns what the agent made). */
static int open_walked(int root, const char *rel, opened *op)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int pfd = -1;
	struct stat st;
	int fd = open_rel(root, rel);

	if (fd >= 0 || errno != EACCES || rel[0] == '\0')
		return fd;
	parent = parent_of(rel);
	pfd = open_rel(root, parent);
	if (pfd < 0 || fstatat(pfd, base_of(rel), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) ||
	    fchmodat(pfd, base_of(rel), (st.st_mode | S_IRWXU) & 07777, 0) < 0) {
		errno = EACCES;
		return -1;
	}
	op->modes = xrealloc(op->modes, (op->paths.n + 1) * sizeof(*op->modes));
	op->modes[op->paths.n] = st.st_mode & 07777;
	strv_push(&op->paths, xstrdup(rel));
	return open_rel(root, rel);
}

static void close_up(int root, opened *op, wtb_nested *out)
{
	for (size_t i = op->paths.n; i-- > 0;) {
		_cleanup_free_ char *parent = parent_of(op->paths.v[i]);
		_cleanup_close_ int pfd = open_rel(root, parent);

		if (pfd < 0 || fchmodat(pfd, base_of(op->paths.v[i]), op->modes[i], 0) < 0)
			strv_push(&out->stuck,
				  xasprintf("%s/: cannot give it back mode %o (%s)", op->paths.v[i],
					    op->modes[i], strerror(errno)));
	}
	strv_clear(&op->paths);
	free(op->modes);
	op->modes = NULL;
}

/* Every `.git` below the top of the tree at `root` (".GIT" too: on a
 * case-folding directory git finds it), depth first, without following
 * symlinks or going into another file system (a directory that cannot be
 * opened is said in out->stuck). */
static void find_nested(int root, strv *found, opened *op, wtb_nested *out)
{
	_cleanup_strvec_ strv todo = {0};
	size_t seen = 0;

	strv_push(&todo, xstrdup(""));
	while (todo.n > 0) {
		_cleanup_free_ char *rel = todo.v[--todo.n];
		_cleanup_dir_ DIR *d = NULL;
		struct dirent *de;
		int fd;

		todo.v[todo.n] = NULL;
		fd = open_walked(root, rel, op);
		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			strv_push(&out->stuck,
				  xasprintf("%s/: cannot look into it (%s)", rel, strerror(errno)));
			if (fd >= 0)
				close(fd);
			continue;
		}
		for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (++seen > WTB_NESTED_WALK_MAX) {
				strv_push(&out->stuck,
					  xasprintf("./: not looked at past %d entries",
						    WTB_NESTED_WALK_MAX));
				return;
			}
			/* The top's own .git is wtbox's gitfile. */
			if (strcasecmp(de->d_name, ".git") == 0) {
				if (rel[0] != '\0')
					strv_push(found, child_path(rel, de->d_name));
				continue;
			}
			if (is_dir(dirfd(d), de))
				strv_push(&todo, child_path(rel, de->d_name));
		}
		if (errno != 0)
			strv_push(&out->stuck, xasprintf("%s/: cannot read all of it (%s)", rel,
							 strerror(errno)));
	}
}

/* Best effort: a mode that cannot be given makes the move fail (said);
 * one that cannot be given back stays as it is. */
static void set_mode(int dirfd, const char *name, mode_t mode)
{
	if (fchmodat(dirfd, name, mode & 07777, 0) < 0)
		return;
}

/* renameat2(RENAME_NOREPLACE) of `from` in `fromfd` to `to` in `tofd`. The
 * agent may have made its directories read-only: then they get the
 * owner's write and search bits for the move, and their modes back
 * after. */
static int move_entry(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat fst, tst, est;
	bool entry_dir;
	int saved;

	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EACCES && errno != EPERM)
		return -1;
	if (fstat(fromfd, &fst) < 0 || fstat(tofd, &tst) < 0 ||
	    fstatat(fromfd, from, &est, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	/* A directory that moves to another parent has its ".." rewritten. */
	entry_dir = S_ISDIR(est.st_mode);
	set_mode(fromfd, ".", fst.st_mode | S_IWUSR | S_IXUSR);
	set_mode(tofd, ".", tst.st_mode | S_IWUSR | S_IXUSR);
	if (entry_dir)
		set_mode(fromfd, from, est.st_mode | S_IWUSR | S_IXUSR);
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0) {
		if (entry_dir)
			set_mode(tofd, to, est.st_mode);
		saved = 0;
	} else {
		saved = errno;
		if (entry_dir)
			set_mode(fromfd, from, est.st_mode);
	}
	set_mode(fromfd, ".", fst.st_mode);
	set_mode(tofd, ".", tst.st_mode);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

/* A new slot <store>/<k>, k counting up from *next. */
static int new_slot(int sfd, unsigned *next, char name[static 16])
{
	for (;; (*next)++) {
		snprintf(name, 16, "%u", *next);
		if (mkdirat(sfd, name, 0700) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	(*next)++;
	return open_beneath(sfd, name, O_RDONLY | O_DIRECTORY, 0);
}

/* A new file `name` in `dirfd` holding `text`. */
static int write_new(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		return -1;
	return 0;
}

static void stash_one(int root, int sfd, unsigned *next, const char *rel, wtb_nested *out)
{
	_cleanup_free_ char *parent = parent_of(rel);
	_cleanup_close_ int pfd = -1;
	_cleanup_close_ int kfd = -1;
	char slot[16];

	pfd = open_beneath(root, parent, O_RDONLY | O_DIRECTORY, 0);
	if (pfd < 0) {
		strv_push(&out->stuck, xasprintf("%s: %s", rel, strerror(errno)));
		return;
	}
	kfd = new_slot(sfd, next, slot);
	if (kfd < 0) {
		strv_push(&out->stuck,
			  xasprintf("%s: cannot make room for it (%s)", rel, strerror(errno)));
		return;
	}
	/* Where it was first: a crash after the move still knows. */
	if (write_new(kfd, "path", rel) < 0 || move_entry(pfd, base_of(rel), kfd, "git") < 0) {
		strv_push(&out->stuck, xasprintf("%s: cannot move it (%s)", rel, strerror(errno)));
		(void)unlinkat(kfd, "path", 0);
		(void)unlinkat(sfd, slot, AT_REMOVEDIR);
	}
}

/* The slot's recorded path, or NULL when it is not one wtbox could have
 * written: relative, ending in a `.git` component, no empty, "." or ".."
 * component. */
static char *slot_path(int sfd, const char *slot)
{
	_cleanup_free_ char *rel = path_join(slot, "path");
	_cleanup_error_ wtb_error *err = NULL;
	_cleanup_close_ int fd = open_beneath(sfd, rel, O_RDONLY, 0);
	char *text = NULL;
	size_t len;

	if (fd < 0 || read_fd(fd, rel, PATH_FILE_MAX, &text, &len, &err) < 0)
		return NULL;
	if (len == 0 || strlen(text) != len || text[0] == '/' || strchr(text, '/') == NULL ||
	    strcasecmp(base_of(text), ".git") != 0)
		goto bad;
	for (const char *c = text;;) {
		const char *end = strchrnul(c, '/');
		size_t n = (size_t)(end - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			goto bad;
		if (*end == '\0')
			break;
		c = end + 1;
	}
	return text;
bad:
	free(text);
	return NULL;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int cmp_slot(const void *x, const void *y)
{
	unsigned long a = strtoul(*(char *const *)x, NULL, 10);
	unsigned long b = strtoul(*(char *const *)y, NULL, 10);

	return (a > b) - (a < b);
}

/* The slots of the store, oldest first. */
static void list_slots(int sfd, strv *slots)
{
	int fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_dir_ DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (all_digits(de->d_name))
			strv_push(slots, xstrdup(de->d_name));
	if (slots->n > 1)
		qsort(slots->v, slots->n, sizeof(char *), cmp_slot);
}

/* A slot holds a moved `.git`; a slot that does not (a move a crash cut
 * short) loses its `path` when `drop` is set. Never through a symlink. */
static bool slot_has_git(int sfd, const char *slot, bool drop)
{
	_cleanup_close_ int kfd = open_beneath(sfd, slot, O_RDONLY | O_DIRECTORY, 0);
	struct stat st;

	if (kfd < 0)
		return false;
	if (fstatat(kfd, "git", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	if (drop && unlinkat(kfd, "path", 0) == 0)
		(void)unlinkat(sfd, slot, AT_REMOVEDIR);
	return false;
}

bool nested_any(const char *store)
{
	_cleanup_close_ int sfd = open(store, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_strvec_ strv slots = {0};

	if (sfd < 0)
		return errno != ENOENT;
	list_slots(sfd, &slots);
	for (size_t i = 0; i < slots.n; i++)
		if (slot_has_git(sfd, slots.v[i], false))
			return true;
	return false;
}

/* Move what the walk found into the store, then list the store. */
static int stash_found(const strv *found, int root, const char *store, wtb_nested *out,
		       wtb_error **err)
{
	_cleanup_close_ int sfd = -1;
	_cleanup_strvec_ strv slots = {0};
	unsigned next = 1;

	if (found->n > 0 && mkdir(store, 0700) < 0 && errno != EEXIST)
		return wtb_error_errno(err, "cannot create '%s'", store);
	sfd = open(store, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		if (errno == ENOENT && found->n == 0)
			return 0;
		return wtb_error_errno(err, "cannot open '%s'", store);
	}
	for (size_t i = 0; i < found->n; i++)
		stash_one(root, sfd, &next, found->v[i], out);
	list_slots(sfd, &slots);
	for (size_t i = 0; i < slots.n; i++) {
		char *path;

		if (!slot_has_git(sfd, slots.v[i], true))
			continue;
		path = slot_path(sfd, slots.v[i]);
		strv_push(&out->stored, path != NULL ? path : xasprintf("(slot %s)", slots.v[i]));
	}
	if (out->stored.n > 1)
		qsort(out->stored.v, out->stored.n, sizeof(char *), str_ptr_cmp);
	return 0;
}

int nested_stash(const char *worktree, const char *store, wtb_nested *out, wtb_error **err)
{
	_cleanup_close_ int root = open(worktree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_strvec_ strv found = {0};
	opened op = {0};
	int r;

	/* Without a worktree there is nothing to move, but the store may
	 * still hold what earlier runs moved. */
	if (root < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot open worktree '%s'", worktree);
	if (root >= 0)
		find_nested(root, &found, &op, out);
	r = stash_found(&found, root, store, out, err);
	if (root >= 0)
		close_up(root, &op, out);
	return r;
}

/* Back from slot `slot` to where it was; NULL, or why it stays. */
static char *restore_one(int root, int sfd, const char *slot, const char *path)
{
	_cleanup_free_ char *parent = parent_of(path);
	_cleanup_close_ int pfd = -1;
	_cleanup_close_ int kfd = open_beneath(sfd, slot, O_RDONLY | O_DIRECTORY, 0);
	struct stat st;

	if (kfd < 0)
		return xasprintf("cannot open it (%s)", strerror(errno));
	pfd = open_beneath(root, parent, O_RDONLY | O_DIRECTORY, 0);
	if (pfd < 0)
		return errno == ENOENT
			   ? xasprintf("'%s' is no longer there", parent)
			   : xasprintf("cannot open '%s' (%s)", parent, strerror(errno));
	if (fstatat(pfd, base_of(path), &st, AT_SYMLINK_NOFOLLOW) == 0)
		return xstrdup("something else is at its place now");
	if (move_entry(kfd, "git", pfd, base_of(path)) < 0)
		return xasprintf("cannot move it (%s)", strerror(errno));
	(void)unlinkat(kfd, "path", 0);
	(void)unlinkat(sfd, slot, AT_REMOVEDIR);
	return NULL;
}

void nested_restore(const char *name, const char *worktree, const char *store)
{
	_cleanup_close_ int sfd = open(store, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int root = -1;
	_cleanup_strvec_ strv slots = {0};
	int open_err;

	if (sfd < 0)
		return;
	root = open(worktree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	open_err = errno;
	list_slots(sfd, &slots);
	if (root < 0 && slots.n > 0)
		fprintf(stderr,
			"wtbox: agent '%s': its git repositories stay in '%s': cannot open its "
			"worktree (%s)\n",
			name, store, strerror(open_err));
	for (size_t i = 0; root >= 0 && i < slots.n; i++) {
		_cleanup_free_ char *path = NULL, *why = NULL;

		if (!slot_has_git(sfd, slots.v[i], false))
			continue;
		path = slot_path(sfd, slots.v[i]);
		why = path == NULL ? xstrdup("its recorded place is not valid")
				   : restore_one(root, sfd, slots.v[i], path);
		if (why != NULL) {
			_cleanup_free_ char *shown = term_escape(path != NULL ? path : "?");
			_cleanup_free_ char *reason = term_escape(why);

			fprintf(stderr,
				"wtbox: agent '%s': the git repository '%s' stays in '%s/%s/git': "
				"%s\n",
				name, shown, store, slots.v[i], reason);
		}
	}
	(void)rmdir(store); /* when it is empty */
}

void nested_free(wtb_nested *n)
{
	strv_clear(&n->stored);
	strv_clear(&n->stuck);
}
