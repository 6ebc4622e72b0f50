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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_FILE_MAX 4096

static void closedirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

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

/* Every `.git` below the top of the tree at `root`, depth first, without
 * following symlinks or going into another file system (a directory that
 * cannot be opened is said in out->stuck). */
static void find_nested(int root, strv *found, wtb_nested *out)
{
	_cleanup_strvec_ strv todo = {0};
	size_t seen = 0;

	strv_push(&todo, xstrdup(""));
	while (todo.n > 0) {
		_cleanup_free_ char *rel = todo.v[--todo.n];
		__attribute__((cleanup(closedirp))) DIR *d = NULL;
		struct dirent *de;
		int fd;

		todo.v[todo.n] = NULL;
		fd = rel[0] == '\0' ? openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				    : open_beneath(root, rel, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			strv_push(&out->stuck,
				  xasprintf("%s/: cannot look into it (%s)", rel, strerror(errno)));
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (++seen > WTB_NESTED_WALK_MAX) {
				strv_push(&out->stuck,
					  xasprintf("./: not looked at past %d entries",
						    WTB_NESTED_WALK_MAX));
				return;
			}
			/* The top's own .git is wtbox's gitfile. */
			if (strcmp(de->d_name, ".git") == 0) {
				if (rel[0] != '\0')
					strv_push(found, child_path(rel, de->d_name));
				continue;
			}
			if (is_dir(dirfd(d), de))
				strv_push(&todo, child_path(rel, de->d_name));
		}
	}
}

/* Best effort: a mode that cannot be set makes the move fail, and that
 * is said. */
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

/* The directory part of "a/b/.git": "a/b". */
static char *parent_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	*(slash != NULL ? slash : dir) = '\0';
	return dir;
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

static void stash_one(int root, int sfd, unsigned *next, const char *rel, wtb_nested *out)
{
	_cleanup_free_ char *parent = parent_of(rel);
	_cleanup_error_ wtb_error *err = NULL;
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
	if (write_atomic_at(kfd, "path", rel, strlen(rel), 0600, &err) < 0 ||
	    move_entry(pfd, ".git", kfd, "git") < 0) {
		_cleanup_free_ char *why =
		    err != NULL ? wtb_error_text(err) : xstrdup(strerror(errno));

		strv_push(&out->stuck, xasprintf("%s: cannot move it (%s)", rel, why));
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
	if (len == 0 || strlen(text) != len || text[0] == '/' || !str_has_suffix(text, "/.git"))
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

/* The slots of the store, in no particular order. */
static void list_slots(int sfd, strv *slots)
{
	int fd = dup(sfd);
	__attribute__((cleanup(closedirp))) DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (all_digits(de->d_name))
			strv_push(slots, xstrdup(de->d_name));
}

static bool slot_has_git(int sfd, const char *slot)
{
	_cleanup_free_ char *rel = path_join(slot, "git");
	struct stat st;

	return fstatat(sfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int nested_stash(const char *worktree, const char *store, wtb_nested *out, wtb_error **err)
{
	_cleanup_close_ int root = open(worktree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int sfd = -1;
	_cleanup_strvec_ strv found = {0};
	_cleanup_strvec_ strv slots = {0};
	unsigned next = 1;

	/* Without a worktree there is nothing to move, but the store may
	 * still hold what earlier runs moved. */
	if (root < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot open worktree '%s'", worktree);
	if (root >= 0)
		find_nested(root, &found, out);
	if (found.n > 0) {
		if (mkdir(store, 0700) < 0 && errno != EEXIST)
			return wtb_error_errno(err, "cannot create '%s'", store);
	}
	sfd = open(store, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		if (errno == ENOENT && found.n == 0)
			return 0;
		return wtb_error_errno(err, "cannot open '%s'", store);
	}
	for (size_t i = 0; i < found.n; i++)
		stash_one(root, sfd, &next, found.v[i], out);
	list_slots(sfd, &slots);
	for (size_t i = 0; i < slots.n; i++) {
		_cleanup_free_ char *rel = path_join(slots.v[i], "path");

		if (slot_has_git(sfd, slots.v[i])) {
			char *path = slot_path(sfd, slots.v[i]);

			strv_push(&out->stored,
				  path != NULL ? path : xasprintf("(slot %s)", slots.v[i]));
			continue;
		}
		/* A move that a crash cut short: nothing was moved. */
		(void)unlinkat(sfd, rel, 0);
		(void)unlinkat(sfd, slots.v[i], AT_REMOVEDIR);
	}
	if (out->stored.n > 1)
		qsort(out->stored.v, out->stored.n, sizeof(char *), cmp_str);
	return 0;
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
	if (fstatat(pfd, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return xstrdup("something else is at its place now");
	if (move_entry(kfd, "git", pfd, ".git") < 0)
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

	if (sfd < 0)
		return;
	root = open(worktree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	list_slots(sfd, &slots);
	for (size_t i = 0; root >= 0 && i < slots.n; i++) {
		_cleanup_free_ char *path = NULL, *why = NULL;

		if (!slot_has_git(sfd, slots.v[i]))
			continue;
		path = slot_path(sfd, slots.v[i]);
		why = path == NULL ? xstrdup("its recorded place is not valid")
				   : restore_one(root, sfd, slots.v[i], path);
		if (why != NULL)
			fprintf(stderr,
				"wtbox: agent '%s': the git repository '%s' stays in '%s/%s/git': "
				"%s\n",
				name, path != NULL ? path : "?", store, slots.v[i], why);
	}
	(void)rmdir(store); /* when it is empty */
}

void nested_free(wtb_nested *n)
{
	strv_clear(&n->stored);
	strv_clear(&n->stuck);
}
