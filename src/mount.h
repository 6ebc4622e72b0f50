/* The sandbox's filesystem view: built as a plan (data, printable with
 * --dry-run, unit-tested), then executed by the sandbox's init. */
#ifndef WTBOX_MOUNT_H
#define WTBOX_MOUNT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "util.h"

typedef enum wtb_mount_kind {
	WTB_MNT_BIND,	 /* host `src` at `dst`, recursive, nosuid,nodev (+ro) */
	WTB_MNT_DEV,	 /* host device node `src` at `dst`: nosuid, not nodev */
	WTB_MNT_TMPFS,	 /* a new tmpfs at `dst` (mode, size) */
	WTB_MNT_PROC,	 /* a new procfs for the sandbox's pid namespace */
	WTB_MNT_DEVPTS,	 /* a new devpts instance: ptys of the sandbox only */
	WTB_MNT_SYMLINK, /* a symlink at `dst` pointing to `src` */
	WTB_MNT_RDONLY,	 /* after the pivot: make `dst` read-only */
	WTB_MNT_MASK,	 /* after the pivot: hide `dst` (file or directory) */
	WTB_MNT_SEAL,	 /* after the pivot: make the directory `dst` read-only, but not
			  * what is mounted below it */
} wtb_mount_kind;

typedef struct wtb_mount {
	wtb_mount_kind kind;
	char *src;
	char *dst;
	bool ro;
	bool optional;	    /* skipped when src (or dst, after pivot) is missing */
	unsigned mode;	    /* tmpfs root mode */
	unsigned long size; /* tmpfs size limit in bytes */
} wtb_mount;

typedef struct wtb_mount_plan {
	wtb_mount *v;
	size_t n, cap;
	unsigned long root_size; /* the tmpfs that becomes "/" */
} wtb_mount_plan;

/* One entry of the host's "/". */
typedef struct wtb_root_entry {
	char *name;
	bool dir;
	char *link; /* symlink target, or NULL */
} wtb_root_entry;

typedef struct wtb_root_list {
	wtb_root_entry *v;
	size_t n;
} wtb_root_list;

int root_list_read(wtb_root_list *out, wtb_error **err);
void root_list_free(wtb_root_list *l);

/* A path given through a symlink (a granted ~/.config/nvim that points
 * into ~/dotfiles, a HOME that is a link): inside, the target is mounted at
 * its real path and the link is made again at the given one. */
typedef struct wtb_link {
	char *path;   /* as given; its parent directory has no symlink in it */
	char *target; /* canonical */
} wtb_link;

/* What the plan is built from: canonical host paths. */
typedef struct wtb_plan_input {
	const wtb_root_list *root;
	const char *home; /* host $HOME: the agent's home appears here */
	const char *worktree;
	const char *git_objects; /* the shared object store: read-only */
	const char *git_private; /* the agent's own git directory */
	const char *gitfile;	 /* shown as <worktree>/.git: names git_private */
	const char *checkout;	 /* the main checkout (not shown), or NULL */
	const char *agent_tmp;	 /* state dirs of the agent */
	const char *agent_home;
	const char *agent_cache;
	const char *gitconfig;	   /* host ~/.gitconfig, NULL when absent */
	const char *xdg_gitconfig; /* host $XDG_CONFIG_HOME/git/config, or NULL */
	const strv *ro;		   /* --ro grants */
	const strv *rw;		   /* --rw grants */
	const wtb_link *links;	   /* symlinks to make again inside */
	size_t nlinks;
	/* --net=private: the resolv.conf naming the stack's resolver, bound
	 * read-only at resolv_at (see mount_resolv_point), or NULL. */
	const char *resolv_conf;
	const char *resolv_at;
} wtb_plan_input;

/* Pure: the ordered list of mounts. */
void mount_plan_build(wtb_mount_plan *p, const wtb_plan_input *in);
void mount_plan_print(FILE *f, const wtb_mount_plan *p);
void mount_plan_free(wtb_mount_plan *p);

/* The sandbox's own kernel interface (/proc, /dev, /sys), root or /tmp
 * that `path` would cover when granted, or NULL. Pure. */
const char *mount_grant_conflict(const char *path);

/* Why a grant of the host's `path` (canonical) cannot be shown as asked,
 * or NULL: it would cover what mount_grant_conflict names, or, given the
 * agent's worktree and where its resolv.conf goes (either may be NULL),
 * the worktree (already read-write), the worktree's .git (wtbox's) or
 * the resolv.conf (which would hide it). Caller frees. Pure. */
char *mount_grant_refusal(const char *path, const char *worktree, const char *resolv_at);

/* Where a symlink at `link` whose content is `target` points, as a clean
 * absolute path ("." and ".." resolved as text). Pure. */
char *mount_link_resolve(const char *link, const char *target);

/* Where the sandbox's resolv.conf must be bound so that /etc/resolv.conf
 * reads it: /etc/resolv.conf itself, or, when the host's is a symlink (into
 * /run, say, which is a tmpfs inside), the file at the end of the links,
 * parents canonical where they exist on the host. */
char *mount_resolv_point(void);

/* The mount point inside for a cache directory, given HOME. */
char *mount_cache_dir(const char *home);

/* Child side, in the new user and mount namespaces, before the command,
 * in two steps. mount_plan_enter: make the mount namespace private, open
 * from the host's view what the plan takes from it (each bind's source,
 * a new /proc), then make an empty tmpfs the root and detach the host's
 * tree. mount_plan_populate: build the plan in that root from what was
 * opened, then make read-only and mask what the plan says. */
typedef struct wtb_mount_work {
	int root; /* the new root, O_PATH */
	int *src; /* per plan entry: what enter opened, -1 none, -2 absent */
	size_t n;
} wtb_mount_work;

#define WTB_MOUNT_WORK_INIT                                                                        \
	{                                                                                          \
		.root = -1                                                                         \
	}

int mount_plan_enter(const wtb_mount_plan *p, wtb_mount_work *w, wtb_error **err);
int mount_plan_populate(const wtb_mount_plan *p, wtb_mount_work *w, wtb_error **err);
void mount_work_close(wtb_mount_work *w);

#endif
