/* The mount plan: what the sandbox sees of the host, and in which order it
 * is mounted, built from a synthetic "/" and synthetic paths. */
#include <stdlib.h>
#include <string.h>

#include "mount.h"
#include "util.h"

#include "tap.h"

#define HOME	    "/home/u"
#define WORKTREE    "/home/u/.local/share/wtbox/r-0123456789ab/a"
#define CHECKOUT    "/home/u/src/r"
#define GIT_OBJECTS CHECKOUT "/.git/objects"
#define STATE	    "/home/u/.local/state/wtbox/r-0123456789ab/a"
#define AGENT_TMP   STATE "/tmp"
#define AGENT_HOME  STATE "/home"
#define AGENT_CACHE STATE "/cache"
#define GITCONFIG   "/home/u/.gitconfig"
#define GIT_PRIVATE STATE "/git"
#define GITFILE	    STATE "/gitfile"

/* ------------------------------------------------------------ helpers */

static const char *kind_name(wtb_mount_kind k)
{
	switch (k) {
	case WTB_MNT_BIND:
		return "bind";
	case WTB_MNT_DEV:
		return "dev";
	case WTB_MNT_TMPFS:
		return "tmpfs";
	case WTB_MNT_PROC:
		return "proc";
	case WTB_MNT_DEVPTS:
		return "devpts";
	case WTB_MNT_SYMLINK:
		return "symlink";
	case WTB_MNT_RDONLY:
		return "rdonly";
	case WTB_MNT_MASK:
		return "mask";
	case WTB_MNT_SEAL:
		return "seal";
	}
	return "?";
}

static void plan_dump(const wtb_mount_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		diag("  %2zu %-7s %s%s%s%s", i, kind_name(p->v[i].kind), p->v[i].dst,
		     p->v[i].src ? " <- " : "", p->v[i].src ? p->v[i].src : "",
		     p->v[i].ro ? " (ro)" : "");
}

static void plan_freep(wtb_mount_plan *p)
{
	mount_plan_free(p);
}
#define _cleanup_plan_ __attribute__((cleanup(plan_freep)))

static void root_freep(wtb_root_list *l)
{
	root_list_free(l);
}
#define _cleanup_root_ __attribute__((cleanup(root_freep)))

/* The index of the first mount of `kind` at `dst` (any kind when kind < 0),
 * or -1. */
static long find(const wtb_mount_plan *p, int kind, const char *dst)
{
	for (size_t i = 0; i < p->n; i++)
		if ((kind < 0 || p->v[i].kind == (wtb_mount_kind)kind) &&
		    strcmp(p->v[i].dst, dst) == 0)
			return (long)i;
	return -1;
}

/* The index of the bind of `src` at `dst`, or -1. */
static long find_bind(const wtb_mount_plan *p, const char *src, const char *dst)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == WTB_MNT_BIND && p->v[i].src != NULL &&
		    strcmp(p->v[i].src, src) == 0 && strcmp(p->v[i].dst, dst) == 0)
			return (long)i;
	return -1;
}

static size_t count_dst(const wtb_mount_plan *p, const char *dst)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += strcmp(p->v[i].dst, dst) == 0;
	return n;
}

/* A bind of `src` at `dst`, read-only or not. */
static void has_bind(const wtb_mount_plan *p, const char *src, const char *dst, bool ro)
{
	long i = find_bind(p, src, dst);

	if (ok(i >= 0, "'%s' is bound at '%s'", src, dst))
		ok(p->v[i].ro == ro, "'%s' is %s", dst, ro ? "read-only" : "read-write");
}

static void has_symlink(const wtb_mount_plan *p, const char *dst, const char *target)
{
	long i = find(p, WTB_MNT_SYMLINK, dst);

	ok(i >= 0, "'%s' is a symlink", dst);
	is_str(i >= 0 ? p->v[i].src : NULL, target, "'%s' points to '%s'", dst, target);
}

static void has_tmpfs(const wtb_mount_plan *p, const char *dst, unsigned mode)
{
	long i = find(p, WTB_MNT_TMPFS, dst);

	if (!ok(i >= 0, "'%s' is a tmpfs", dst))
		return;
	is_int(p->v[i].mode, mode, "'%s' has mode %04o", dst, mode);
}

static void before(long a, long b, const char *what_a, const char *what_b)
{
	ok(a >= 0 && b >= 0 && a < b, "%s (%ld) comes before %s (%ld)", what_a, a, what_b, b);
}

/* `path` lies strictly under `dir`. */
static bool under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return strcmp(path, "/") != 0;
	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/* Steps done after the pivot, on top of everything mounted before. */
static bool after_pivot(wtb_mount_kind k)
{
	return k == WTB_MNT_RDONLY || k == WTB_MNT_MASK || k == WTB_MNT_SEAL;
}

/* Parents first: no mount comes before a mount it lies under. */
static void parents_first(const wtb_mount_plan *p, const char *what)
{
	bool good = true;

	for (size_t i = 0; i < p->n; i++)
		for (size_t j = i + 1; j < p->n; j++)
			if (!after_pivot(p->v[j].kind) && under(p->v[i].dst, p->v[j].dst)) {
				diag("%zu '%s' comes before %zu '%s'", i, p->v[i].dst, j,
				     p->v[j].dst);
				good = false;
			}
	if (!ok(good, "%s: every mount comes after the mounts it lies under", what))
		plan_dump(p);
}

/* What holds for every plan. */
static void plan_shape(const wtb_mount_plan *p, const char *what)
{
	bool sized = true, absolute = true, sourced = true;

	for (size_t i = 0; i < p->n; i++) {
		const wtb_mount *m = &p->v[i];

		if (m->kind == WTB_MNT_TMPFS && m->size == 0) {
			diag("tmpfs '%s' has no size", m->dst);
			sized = false;
		}
		if (m->dst == NULL || m->dst[0] != '/') {
			diag("mount %zu has a relative dst '%s'", i, m->dst ? m->dst : "(null)");
			absolute = false;
		}
		if ((m->kind == WTB_MNT_BIND || m->kind == WTB_MNT_DEV ||
		     m->kind == WTB_MNT_SYMLINK) &&
		    m->src == NULL) {
			diag("%s '%s' has no source", kind_name(m->kind), m->dst);
			sourced = false;
		}
	}
	ok(p->n > 0, "%s: the plan is not empty (%zu mounts)", what, p->n);
	ok(sized, "%s: every tmpfs has a size", what);
	ok(p->root_size > 0, "%s: the root tmpfs has a size", what);
	ok(absolute, "%s: every mount point is absolute", what);
	ok(sourced, "%s: every bind, device and symlink has a source", what);
	parents_first(p, what);
}

/* The host's "/" of a usual merged-/usr system, and a swap file. */
static void root_fill(wtb_root_list *l)
{
	static const struct {
		const char *name;
		bool dir;
		const char *link;
	} entries[] = {
	    {"bin", false, "usr/bin"},	   {"boot", true, NULL},       {"dev", true, NULL},
	    {"etc", true, NULL},	   {"home", true, NULL},       {"lib", false, "usr/lib"},
	    {"lib64", false, "usr/lib64"}, {"lost+found", true, NULL}, {"media", true, NULL},
	    {"mnt", true, NULL},	   {"opt", true, NULL},	       {"proc", true, NULL},
	    {"root", true, NULL},	   {"run", true, NULL},	       {"sbin", false, "usr/sbin"},
	    {"srv", true, NULL},	   {"swapfile", false, NULL},  {"sys", true, NULL},
	    {"tmp", true, NULL},	   {"usr", true, NULL},	       {"var", true, NULL},
	};

	l->n = ARRAY_SIZE(entries);
	l->v = xcalloc(l->n, sizeof(*l->v));
	for (size_t i = 0; i < l->n; i++)
		l->v[i] = (wtb_root_entry){
		    .name = xstrdup(entries[i].name),
		    .dir = entries[i].dir,
		    .link = entries[i].link ? xstrdup(entries[i].link) : NULL,
		};
}

static void strv_of(strv *out, const char *const *args)
{
	for (size_t i = 0; args[i] != NULL; i++)
		strv_push(out, xstrdup(args[i]));
}

static wtb_plan_input usual_input(const wtb_root_list *root)
{
	return (wtb_plan_input){
	    .root = root,
	    .home = HOME,
	    .worktree = WORKTREE,
	    .git_objects = GIT_OBJECTS,
	    .git_private = GIT_PRIVATE,
	    .gitfile = GITFILE,
	    .checkout = CHECKOUT,
	    .agent_tmp = AGENT_TMP,
	    .agent_home = AGENT_HOME,
	    .agent_cache = AGENT_CACHE,
	    .gitconfig = GITCONFIG,
	};
}

/* -------------------------------------------------------------- tests */

static void test_system(void)
{
	static const char *const ro_dirs[] = {"/boot", "/etc", "/opt", "/srv", "/usr", "/var"};
	static const char *const never_src[] = {"/home", "/root", "/tmp", "/mnt",	"/media",
						"/run",	 "/proc", "/dev", "/lost+found"};
	static const char *const never_dst[] = {"/home",  "/root",	 "/mnt",
						"/media", "/lost+found", "/swapfile"};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	wtb_plan_input in;

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);
	plan_shape(&p, "the usual plan");

	for (size_t i = 0; i < ARRAY_SIZE(ro_dirs); i++) {
		has_bind(&p, ro_dirs[i], ro_dirs[i], true);
		is_int((long long)count_dst(&p, ro_dirs[i]), 1, "'%s' is mounted once", ro_dirs[i]);
	}
	has_symlink(&p, "/bin", "usr/bin");
	has_symlink(&p, "/lib", "usr/lib");
	has_symlink(&p, "/lib64", "usr/lib64");
	has_symlink(&p, "/sbin", "usr/sbin");
	for (size_t i = 0; i < ARRAY_SIZE(never_src); i++) {
		bool found = false;

		for (size_t j = 0; j < p.n; j++)
			found = found || (p.v[j].kind == WTB_MNT_BIND &&
					  strcmp(p.v[j].src, never_src[i]) == 0);
		ok(!found, "the host's '%s' is not bound", never_src[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(never_dst); i++)
		is_int(find(&p, -1, never_dst[i]), -1, "nothing is mounted at '%s'", never_dst[i]);

	has_tmpfs(&p, "/var/tmp", 01777);
	before(find(&p, WTB_MNT_BIND, "/var"), find(&p, WTB_MNT_TMPFS, "/var/tmp"), "/var",
	       "/var/tmp");
}

static void test_dev_proc_sys_run(void)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	wtb_plan_input in;
	long dev, proc;

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);

	has_tmpfs(&p, "/dev", 0755);
	dev = find(&p, WTB_MNT_TMPFS, "/dev");
	is_int((long long)count_dst(&p, "/dev"), 2, "/dev is mounted once, and sealed once");
	ok(find(&p, WTB_MNT_SEAL, "/dev") > dev, "/dev is sealed read-only after it is built");
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		_cleanup_free_ char *path = xasprintf("/dev/%s", nodes[i]);
		long n = find(&p, WTB_MNT_DEV, path);

		ok(n >= 0, "'%s' is a device node", path);
		is_str(n >= 0 ? p.v[n].src : NULL, path, "'%s' is the host's '%s'", path, path);
		before(dev, n, "/dev", path);
	}
	ok(find(&p, WTB_MNT_DEV, "/dev/sda") < 0 && find(&p, WTB_MNT_DEV, "/dev/kmsg") < 0 &&
	       find(&p, WTB_MNT_DEV, "/dev/mem") < 0,
	   "no other host device (sda, kmsg, mem) is passed");
	ok(find(&p, WTB_MNT_DEVPTS, "/dev/pts") >= 0, "/dev/pts is a new devpts");
	has_symlink(&p, "/dev/ptmx", "pts/ptmx");
	before(find(&p, WTB_MNT_DEVPTS, "/dev/pts"), find(&p, WTB_MNT_SYMLINK, "/dev/ptmx"),
	       "/dev/pts", "/dev/ptmx");
	has_tmpfs(&p, "/dev/shm", 01777);

	proc = find(&p, WTB_MNT_PROC, "/proc");
	ok(proc >= 0, "/proc is a new procfs");
	is_int((long long)count_dst(&p, "/proc"), 1, "/proc is mounted once");
	has_bind(&p, "/sys", "/sys", true);
	has_tmpfs(&p, "/run", 0755);
	is_int((long long)count_dst(&p, "/run"), 1, "/run is mounted once");

	/* The kernel's knobs: after /proc exists, and skipped where missing. */
	{
		static const char *const rdonly[] = {"/proc/sys", "/proc/sysrq-trigger"};
		static const char *const masked[] = {"/proc/kcore", "/proc/keys",
						     "/proc/timer_list", "/proc/kallsyms"};
		bool after = true, optional = true;

		for (size_t i = 0; i < ARRAY_SIZE(rdonly); i++) {
			long r = find(&p, WTB_MNT_RDONLY, rdonly[i]);

			ok(r >= 0, "'%s' is made read-only", rdonly[i]);
		}
		for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
			long m = find(&p, WTB_MNT_MASK, masked[i]);

			ok(m >= 0, "'%s' is masked", masked[i]);
		}
		for (size_t i = 0; i < p.n; i++) {
			if (p.v[i].kind != WTB_MNT_RDONLY && p.v[i].kind != WTB_MNT_MASK)
				continue;
			after = after && (long)i > proc;
			optional = optional && p.v[i].optional;
		}
		ok(after, "every read-only and masked /proc entry comes after /proc");
		ok(optional, "every read-only and masked /proc entry is optional");
	}
}

static void test_agent(void)
{
	/* Given after the mounts they lie above: /home/u/src holds the git
	 * directory, /home/u/.local/share the worktree. */
	static const char *const ro_args[] = {"/home/u/.cargo",	      "/srv/data",
					      WORKTREE "/vendor",     "/home/u/src",
					      "/home/u/.local/share", NULL};
	static const char *const rw_args[] = {"/home/u/.npm", "/var/lib/db", NULL};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	_cleanup_strvec_ strv ro = {0};
	_cleanup_strvec_ strv rw = {0};
	wtb_plan_input in;
	long tmp, home, cache, wt, git, gc;

	root_fill(&root);
	strv_of(&ro, ro_args);
	strv_of(&rw, rw_args);
	in = usual_input(&root);
	in.ro = &ro;
	in.rw = &rw;
	mount_plan_build(&p, &in);
	plan_shape(&p, "with grants");

	has_bind(&p, AGENT_TMP, "/tmp", false);
	has_bind(&p, AGENT_HOME, HOME, false);
	has_bind(&p, AGENT_CACHE, HOME "/.cache", false);
	has_bind(&p, GITCONFIG, HOME "/.gitconfig", true);
	has_bind(&p, GIT_OBJECTS, GIT_OBJECTS, true);
	has_bind(&p, GIT_PRIVATE, GIT_PRIVATE, false);
	has_bind(&p, GITFILE, WORKTREE "/.git", true);
	is_int(find(&p, -1, CHECKOUT "/.git"), -1,
	       "nothing of the shared git directory but its objects is shown");
	has_bind(&p, WORKTREE, WORKTREE, false);
	has_bind(&p, "/home/u/.cargo", "/home/u/.cargo", true);
	has_bind(&p, "/srv/data", "/srv/data", true);
	has_bind(&p, WORKTREE "/vendor", WORKTREE "/vendor", true);
	has_bind(&p, "/home/u/.npm", "/home/u/.npm", false);
	has_bind(&p, "/var/lib/db", "/var/lib/db", false);
	is_int((long long)count_dst(&p, "/tmp"), 1, "/tmp is mounted once");
	is_int((long long)count_dst(&p, HOME), 1, "HOME is mounted once");
	is_int(find(&p, -1, "/home/u/.config/git/config"), -1,
	       "no XDG git config is bound when there is none");

	tmp = find_bind(&p, AGENT_TMP, "/tmp");
	home = find_bind(&p, AGENT_HOME, HOME);
	cache = find_bind(&p, AGENT_CACHE, HOME "/.cache");
	gc = find_bind(&p, GITCONFIG, HOME "/.gitconfig");
	git = find_bind(&p, GIT_OBJECTS, GIT_OBJECTS);
	wt = find_bind(&p, WORKTREE, WORKTREE);
	before(home, cache, "HOME", "the cache");
	before(home, gc, "HOME", "the git config");
	before(home, git, "HOME", "the git directory");
	before(home, wt, "HOME", "the worktree");
	before(home, find_bind(&p, "/home/u/.cargo", "/home/u/.cargo"), "HOME",
	       "the grant /home/u/.cargo");
	before(home, find_bind(&p, "/home/u/.npm", "/home/u/.npm"), "HOME",
	       "the grant /home/u/.npm");
	before(wt, find_bind(&p, WORKTREE "/vendor", WORKTREE "/vendor"), "the worktree",
	       "the read-only grant inside it");
	before(find_bind(&p, "/home/u/src", "/home/u/src"), git, "the grant /home/u/src",
	       "the git directory under it (given earlier)");
	before(find_bind(&p, "/home/u/.local/share", "/home/u/.local/share"), wt,
	       "the grant /home/u/.local/share", "the worktree under it (given earlier)");
	before(find(&p, WTB_MNT_BIND, "/srv"), find(&p, WTB_MNT_BIND, "/srv/data"), "/srv",
	       "the grant /srv/data");
	before(find(&p, WTB_MNT_BIND, "/var"), find(&p, WTB_MNT_BIND, "/var/lib/db"), "/var",
	       "the grant /var/lib/db");
	/* Equal depth keeps the order given: cache before .gitconfig. */
	before(cache, gc, "the cache", "the git config (same depth, given later)");
	before(tmp, home, "/tmp", "HOME (given later)");
}

/* A host with an XDG git config: bound read-only at its own path. */
static void test_xdg_gitconfig(void)
{
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	wtb_plan_input in;

	root_fill(&root);
	in = usual_input(&root);
	in.gitconfig = NULL;
	in.xdg_gitconfig = "/home/u/.config/git/config";
	mount_plan_build(&p, &in);
	plan_shape(&p, "with an XDG git config");
	has_bind(&p, "/home/u/.config/git/config", "/home/u/.config/git/config", true);
	is_int(find(&p, -1, HOME "/.gitconfig"), -1, "no ~/.gitconfig is bound when there is none");
	before(find_bind(&p, AGENT_HOME, HOME),
	       find_bind(&p, "/home/u/.config/git/config", "/home/u/.config/git/config"), "HOME",
	       "the XDG git config");
}

/* Grants of equal depth keep the order given, --ro before --rw; a grant at
 * the agent's /tmp comes after it and so wins. */
static void test_equal_depth(void)
{
	static const char *const ro_args[] = {
	    "/data/g00", "/data/g01", "/data/g02",  "/data/g03", "/data/g04", "/data/g05",
	    "/data/g06", "/data/g07", "/data/g08",  "/data/g09", "/data/g10", "/data/g11",
	    "/data/g12", "/data/g13", "/data/g14",  "/data/g15", "/data/g16", "/data/g17",
	    "/data/g18", "/data/g19", "/data/same", NULL};
	static const char *const rw_args[] = {"/tmp", "/data/g20", "/data/same", NULL};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	_cleanup_strvec_ strv ro = {0};
	_cleanup_strvec_ strv rw = {0};
	wtb_plan_input in;
	long prev = -1, agent_tmp, grant_tmp, same_ro = -1, same_rw = -1;
	bool in_order = true;

	root_fill(&root);
	strv_of(&ro, ro_args);
	strv_of(&rw, rw_args);
	in = usual_input(&root);
	in.ro = &ro;
	in.rw = &rw;
	mount_plan_build(&p, &in);
	plan_shape(&p, "with many grants of one depth");

	for (int i = 0; i <= 20; i++) {
		_cleanup_free_ char *path = xasprintf("/data/g%02d", i);
		long at = find_bind(&p, path, path);

		if (at <= prev) {
			diag("'%s' is at %ld, after %ld", path, at, prev);
			in_order = false;
		}
		prev = at;
	}
	ok(in_order, "21 grants of equal depth keep the order given");

	agent_tmp = find_bind(&p, AGENT_TMP, "/tmp");
	grant_tmp = find_bind(&p, "/tmp", "/tmp");
	before(agent_tmp, grant_tmp, "the agent's /tmp", "the --rw /tmp grant");
	ok(grant_tmp >= 0 && !p.v[grant_tmp].ro, "the /tmp grant is read-write");
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].kind == WTB_MNT_BIND && strcmp(p.v[i].dst, "/data/same") == 0) {
			if (p.v[i].ro)
				same_ro = same_ro < 0 ? (long)i : same_ro;
			else
				same_rw = (long)i;
		}
	before(same_ro, same_rw, "--ro /data/same", "--rw /data/same (given later)");
}

/* A worktree under /tmp (XDG_DATA_HOME there, HOME /root): the agent's /tmp
 * must be mounted before the worktree, or it would hide it. */
static void test_worktree_under_tmp(void)
{
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	wtb_plan_input in;
	long tmp, wt, git, home;

	root_fill(&root);
	in = (wtb_plan_input){
	    .root = &root,
	    .home = "/root",
	    .worktree = "/tmp/x/data/wtbox/r/a",
	    .git_objects = "/tmp/x/src/r/.git/objects",
	    .git_private = "/tmp/x/state/wtbox/r/a/git",
	    .gitfile = "/tmp/x/state/wtbox/r/a/gitfile",
	    .checkout = "/tmp/x/src/r",
	    .agent_tmp = "/tmp/x/state/wtbox/r/a/tmp",
	    .agent_home = "/tmp/x/state/wtbox/r/a/home",
	    .agent_cache = "/tmp/x/state/wtbox/r/a/cache",
	    .gitconfig = "/root/.gitconfig",
	};
	mount_plan_build(&p, &in);
	plan_shape(&p, "a worktree under /tmp");

	tmp = find_bind(&p, "/tmp/x/state/wtbox/r/a/tmp", "/tmp");
	wt = find_bind(&p, "/tmp/x/data/wtbox/r/a", "/tmp/x/data/wtbox/r/a");
	git = find_bind(&p, "/tmp/x/src/r/.git/objects", "/tmp/x/src/r/.git/objects");
	home = find_bind(&p, "/tmp/x/state/wtbox/r/a/home", "/root");
	ok(tmp >= 0 && !p.v[tmp].ro, "the agent's tmp is bound read-write at /tmp");
	ok(wt >= 0 && !p.v[wt].ro, "the worktree is bound read-write at its path");
	before(tmp, wt, "/tmp", "the worktree under it");
	before(tmp, git, "/tmp", "the git directory under it");
	ok(home >= 0 && !p.v[home].ro, "the agent's home is bound read-write at /root");
	has_bind(&p, "/tmp/x/state/wtbox/r/a/cache", "/root/.cache", false);
	has_bind(&p, "/root/.gitconfig", "/root/.gitconfig", true);
	before(home, find(&p, WTB_MNT_BIND, "/root/.cache"), "/root", "/root/.cache");
	is_int(find_bind(&p, "/root", "/root"), -1, "the host's /root is not bound");
	is_int(find_bind(&p, "/tmp", "/tmp"), -1, "the host's /tmp is not bound");
}

/* A grant that is a parent of one of the sandbox's own mounts (/var of
 * /var/tmp) must not hide it: the rule is parents first, whatever made
 * the mount. */
static void test_grant_above_system_mount(void)
{
	static const char *const rw_args[] = {"/var", NULL};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	_cleanup_strvec_ strv rw = {0};
	wtb_plan_input in;
	long grant = -1;

	root_fill(&root);
	strv_of(&rw, rw_args);
	in = usual_input(&root);
	in.rw = &rw;
	mount_plan_build(&p, &in);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].kind == WTB_MNT_BIND && strcmp(p.v[i].dst, "/var") == 0 && !p.v[i].ro)
			grant = (long)i;
	ok(grant >= 0, "the --rw /var grant is bound");
	before(grant, find(&p, WTB_MNT_TMPFS, "/var/tmp"), "the --rw /var grant",
	       "the sandbox's /var/tmp");
	parents_first(&p, "--rw /var");
}

static size_t count_kind(const wtb_mount_plan *p, wtb_mount_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].kind == kind;
	return n;
}

/* The directory holding a bind nested in a writable mount is sealed: a
 * write "into the main checkout" must fail, not land in the agent's home. */
static void test_seals(void)
{
	static const char *const rw_args[] = {"/home/u/src/r", NULL};
	static const char *const ro_args[] = {"/srv/data/x", NULL};
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0}, q = {0}, t = {0};
	_cleanup_strvec_ strv rw = {0};
	_cleanup_strvec_ strv ro = {0};
	wtb_link links[] = {
	    {.path = (char *)"/home/u/.config/nvim", .target = (char *)"/home/u/dotfiles/nvim"}};
	wtb_plan_input in;

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);
	ok(find(&p, WTB_MNT_SEAL, "/home/u/src/r") >= 0, "the main checkout's directory is sealed");
	ok(find(&p, WTB_MNT_SEAL, "/home/u/.local/share/wtbox/r-0123456789ab") >= 0,
	   "the directory of all worktrees is sealed");
	is_int(find(&p, WTB_MNT_SEAL, HOME), -1, "HOME itself is not sealed");
	ok(find(&p, WTB_MNT_SEAL, CHECKOUT "/.git") >= 0,
	   "the directory holding the shared objects is sealed");
	ok(find(&p, WTB_MNT_SEAL, STATE) >= 0,
	   "the directory holding the private git directory is sealed");
	is_int((long long)count_kind(&p, WTB_MNT_SEAL), 5,
	       "nothing else but /dev is sealed (the cache and .gitconfig sit right in HOME)");
	before(find_bind(&p, GIT_OBJECTS, GIT_OBJECTS), find(&p, WTB_MNT_SEAL, CHECKOUT "/.git"),
	       "the shared objects", "the seal of their parent");

	/* A granted main checkout stays as granted; a grant in a read-only
	 * system directory needs no seal. */
	strv_of(&rw, rw_args);
	strv_of(&ro, ro_args);
	in.rw = &rw;
	in.ro = &ro;
	in.links = links;
	in.nlinks = 1;
	mount_plan_build(&q, &in);
	is_int(find(&q, WTB_MNT_SEAL, "/home/u/src/r"), -1,
	       "a --rw grant of the checkout is not sealed");
	is_int(find(&q, WTB_MNT_SEAL, "/srv/data"), -1, "nothing sealed in a read-only bind");
	has_symlink(&q, "/home/u/.config/nvim", "/home/u/dotfiles/nvim");
	ok(find(&q, WTB_MNT_SEAL, "/home/u/.config") >= 0,
	   "the directory of a recreated link in HOME is sealed");
	before(find_bind(&q, AGENT_HOME, HOME), find(&q, WTB_MNT_SYMLINK, "/home/u/.config/nvim"),
	       "HOME", "the link inside it");
	parents_first(&q, "with links and grants");

	/* A worktree under the agent's /tmp (repositories in /tmp). */
	in = usual_input(&root);
	in.home = "/root";
	in.worktree = "/tmp/x/data/wtbox/r/a";
	in.git_objects = "/tmp/x/repo/.git/objects";
	in.checkout = "/tmp/x/repo";
	mount_plan_build(&t, &in);
	ok(find(&t, WTB_MNT_SEAL, "/tmp/x/repo") >= 0, "a checkout under /tmp is sealed");
	ok(find(&t, WTB_MNT_SEAL, "/tmp/x/data/wtbox/r") >= 0,
	   "the worktrees' directory under /tmp is sealed");
}

/* Grants may not cover the kernel interfaces the sandbox brings its own
 * of: the host's /proc would show the host's processes. */
static void test_grant_conflict(void)
{
	is_str(mount_grant_conflict("/proc"), "/proc", "/proc is the sandbox's");
	is_str(mount_grant_conflict("/proc/1/root"), "/proc", "so is anything below it");
	is_str(mount_grant_conflict("/dev"), "/dev", "/dev is the sandbox's");
	is_str(mount_grant_conflict("/dev/shm"), "/dev", "/dev/shm too");
	is_str(mount_grant_conflict("/sys/fs/cgroup"), "/sys", "/sys too");
	ok(mount_grant_conflict("/devices") == NULL, "/devices is not /dev");
	ok(mount_grant_conflict("/procfs") == NULL, "/procfs is not /proc");
	ok(mount_grant_conflict("/home/u/proc") == NULL, "a 'proc' elsewhere is fine");
	ok(mount_grant_conflict("/var") == NULL, "/var may be granted");
	is_str(mount_grant_conflict("/"), "/",
	       "/ may not be granted (it would sit under the root)");
	/* Regression (audit): --ro /tmp made the agent's TMPDIR read-only,
	 * --rw /tmp gave it the host's. */
	is_str(mount_grant_conflict("/tmp"), "/tmp", "/tmp is the agent's own");
	ok(mount_grant_conflict("/tmp/x") == NULL, "a directory below /tmp may be granted");
	ok(mount_grant_conflict("/tmpx") == NULL, "/tmpx is not /tmp");
	ok(mount_grant_conflict("/var/tmp") == NULL, "/var/tmp may be granted (a bigger one)");
}

/* Grants of what wtbox mounts for the agent: refused with a reason that
 * says why. */
static void test_grant_refusal(void)
{
	static const char wt[] = "/d/wtbox/r-1/a", rc[] = "/run/systemd/resolve/stub-resolv.conf";
	struct {
		const char *path, *worktree, *resolv_at, *want;
	} cases[] = {
	    {"/tmp", NULL, NULL, "the sandbox has its own '/tmp'"},
	    {"/proc/1", wt, rc, "the sandbox has its own '/proc'"},
	    {wt, wt, NULL, "it is the agent's worktree, which the sandbox shows read-write"},
	    {"/d/wtbox/r-1/a/.git", wt, NULL,
	     "the sandbox puts its own .git there, naming the agent's git directory"},
	    {rc, wt, rc, "the sandbox puts its own resolv.conf there (--net=private)"},
	    /* What the agent may be given. */
	    {rc, wt, NULL, NULL},
	    {wt, NULL, NULL, NULL},
	    {"/d/wtbox/r-1/a/src", wt, rc, NULL},
	    {"/d/wtbox/r-1/b", wt, rc, NULL},
	    {"/d/wtbox/r-1", wt, rc, NULL},
	    {"/d/wtbox/r-1/a/.gitignore", wt, rc, NULL},
	    {"/home/u", wt, rc, NULL},
	    {"/home/u/.cache", wt, rc, NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *why =
		    mount_grant_refusal(cases[i].path, cases[i].worktree, cases[i].resolv_at);

		is_str(why, cases[i].want, "grant of '%s' (worktree %s, resolv.conf %s)",
		       cases[i].path, cases[i].worktree ? cases[i].worktree : "none",
		       cases[i].resolv_at ? cases[i].resolv_at : "none");
	}
}

static void test_print(void)
{
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char *line = NULL;
	size_t len = 0, lines = 0;
	wtb_plan_input in;
	FILE *f;

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);
	f = open_memstream(&out, &len);
	if (!ok(f != NULL, "open_memstream"))
		return;
	mount_plan_print(f, &p);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += out[i] == '\n';
	/* One line for the root tmpfs, then one per planned mount. */
	is_int((long long)lines, (long long)p.n + 1, "one line per mount, and one for '/'");
	ok(len > 0 && out[len - 1] == '\n', "the output ends with a newline");
	has_str(out, "bind-ro   /usr\n", "/usr is printed as a read-only bind");
	has_str(out, "tmpfs     /dev  (mode 0755", "/dev is printed as a tmpfs");
	has_str(out, "symlink   /bin -> usr/bin\n", "/bin is printed as a symlink");
	has_str(out, "bind-rw   /tmp  <- " AGENT_TMP "\n", "/tmp is printed with its source");
	has_str(out, "bind-rw   " WORKTREE "\n", "the worktree is printed read-write");
	has_str(out, "proc      /proc\n", "/proc is printed");
	has_str(out, "devpts    /dev/pts", "/dev/pts is printed");
	has_str(out, "mask      /proc/kcore\n", "/proc/kcore is printed as masked");
	has_str(out, "read-only /proc/sys\n", "/proc/sys is printed as read-only");
	like(out, "^  tmpfs     /  \\(", "the first line is the root tmpfs");
	ok(strstr(out, "swapfile") == NULL, "the swap file is not printed");
}

static void test_cache_dir_and_free(void)
{
	_cleanup_free_ char *cache = mount_cache_dir("/home/u");
	_cleanup_free_ char *slash = mount_cache_dir("/home/u/");
	_cleanup_free_ char *root_home = mount_cache_dir("/root");
	_cleanup_root_ wtb_root_list root = {0};
	wtb_mount_plan p = {0};
	wtb_plan_input in;

	is_str(cache, "/home/u/.cache", "mount_cache_dir of /home/u");
	is_str(slash, "/home/u/.cache", "mount_cache_dir of /home/u/");
	is_str(root_home, "/root/.cache", "mount_cache_dir of /root");

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);
	ok(p.n > 0 && p.v != NULL, "a built plan holds mounts");
	mount_plan_free(&p);
	ok(p.v == NULL && p.n == 0 && p.cap == 0 && p.root_size == 0,
	   "mount_plan_free clears the plan");
	mount_plan_free(&p);
	ok(p.v == NULL && p.n == 0, "freeing a cleared plan again is harmless");

	/* An empty "/": the sandbox's own mounts are all there is. */
	{
		wtb_root_list none = {0};

		in.root = &none;
		mount_plan_build(&p, &in);
		plan_shape(&p, "an empty host root");
		ok(find(&p, WTB_MNT_TMPFS, "/dev") >= 0 && find(&p, WTB_MNT_PROC, "/proc") >= 0,
		   "an empty host root still gets /dev and /proc");
		is_int(find(&p, -1, "/usr"), -1, "an empty host root: no /usr");
		mount_plan_free(&p);
	}
}

/* --net=private: the stack's resolv.conf over the host's, read-only, after
 * what it lies in; none without it. */
static void test_resolv_conf(void)
{
	_cleanup_root_ wtb_root_list root = {0};
	_cleanup_plan_ wtb_mount_plan p = {0};
	wtb_plan_input in;
	long at;

	root_fill(&root);
	in = usual_input(&root);
	mount_plan_build(&p, &in);
	is_int(find(&p, -1, "/etc/resolv.conf"), -1, "no network stack: the host's resolv.conf");
	mount_plan_free(&p);

	in.resolv_conf = STATE "/resolv.conf";
	in.resolv_at = "/etc/resolv.conf";
	mount_plan_build(&p, &in);
	plan_shape(&p, "resolv.conf in /etc");
	has_bind(&p, STATE "/resolv.conf", "/etc/resolv.conf", true);
	at = find_bind(&p, STATE "/resolv.conf", "/etc/resolv.conf");
	before(find(&p, WTB_MNT_BIND, "/etc"), at, "/etc", "/etc/resolv.conf");
	is_int((long long)count_dst(&p, "/etc/resolv.conf"), 1, "bound once");
	mount_plan_free(&p);

	/* /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf: the
	 * link is in the read-only /etc; the file it names is bound, inside
	 * the sandbox's own /run. */
	in.resolv_at = "/run/systemd/resolve/stub-resolv.conf";
	mount_plan_build(&p, &in);
	plan_shape(&p, "resolv.conf through a link into /run");
	has_bind(&p, STATE "/resolv.conf", "/run/systemd/resolve/stub-resolv.conf", true);
	at = find_bind(&p, STATE "/resolv.conf", "/run/systemd/resolve/stub-resolv.conf");
	before(find(&p, WTB_MNT_TMPFS, "/run"), at, "the /run tmpfs", "the resolv.conf in it");
	is_int(find(&p, -1, "/etc/resolv.conf"), -1, "the link in /etc is left alone");
	mount_plan_free(&p);

	/* No place given: /etc/resolv.conf. */
	in.resolv_at = NULL;
	mount_plan_build(&p, &in);
	has_bind(&p, STATE "/resolv.conf", "/etc/resolv.conf", true);
}

static void test_link_resolve(void)
{
	static const char *const cases[][3] = {
	    {"/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf",
	     "/run/systemd/resolve/stub-resolv.conf"},
	    {"/etc/resolv.conf", "/run/resolvconf/resolv.conf", "/run/resolvconf/resolv.conf"},
	    {"/etc/resolv.conf", "resolv.conf.d/./head", "/etc/resolv.conf.d/head"},
	    {"/etc/resolv.conf", "../../../x", "/x"},
	    {"/etc/resolv.conf", "//run//a/../b", "/run/b"},
	    {"/etc/resolv.conf", "..", "/"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = mount_link_resolve(cases[i][0], cases[i][1]);

		is_str(got, cases[i][2], "'%s' -> '%s'", cases[i][0], cases[i][1]);
	}
}

int main(void)
{
	test_system();
	test_dev_proc_sys_run();
	test_agent();
	test_xdg_gitconfig();
	test_equal_depth();
	test_worktree_under_tmp();
	test_grant_above_system_mount();
	test_grant_conflict();
	test_grant_refusal();
	test_seals();
	test_print();
	test_cache_dir_and_free();
	test_resolv_conf();
	test_link_resolve();
	return done_testing();
}
