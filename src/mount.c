#include "mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KiB 1024UL
#define MiB (1024UL * 1024UL)

/* Host top-level directories that the sandbox does not get: people's
 * homes and scratch space, and the pseudo file systems the sandbox gets
 * new instances of. */
static const char *const hidden_top[] = {
    "home", "root", "tmp", "mnt", "media", "run", "proc", "dev", "sys", "lost+found",
};

/* Kernel interfaces that are not for the sandbox: written to, they change
 * the host; read, some leak kernel memory layout. */
static const char *const proc_rdonly[] = {
    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};
static const char *const proc_masked[] = {
    "/proc/kcore",	   "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
    "/proc/latency_stats", "/proc/acpi", "/proc/scsi",	     "/proc/kallsyms",
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static wtb_mount *plan_add(wtb_mount_plan *p, wtb_mount_kind kind, const char *src, const char *dst)
{
	wtb_mount *m;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	m = &p->v[p->n++];
	*m = (wtb_mount){.kind = kind, .src = src ? xstrdup(src) : NULL, .dst = xstrdup(dst)};
	return m;
}

static void plan_bind(wtb_mount_plan *p, const char *src, const char *dst, bool ro)
{
	plan_add(p, WTB_MNT_BIND, src, dst)->ro = ro;
}

static void plan_tmpfs(wtb_mount_plan *p, const char *dst, unsigned mode, unsigned long size)
{
	wtb_mount *m = plan_add(p, WTB_MNT_TMPFS, NULL, dst);

	m->mode = mode;
	m->size = size;
}

static bool is_hidden_top(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden_top); i++)
		if (strcmp(name, hidden_top[i]) == 0)
			return true;
	return false;
}

/* The host's system directories, read-only; /bin -> usr/bin stays a link. */
static void plan_system(wtb_mount_plan *p, const wtb_root_list *root)
{
	for (size_t i = 0; i < root->n; i++) {
		const wtb_root_entry *e = &root->v[i];
		_cleanup_free_ char *path = xasprintf("/%s", e->name);

		if (is_hidden_top(e->name))
			continue;
		if (e->link != NULL)
			plan_add(p, WTB_MNT_SYMLINK, e->link, path);
		else if (e->dir)
			plan_bind(p, path, path, true);
		if (strcmp(e->name, "var") == 0 && e->dir && e->link == NULL)
			plan_tmpfs(p, "/var/tmp", 01777, 64 * MiB);
	}
}

static void plan_dev(wtb_mount_plan *p)
{
	static const char *const links[][2] = {
	    {"pts/ptmx", "/dev/ptmx"},		{"/proc/self/fd", "/dev/fd"},
	    {"/proc/self/fd/0", "/dev/stdin"},	{"/proc/self/fd/1", "/dev/stdout"},
	    {"/proc/self/fd/2", "/dev/stderr"},
	};

	plan_tmpfs(p, "/dev", 0755, 64 * KiB);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		_cleanup_free_ char *path = xasprintf("/dev/%s", dev_nodes[i]);

		plan_add(p, WTB_MNT_DEV, path, path);
	}
	plan_add(p, WTB_MNT_DEVPTS, NULL, "/dev/pts");
	plan_tmpfs(p, "/dev/shm", 01777, 64 * MiB);
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		plan_add(p, WTB_MNT_SYMLINK, links[i][0], links[i][1]);
}

static void plan_proc_sys_run(wtb_mount_plan *p)
{
	plan_add(p, WTB_MNT_PROC, NULL, "/proc");
	plan_bind(p, "/sys", "/sys", true);
	plan_tmpfs(p, "/run", 0755, 16 * MiB);
}

/* Git inside: the agent's own git directory (see gitstate.h), and of the
 * shared repository only its object store, read-only, as an alternate.
 * Config, hooks, refs, other worktrees' admin data: not there. */
static void plan_git(wtb_mount_plan *p, const wtb_plan_input *in)
{
	plan_bind(p, in->git_objects, in->git_objects, true);
	plan_bind(p, in->git_private, in->git_private, false);
}

/* The worktree's ".git" inside is wtbox's file naming the private git
 * directory, read-only; the host's file (naming the shared repository's
 * admin directory) is not seen. */
static void plan_gitfile(wtb_mount_plan *p, const wtb_plan_input *in)
{
	_cleanup_free_ char *gitfile = path_join(in->worktree, ".git");

	plan_bind(p, in->gitfile, gitfile, true);
}

static size_t path_depth(const char *path)
{
	size_t d = 0;

	for (const char *c = path; *c != '\0'; c++)
		if (*c == '/' && c[1] != '/' && c[1] != '\0')
			d++;
	return d;
}

/* Stable sort by depth: parents before what is mounted inside them, and
 * the given order among equals (a later grant of the same path wins).
 * Insertion sort: a plan has a few dozen entries, and qsort is not stable. */
static void sort_by_depth(wtb_mount *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		wtb_mount m = v[i];
		size_t d = path_depth(m.dst), j = i;

		while (j > 0 && path_depth(v[j - 1].dst) > d) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = m;
	}
}

/* Kernel interfaces the sandbox brings its own of: a grant there would
 * put the host's in their place. */
static const char *const reserved[] = {"/proc", "/dev", "/sys"};

const char *mount_grant_conflict(const char *path)
{
	/* "/" would be stacked under the sandbox's own root and do nothing. */
	if (strcmp(path, "/") == 0)
		return "/";
	/* The agent's own /tmp (its TMPDIR, kept between its runs) would
	 * go: read-only, a TMPDIR nothing can write; read-write, the
	 * host's, shared with every process there, their sockets too. A
	 * directory below it can be granted: it is mounted inside the
	 * agent's. */
	if (strcmp(path, "/tmp") == 0)
		return "/tmp";
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		size_t len = strlen(reserved[i]);

		if (strncmp(path, reserved[i], len) == 0 && (path[len] == '\0' || path[len] == '/'))
			return reserved[i];
	}
	return NULL;
}

char *mount_grant_refusal(const char *path, const char *worktree, const char *resolv_at)
{
	const char *own = mount_grant_conflict(path);
	_cleanup_free_ char *gitfile = worktree ? path_join(worktree, ".git") : NULL;

	if (own != NULL)
		return xasprintf("the sandbox has its own '%s'", own);
	/* Read-write already; read-only, the agent could not do its work. */
	if (worktree != NULL && strcmp(path, worktree) == 0)
		return xstrdup("it is the agent's worktree, which the sandbox shows read-write");
	/* The host's .git file names the shared repository's admin data,
	 * which is not inside: git would not work there. */
	if (gitfile != NULL && strcmp(path, gitfile) == 0)
		return xstrdup("the sandbox puts its own .git there, naming the agent's git "
			       "directory");
	/* Bound after the grants: the host's would be hidden. */
	if (resolv_at != NULL && strcmp(path, resolv_at) == 0)
		return xstrdup("the sandbox puts its own resolv.conf there (--net=private)");
	return NULL;
}

/* Is `path` strictly below `dir`? */
static bool is_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, dir, len) == 0 && path[len] == '/' && path[len + 1] != '\0';
}

static bool writable(const wtb_mount *m)
{
	return (m->kind == WTB_MNT_BIND && !m->ro) || m->kind == WTB_MNT_TMPFS;
}

static bool is_mount_dst(const wtb_mount_plan *p, size_t n, const char *dst)
{
	for (size_t i = 0; i < n; i++)
		if ((p->v[i].kind == WTB_MNT_BIND || p->v[i].kind == WTB_MNT_TMPFS) &&
		    strcmp(p->v[i].dst, dst) == 0)
			return true;
	return false;
}

static bool has_seal(const wtb_mount_plan *p, size_t from, const char *dst)
{
	for (size_t k = from; k < p->n; k++)
		if (p->v[k].kind == WTB_MNT_SEAL && strcmp(p->v[k].dst, dst) == 0)
			return true;
	return false;
}

/* A bind nested in a writable mount (the repository's objects in the
 * agent's home, a worktree in its tmp) needs its parent directories made
 * there. The directory holding it is sealed read-only: otherwise a file
 * written "into another agent's worktree" would quietly land in the
 * agent's own home instead of failing. */
static void plan_seals(wtb_mount_plan *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const wtb_mount *m = &p->v[i];
		const wtb_mount *outer = NULL;
		_cleanup_free_ char *parent = NULL;

		if (m->kind != WTB_MNT_BIND && m->kind != WTB_MNT_SYMLINK)
			continue;
		for (size_t j = 0; j < i; j++)
			if ((p->v[j].kind == WTB_MNT_BIND || p->v[j].kind == WTB_MNT_TMPFS) &&
			    is_below(m->dst, p->v[j].dst))
				outer = &p->v[j]; /* the last one is the deepest */
		if (outer == NULL || !writable(outer))
			continue;
		parent = xstrdup(m->dst);
		*strrchr(parent, '/') = '\0';
		if (strcmp(parent, outer->dst) == 0 || is_mount_dst(p, n, parent) ||
		    has_seal(p, n, parent))
			continue;
		plan_add(p, WTB_MNT_SEAL, NULL, parent);
	}
}

/* The main checkout is not shown, but the directory of its .git/objects
 * is made inside: sealed too, so that writing into the main checkout
 * fails. */
static void plan_seal_checkout(wtb_mount_plan *p, size_t n, const char *checkout)
{
	bool inside = false;

	if (checkout == NULL || is_mount_dst(p, n, checkout) || has_seal(p, n, checkout))
		return;
	for (size_t j = 0; j < n; j++)
		if (p->v[j].kind == WTB_MNT_BIND && strcmp(p->v[j].dst, checkout) != 0 &&
		    is_below(p->v[j].dst, checkout))
			inside = true;
	for (size_t j = 0; j < n && inside; j++)
		if (writable(&p->v[j]) && is_below(checkout, p->v[j].dst)) {
			plan_add(p, WTB_MNT_SEAL, NULL, checkout);
			return;
		}
}

char *mount_link_resolve(const char *link, const char *target)
{
	_cleanup_free_ char *dir = xstrdup(link);
	_cleanup_free_ char *joined = NULL;
	char *slash = strrchr(dir, '/'), *save = NULL, *out, *end;

	if (slash != NULL)
		*slash = '\0';
	joined = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dir, target);
	out = xcalloc(strlen(joined) + 2, 1);
	end = out;
	for (char *c = strtok_r(joined, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (end > out && *--end != '/')
				;
			*end = '\0';
			continue;
		}
		end += sprintf(end, "/%s", c);
	}
	if (end == out)
		strcpy(out, "/");
	return out;
}

/* `path` with its parent directory canonical, when that exists. */
static char *canonical_parent(const char *path)
{
	_cleanup_free_ char *dir = xstrdup(path);
	_cleanup_free_ char *real = NULL;
	char *slash = strrchr(dir, '/');

	if (slash == NULL || slash == dir)
		return xstrdup(path);
	*slash = '\0';
	real = realpath(dir, NULL);
	return real ? path_join(real, slash + 1) : xstrdup(path);
}

char *mount_resolv_point(void)
{
	char *cur = xstrdup("/etc/resolv.conf");

	/* Bounded like the kernel's own limit on nested links. */
	for (int i = 0; i < 40; i++) {
		char buf[PATH_MAX];
		ssize_t n = readlink(cur, buf, sizeof(buf) - 1);
		_cleanup_free_ char *next = NULL;

		if (n < 0)
			break;
		buf[n] = '\0';
		next = mount_link_resolve(cur, buf);
		free(cur);
		cur = canonical_parent(next);
	}
	return cur;
}

char *mount_cache_dir(const char *home)
{
	return path_join(home, ".cache");
}

void mount_plan_build(wtb_mount_plan *p, const wtb_plan_input *in)
{
	_cleanup_free_ char *cache = mount_cache_dir(in->home);
	_cleanup_free_ char *gitconfig = path_join(in->home, ".gitconfig");
	size_t before_pivot;

	memset(p, 0, sizeof(*p));
	p->root_size = 1 * MiB;
	plan_system(p, in->root);
	plan_dev(p);
	plan_proc_sys_run(p);

	/* The agent's own places and the user's grants: each at its host
	 * path, so paths printed inside mean the same outside. */
	plan_bind(p, in->agent_tmp, "/tmp", false);
	plan_bind(p, in->agent_home, in->home, false);
	plan_bind(p, in->agent_cache, cache, false);
	if (in->gitconfig != NULL)
		plan_bind(p, in->gitconfig, gitconfig, true);
	if (in->xdg_gitconfig != NULL)
		plan_bind(p, in->xdg_gitconfig, in->xdg_gitconfig, true);
	plan_git(p, in);
	plan_bind(p, in->worktree, in->worktree, false);
	plan_gitfile(p, in);
	for (size_t i = 0; in->ro != NULL && i < in->ro->n; i++)
		plan_bind(p, in->ro->v[i], in->ro->v[i], true);
	for (size_t i = 0; in->rw != NULL && i < in->rw->n; i++)
		plan_bind(p, in->rw->v[i], in->rw->v[i], false);
	for (size_t i = 0; i < in->nlinks; i++)
		plan_add(p, WTB_MNT_SYMLINK, in->links[i].target, in->links[i].path);
	/* The host's /etc is shown, so is its resolv.conf: the stack's
	 * resolver goes over it (or over the file it links to). */
	if (in->resolv_conf != NULL)
		plan_bind(p, in->resolv_conf, in->resolv_at ? in->resolv_at : "/etc/resolv.conf",
			  true);
	/* Mounts nest (the worktree usually lies under HOME, /var/tmp under a
	 * granted /var): parents first, whoever added them. */
	before_pivot = p->n;
	sort_by_depth(p->v, before_pivot);
	plan_seals(p, before_pivot);
	plan_seal_checkout(p, before_pivot, in->checkout);

	/* Last, once /proc and /dev exist inside. /dev itself becomes
	 * read-only (not /dev/shm or /dev/pts below it). */
	plan_add(p, WTB_MNT_SEAL, NULL, "/dev");
	for (size_t i = 0; i < ARRAY_SIZE(proc_rdonly); i++)
		plan_add(p, WTB_MNT_RDONLY, NULL, proc_rdonly[i])->optional = true;
	for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++)
		plan_add(p, WTB_MNT_MASK, NULL, proc_masked[i])->optional = true;
}

void mount_plan_free(wtb_mount_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].src);
		free(p->v[i].dst);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void mount_plan_print(FILE *f, const wtb_mount_plan *p)
{
	fprintf(f, "  tmpfs     /  (read-only once built, %lu KiB)\n", p->root_size / KiB);
	for (size_t i = 0; i < p->n; i++) {
		const wtb_mount *m = &p->v[i];

		switch (m->kind) {
		case WTB_MNT_BIND:
			if (strcmp(m->src, m->dst) == 0)
				fprintf(f, "  bind-%s   %s\n", m->ro ? "ro" : "rw", m->dst);
			else
				fprintf(f, "  bind-%s   %s  <- %s\n", m->ro ? "ro" : "rw", m->dst,
					m->src);
			break;
		case WTB_MNT_DEV:
			fprintf(f, "  dev       %s\n", m->dst);
			break;
		case WTB_MNT_TMPFS:
			fprintf(f, "  tmpfs     %s  (mode %04o, %lu KiB)\n", m->dst, m->mode,
				m->size / KiB);
			break;
		case WTB_MNT_PROC:
			fprintf(f, "  proc      %s\n", m->dst);
			break;
		case WTB_MNT_DEVPTS:
			fprintf(f, "  devpts    %s  (new instance)\n", m->dst);
			break;
		case WTB_MNT_SYMLINK:
			fprintf(f, "  symlink   %s -> %s\n", m->dst, m->src);
			break;
		case WTB_MNT_RDONLY:
			fprintf(f, "  read-only %s\n", m->dst);
			break;
		case WTB_MNT_MASK:
			fprintf(f, "  mask      %s\n", m->dst);
			break;
		case WTB_MNT_SEAL:
			fprintf(f, "  seal      %s  (read-only, mounts below it unchanged)\n",
				m->dst);
			break;
		}
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const wtb_root_entry *)a)->name, ((const wtb_root_entry *)b)->name);
}

int root_list_read(wtb_root_list *out, wtb_error **err)
{
	DIR *d = opendir("/");
	struct dirent *de;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return wtb_error_errno(err, "cannot list '/'");
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *path = NULL;
		char target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("/%s", de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 32;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		out->v[out->n] =
		    (wtb_root_entry){.name = xstrdup(de->d_name), .dir = S_ISDIR(st.st_mode)};
		if (S_ISLNK(st.st_mode) && (n = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[n] = '\0';
			out->v[out->n].link = xstrdup(target);
		}
		out->n++;
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(*out->v), by_name);
	return 0;
}

void root_list_free(wtb_root_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].link);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------------ */
/* Child side. Everything below runs in the sandbox's init, in its own  */
/* user and mount namespaces, before the command exists.               */

/* Where the new, empty root is put for the pivot into it: any directory
 * works, because everything taken from the host is opened before. */
#define STAGING "/tmp"

/* The directory (or file) `dst` inside the tree at `root`, created if
 * missing, without following any symlink: a symlink the agent left in its
 * home in an earlier run must not redirect a mount, or a mkdir, to
 * somewhere else. Returns an O_PATH fd. */
static int open_target(int root, const char *dst, bool file, wtb_error **err)
{
	_cleanup_free_ char *copy = xstrdup(dst);
	_cleanup_close_ int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
	char *save = NULL, *comp, *next;

	if (cur < 0)
		return wtb_error_errno(err, "cannot open mount point '%s'", dst);
	comp = strtok_r(copy, "/", &save);
	while (comp != NULL) {
		bool last_file;
		int fd, flags;

		next = strtok_r(NULL, "/", &save);
		last_file = next == NULL && file;
		flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (last_file ? 0 : O_DIRECTORY);
		fd = openat(cur, comp, flags);
		if (fd < 0 && errno == ENOENT) {
			int made =
			    last_file
				? openat(cur, comp,
					 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
				: mkdirat(cur, comp, 0755);

			if (made < 0 && errno != EEXIST)
				return wtb_error_errno(err, "cannot create mount point '%s'", dst);
			if (last_file && made >= 0)
				close(made);
			fd = openat(cur, comp, flags);
		}
		if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
			return wtb_error_set(
			    err, errno,
			    "cannot use mount point '%s': a symlink or a file is in "
			    "the way",
			    dst);
		if (fd < 0)
			return wtb_error_errno(err, "cannot open mount point '%s'", dst);
		close(cur);
		cur = fd;
		comp = next;
	}
	return steal_fd(cur);
}

static int attach(int mnt_fd, int root, const wtb_mount *m, bool file, wtb_error **err)
{
	_cleanup_close_ int target = open_target(root, m->dst, file, err);

	if (target < 0)
		return -1;
	if (move_mount(mnt_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return wtb_error_errno(err, "cannot mount on '%s'", m->dst);
	return 0;
}

/* A detached copy of a host path with the sandbox's flags already set: it
 * is never visible writable or with suid in the sandbox, not even for a
 * moment. */
static int open_source(const wtb_mount *m, wtb_error **err)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID};
	_cleanup_close_ int fd = -1;

	if (m->kind == WTB_MNT_BIND)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (m->ro)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	fd = open_tree(AT_FDCWD, m->src,
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && m->optional)
		return -2;
	if (fd < 0)
		return wtb_error_errno(err, "cannot bind '%s'", m->src);
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return wtb_error_errno(err, "cannot set mount flags of '%s'", m->src);
	return steal_fd(fd);
}

static int new_fs(const char *type, const wtb_mount *m, unsigned attrs, wtb_error **err)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	char buf[64];
	int mnt;

	if (fs < 0)
		return wtb_error_errno(err, "cannot create %s for '%s'", type, m->dst);
	if (strcmp(type, "tmpfs") == 0) {
		snprintf(buf, sizeof(buf), "%o", m->mode);
		if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", buf, 0) < 0)
			return wtb_error_errno(err, "cannot set mode of '%s'", m->dst);
		snprintf(buf, sizeof(buf), "%lu", m->size);
		if (fsconfig(fs, FSCONFIG_SET_STRING, "size", buf, 0) < 0)
			return wtb_error_errno(err, "cannot set size of '%s'", m->dst);
	} else if (strcmp(type, "devpts") == 0) {
		/* Anyone in the sandbox may open a new pty; no gid= option:
		 * the tty group is not mapped in the user namespace. */
		if (fsconfig(fs, FSCONFIG_SET_STRING, "ptmxmode", "0666", 0) < 0 ||
		    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0620", 0) < 0)
			return wtb_error_errno(err, "cannot configure '%s'", m->dst);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return wtb_error_errno(err, "cannot create %s for '%s'", type, m->dst);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		return wtb_error_errno(err, "cannot mount %s on '%s'", type, m->dst);
	return mnt;
}

static int make_symlink(int root, const wtb_mount *m, wtb_error **err)
{
	_cleanup_free_ char *dir = xstrdup(m->dst);
	char *slash = strrchr(dir, '/');
	_cleanup_close_ int parent = -1;

	*slash = '\0';
	parent = dir[0] ? open_target(root, dir, false, err) : fcntl(root, F_DUPFD_CLOEXEC, 3);
	if (parent < 0)
		return wtb_error_wrap(err, "cannot create symlink '%s'", m->dst);
	if (symlinkat(m->src, parent, slash + 1) == 0)
		return 0;
	if (errno != EEXIST)
		return wtb_error_errno(err, "cannot create symlink '%s'", m->dst);
	/* Already there: from the host (a read-only system directory), or
	 * left in the agent's home by an earlier run, where the agent may
	 * have pointed it elsewhere. Only the right target is kept. */
	{
		char target[4096];
		ssize_t n = readlinkat(parent, slash + 1, target, sizeof(target) - 1);

		if (n >= 0) {
			target[n] = '\0';
			if (strcmp(target, m->src) == 0)
				return 0;
		}
		if (n < 0 || unlinkat(parent, slash + 1, 0) < 0 ||
		    symlinkat(m->src, parent, slash + 1) < 0)
			return wtb_error_set(err, n < 0 ? EEXIST : errno,
					     "cannot create symlink '%s': something else is there",
					     m->dst);
	}
	return 0;
}

static bool is_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* One step in the new root. `src_fd` is what open_from_host opened. */
static int build_one(int root, const wtb_mount *m, int src_fd, wtb_error **err)
{
	_cleanup_close_ int mnt = -1;

	switch (m->kind) {
	case WTB_MNT_BIND:
	case WTB_MNT_DEV:
		if (src_fd == -2) /* optional and absent */
			return 0;
		return attach(src_fd, root, m, is_file(src_fd), err);
	case WTB_MNT_PROC:
		return attach(src_fd, root, m, false, err);
	case WTB_MNT_TMPFS:
		mnt = new_fs("tmpfs", m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
		break;
	case WTB_MNT_DEVPTS:
		mnt = new_fs("devpts", m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
		break;
	case WTB_MNT_SYMLINK:
		return make_symlink(root, m, err);
	case WTB_MNT_RDONLY:
	case WTB_MNT_MASK:
	case WTB_MNT_SEAL:
		return 0; /* after the pivot */
	}
	if (mnt < 0)
		return -1;
	return attach(mnt, root, m, false, err);
}

/* One step once the tree is built, with plain paths: nothing the agent
 * wrote can be in the way yet. */
static int finish_one(const wtb_mount *m, wtb_error **err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	struct stat st;

	struct mount_attr seal = {.attr_set = MOUNT_ATTR_RDONLY};

	if (m->kind != WTB_MNT_RDONLY && m->kind != WTB_MNT_MASK && m->kind != WTB_MNT_SEAL)
		return 0;
	if (lstat(m->dst, &st) < 0)
		return m->optional ? 0 : wtb_error_errno(err, "cannot find '%s'", m->dst);
	if (m->kind == WTB_MNT_MASK && !S_ISDIR(st.st_mode)) {
		if (mount("/dev/null", m->dst, NULL, MS_BIND, NULL) < 0)
			return wtb_error_errno(err, "cannot mask '%s'", m->dst);
		return 0;
	}
	if (m->kind == WTB_MNT_MASK) {
		if (mount("tmpfs", m->dst, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0555") < 0)
			return wtb_error_errno(err, "cannot mask '%s'", m->dst);
		return 0;
	}
	/* A recursive bind keeps what is mounted below; a seal then makes
	 * only its top read-only (no AT_RECURSIVE). */
	if (mount(m->dst, m->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return wtb_error_errno(err, "cannot make '%s' read-only", m->dst);
	if (m->kind == WTB_MNT_SEAL
		? mount_setattr(AT_FDCWD, m->dst, 0, &seal, sizeof(seal))
		: mount_setattr(AT_FDCWD, m->dst, AT_RECURSIVE, &ro, sizeof(ro)))
		return wtb_error_errno(err, "cannot make '%s' read-only", m->dst);
	return 0;
}

static int pivot_into(int root, wtb_error **err)
{
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching it leaves the new root alone, with no path back. */
	if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return wtb_error_errno(err, "cannot change into the sandbox's root");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return wtb_error_errno(err, "cannot detach the host's root");
	return 0;
}

static int make_root(unsigned long size, int *root, wtb_error **err)
{
	wtb_mount m = {.kind = WTB_MNT_TMPFS, .dst = (char *)"/", .mode = 0755, .size = size};
	_cleanup_close_ int mnt = new_fs("tmpfs", &m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);

	if (mnt < 0)
		return -1;
	if (move_mount(mnt, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return wtb_error_errno(err, "cannot mount the sandbox's root on '%s'", STAGING);
	*root = open(STAGING, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*root < 0)
		return wtb_error_errno(err, "cannot open the sandbox's root");
	return 0;
}

/* What the host's view is needed for, opened while it is there: every
 * bind's source, and /proc's new instance (the kernel lets a user
 * namespace mount a proc only where one is fully visible). */
static int open_from_host(const wtb_mount *m, wtb_error **err)
{
	if (m->kind == WTB_MNT_BIND || m->kind == WTB_MNT_DEV)
		return open_source(m, err);
	if (m->kind == WTB_MNT_PROC)
		return new_fs("proc", m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
			      err);
	return -1;
}

void mount_work_close(wtb_mount_work *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->src[i] >= 0)
			close(w->src[i]);
	free(w->src);
	closep(&w->root);
	w->src = NULL;
	w->n = 0;
}

int mount_plan_enter(const wtb_mount_plan *p, wtb_mount_work *w, wtb_error **err)
{
	w->src = xcalloc(p->n, sizeof(int));
	w->n = p->n;
	for (size_t i = 0; i < p->n; i++)
		w->src[i] = -1;
	/* Nothing done here may reach the host's mount table. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return wtb_error_errno(err, "cannot make the mount namespace private");
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].kind != WTB_MNT_BIND && p->v[i].kind != WTB_MNT_DEV &&
		    p->v[i].kind != WTB_MNT_PROC)
			continue;
		w->src[i] = open_from_host(&p->v[i], err);
		if (w->src[i] == -1)
			return -1;
	}
	/* The host's tree goes before anything is built: its detach waits
	 * for an RCU grace period, which is short while the other CPUs are
	 * idle, and long once the command is loading its filter there. */
	if (make_root(p->root_size, &w->root, err) < 0 || pivot_into(w->root, err) < 0)
		return -1;
	return 0;
}

int mount_plan_populate(const wtb_mount_plan *p, wtb_mount_work *w, wtb_error **err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

	for (size_t i = 0; i < p->n; i++)
		if (build_one(w->root, &p->v[i], w->src[i], err) < 0)
			return -1;
	for (size_t i = 0; i < p->n; i++)
		if (finish_one(&p->v[i], err) < 0)
			return -1;
	/* The skeleton itself: no new files at "/". */
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return wtb_error_errno(err, "cannot make the sandbox's root read-only");
	return 0;
}
