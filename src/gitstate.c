/* The agent's private git directory: created and kept in step with the
 * host before each run, and imported from after it (see gitstate.h).
 *
 * Everything under <state>/git was writable by the agent. The host reads
 * it with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), only regular
 * files and directories, with size limits, and writes into it only
 * through directory fds opened the same way. libgit2 gets the object
 * directory by path only after a walk has checked that nothing in it is a
 * symlink or a special file; while the sandbox still runs (sync), it gets
 * hard links to the checked files instead, so nothing can be swapped
 * under it. */
#include "gitstate.h"

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

#include <git2/sys/odb_backend.h>

#include "child.h"
#include "fault.h"

#define REF_MAX		  (4u << 10)
#define PACKED_REFS_MAX	  (64u << 20)
#define INDEX_MAX	  (512u << 20)
#define WALK_DEPTH_MAX	  32
#define REF_LOCK_RETRY_MS 5000
/* Changed refs imported at a time; lines of a list in the report. */
#define IMPORT_REFS_MAX 1000u
#define IMPORT_LIST_MAX 100u
/* From this many new objects on, a walk's objects go into one pack (the
 * number git's fetch keeps as a pack, transfer.unpackLimit): a file per
 * object would cost the shared store a file each until the user's next
 * gc. libgit2 searches deltas for what it packs, at some 4 MiB/s of
 * incompressible data here: blobs above PACK_BLOB_MAX, and those past
 * PACK_BLOBS_BUDGET bytes in all, stay loose files. */
#define IMPORT_PACK_MIN	  100u
#define PACK_BLOB_MAX	  (256u << 10)
#define PACK_BLOBS_BUDGET (8u << 20)

/* ------------------------------------------------------------------ */
/* Files the agent could write.                                        */

static int open_dir_beneath(int root, const char *path, wtb_error **err)
{
	int fd = open_beneath(root, path, O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return wtb_error_errno(err, "cannot open '%s' in the agent's git directory", path);
	return fd;
}

/* 1: read into *out; 0: the file does not exist; -1: error (a symlink, a
 * special file, too large). */
static int read_beneath(int root, const char *path, size_t max, char **out, size_t *len,
			wtb_error **err)
{
	_cleanup_close_ int fd = open_beneath(root, path, O_RDONLY | O_NONBLOCK, 0);
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return wtb_error_errno(err, "cannot open '%s' in the agent's git directory", path);
	if (!S_ISREG(st.st_mode))
		return wtb_error_set(
		    err, 0, "'%s' in the agent's git directory is not a regular file", path);
	if (read_fd(fd, path, max, out, len, err) < 0)
		return -1;
	return 1;
}

/* mkdir `path` (one component below `parent`) and open it. */
static int make_dir_beneath(int root, const char *path, wtb_error **err)
{
	if (mkdirat(root, path, 0755) < 0 && errno != EEXIST)
		return wtb_error_errno(err, "cannot create '%s' in the agent's git directory",
				       path);
	return open_dir_beneath(root, path, err);
}

/* Write `name` in the directory `dir` (below the private root), unless it
 * holds `data` already. */
static int write_beneath(int root, const char *dir, const char *name, const char *data, size_t len,
			 wtb_error **err)
{
	_cleanup_close_ int fd = open_dir_beneath(root, dir, err);
	_cleanup_free_ char *old = NULL;
	_cleanup_error_ wtb_error *rerr = NULL;
	size_t old_len;

	if (fd < 0)
		return -1;
	if (read_beneath(fd, name, len + 1, &old, &old_len, &rerr) > 0 && old_len == len &&
	    memcmp(old, data, len) == 0)
		return 0;
	return write_atomic_at(fd, name, data, len, 0644, err);
}

static bool exists_beneath(int root, const char *path)
{
	struct stat st;

	return fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ------------------------------------------------------------------ */
/* Ref lists: sorted by name.                                          */

typedef struct ref_ent {
	char *name;
	git_oid id;
	size_t seq; /* order of arrival: of two with one name, the later wins */
} ref_ent;

typedef struct ref_list {
	ref_ent *v;
	size_t n, cap;
} ref_list;

static void refs_clear(ref_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void refs_push(ref_list *l, const char *name, const git_oid *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].name = xstrdup(name);
	git_oid_cpy(&l->v[l->n].id, id);
	l->v[l->n].seq = l->n;
	l->n++;
}

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const ref_ent *)a)->name, ((const ref_ent *)b)->name);
}

static int ref_seq_cmp(const void *a, const void *b)
{
	const ref_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sort by name; of two entries with one name the later pushed stays. */
static void refs_sort(ref_list *l)
{
	size_t out = 0;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), ref_seq_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (out > 0 && strcmp(l->v[out - 1].name, l->v[i].name) == 0) {
			free(l->v[out - 1].name);
			l->v[out - 1] = l->v[i];
			continue;
		}
		l->v[out++] = l->v[i];
	}
	l->n = out;
	for (size_t i = 0; i < l->n; i++)
		l->v[i].seq = i;
}

static const ref_ent *refs_find(const ref_list *l, const char *name)
{
	ref_ent key = {.name = (char *)name};

	return l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), ref_cmp) : NULL;
}

static void refs_set(ref_list *l, const char *name, const git_oid *id)
{
	ref_ent *e = (ref_ent *)refs_find(l, name);

	if (e != NULL) {
		git_oid_cpy(&e->id, id);
		return;
	}
	refs_push(l, name, id);
	refs_sort(l);
}

static bool ref_name_ok(const char *name)
{
	int valid = 0;

	return str_has_prefix(name, "refs/") && git_reference_name_is_valid(&valid, name) == 0 &&
	       valid;
}

/* "OID NAME" lines (packed-refs, the base file); anything else is
 * skipped. */
static void parse_ref_lines(char *text, ref_list *out)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		git_oid id;

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len < GIT_OID_HEXSZ + 2 || line[GIT_OID_HEXSZ] != ' ')
			continue;
		line[GIT_OID_HEXSZ] = '\0';
		if (git_oid_fromstr(&id, line) < 0 || !ref_name_ok(line + GIT_OID_HEXSZ + 1))
			continue;
		refs_push(out, line + GIT_OID_HEXSZ + 1, &id);
	}
}

static char *format_ref_lines(const ref_list *l, const char *header)
{
	size_t cap = strlen(header) + l->n * (GIT_OID_HEXSZ + 2) + 1, len;
	char *text;

	for (size_t i = 0; i < l->n; i++)
		cap += strlen(l->v[i].name);
	text = xmalloc(cap);
	len = (size_t)snprintf(text, cap, "%s", header);
	for (size_t i = 0; i < l->n; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &l->v[i].id);
		len += (size_t)snprintf(text + len, cap - len, "%s %s\n", hex, l->v[i].name);
	}
	return text;
}

/* A loose ref file: 40 hex digits and a newline. */
static bool parse_loose(const char *text, git_oid *out)
{
	size_t len = strlen(text);

	if (len < GIT_OID_HEXSZ ||
	    (len > GIT_OID_HEXSZ && strspn(text + GIT_OID_HEXSZ, "\r\n") != len - GIT_OID_HEXSZ))
		return false;
	return git_oid_fromstrn(out, text, GIT_OID_HEXSZ) == 0 &&
	       strspn(text, "0123456789abcdef") >= GIT_OID_HEXSZ;
}

typedef struct walk_refs {
	int root;
	ref_list *refs;
	strv *odd;		   /* what is not a plain ref, for the report */
	const ref_list *unlink_if; /* remove loose refs that still say what this says */
} walk_refs;

static int walk_loose(walk_refs *w, const char *rel, unsigned depth, wtb_error **err)
{
	_cleanup_close_ int fd = -1;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > WALK_DEPTH_MAX)
		return wtb_error_set(err, 0, "'%s' in the agent's git directory is nested too deep",
				     rel);
	fd = open_beneath(w->root, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : open_dir_beneath(w->root, rel, err);
	d = fdopendir(fd);
	if (d == NULL)
		return wtb_error_errno(err, "cannot read '%s'", rel);
	fd = -1;
	while (r == 0 && (e = readdir(d)) != NULL) {
		_cleanup_free_ char *path = NULL, *text = NULL;
		struct stat st;
		git_oid id;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", rel, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = walk_loose(w, path, depth + 1, err);
			/* Emptied directories go, but not refs/heads, refs/tags
			 * and their like, which every run would make again. */
			if (w->unlink_if != NULL && depth > 0)
				unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR); /* if empty */
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			strv_push(w->odd, xasprintf("%s: not a regular file", path));
			continue;
		}
		if (str_has_suffix(path, ".lock"))
			continue;
		if (read_beneath(w->root, path, REF_MAX, &text, NULL, err) < 0)
			return closedir(d), -1;
		if (text == NULL || !parse_loose(text, &id) || !ref_name_ok(path)) {
			strv_push(w->odd,
				  xasprintf("%s: %s", path,
					    text && str_has_prefix(text, "ref: ") ? "a symbolic ref"
										  : "not a ref"));
			continue;
		}
		refs_push(w->refs, path, &id);
		if (w->unlink_if != NULL) {
			const ref_ent *p = refs_find(w->unlink_if, path);

			if (p != NULL && git_oid_equal(&p->id, &id) &&
			    unlinkat(dirfd(d), e->d_name, 0) < 0)
				r = wtb_error_errno(err, "cannot remove '%s'", path);
		}
	}
	closedir(d);
	return r;
}

/* The refs of the private directory: packed-refs, then the loose ones,
 * which win. */
static int private_refs(int root, ref_list *out, strv *odd, wtb_error **err)
{
	_cleanup_free_ char *packed = NULL;
	walk_refs w = {.root = root, .refs = out, .odd = odd};
	_cleanup_error_ wtb_error *rerr = NULL;

	if (read_beneath(root, "packed-refs", PACKED_REFS_MAX, &packed, NULL, &rerr) < 0) {
		_cleanup_free_ char *msg = wtb_error_text(rerr);

		strv_push(odd, xasprintf("packed-refs (%s)", msg));
	}
	if (packed != NULL)
		parse_ref_lines(packed, out);
	if (walk_loose(&w, "refs", 0, err) < 0)
		return -1;
	refs_sort(out);
	return 0;
}

static int read_base(const wtb_gitstate *g, ref_list *out, wtb_error **err)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;

	if (lstat(g->base, &st) < 0 && errno == ENOENT)
		return 0;
	if (read_file(g->base, PACKED_REFS_MAX, &text, NULL, err) < 0)
		return -1;
	parse_ref_lines(text, out);
	refs_sort(out);
	return 0;
}

static int write_base(const wtb_gitstate *g, const ref_list *base, wtb_error **err)
{
	_cleanup_free_ char *text = format_ref_lines(base, "");

	return write_file_if_changed(g->base, text, strlen(text), 0600, err);
}

/* ------------------------------------------------------------------ */
/* The object directory: checked, or linked into a snapshot.           */

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* Every entry of objects/XX and objects/pack must be a regular file. With
 * `snap` (a directory fd), each checked file is also hard-linked there,
 * so what libgit2 reads is exactly what was checked. */
static int walk_object_dir(int root, const char *rel, const char *name, int snap, wtb_error **err)
{
	_cleanup_close_ int fd = open_dir_beneath(root, rel, err), out = -1;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return -1;
	if (snap >= 0) {
		if (mkdirat(snap, name, 0700) < 0 && errno != EEXIST)
			return wtb_error_errno(err, "cannot create the snapshot of '%s'", rel);
		out = openat(snap, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (out < 0)
			return wtb_error_errno(err, "cannot open the snapshot of '%s'", rel);
	}
	d = fdopendir(fd);
	if (d == NULL)
		return wtb_error_errno(err, "cannot read '%s'", rel);
	fd = -1;
	while (r == 0 && (e = readdir(d)) != NULL) {
		_cleanup_close_ int f = -1;
		struct stat st;
		char proc[64];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			r = wtb_error_set(
			    err, 0, "'%s/%s' in the agent's git directory is not a regular file",
			    rel, e->d_name);
			break;
		}
		if (out < 0)
			continue;
		f = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0 || fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
			r = wtb_error_errno(err, "cannot open '%s/%s'", rel, e->d_name);
			break;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
		if (linkat(AT_FDCWD, proc, out, e->d_name, AT_SYMLINK_FOLLOW) < 0 &&
		    errno != EEXIST)
			r = wtb_error_errno(err, "cannot link '%s/%s' into the snapshot", rel,
					    e->d_name);
	}
	closedir(d);
	return r;
}

static int walk_objects(int root, int snap, wtb_error **err)
{
	_cleanup_close_ int fd = open_beneath(root, "objects", O_RDONLY | O_DIRECTORY, 0);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : open_dir_beneath(root, "objects", err);
	d = fdopendir(fd);
	if (d == NULL)
		return wtb_error_errno(err, "cannot read 'objects'");
	fd = -1;
	while (r == 0 && (e = readdir(d)) != NULL) {
		_cleanup_free_ char *rel = NULL;

		if (!is_hex(e->d_name, 2) && strcmp(e->d_name, "pack") != 0)
			continue;
		rel = xasprintf("objects/%s", e->d_name);
		r = walk_object_dir(root, rel, e->d_name, snap, err);
	}
	closedir(d);
	return r;
}

/* ------------------------------------------------------------------ */
/* Copying objects into the shared store.                              */

/* A set of oids, open addressing (the zero oid marks a free slot: it is
 * never an object's name). */
typedef struct oidset {
	git_oid *v;
	size_t cap, n;
} oidset;

static bool oidset_add(oidset *s, const git_oid *id)
{
	size_t i;
	uint64_t h;

	if (s->n * 2 >= s->cap) {
		oidset old = *s;

		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xcalloc(s->cap, sizeof(*s->v));
		s->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (!git_oid_is_zero(&old.v[j]))
				oidset_add(s, &old.v[j]);
		free(old.v);
	}
	memcpy(&h, id->id, sizeof(h));
	for (i = h & (s->cap - 1); !git_oid_is_zero(&s->v[i]); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], id))
			return false;
	git_oid_cpy(&s->v[i], id);
	s->n++;
	return true;
}

static void oidset_free(oidset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

typedef struct importer {
	const wtb_gitstate *g;
	wtb_repo *r;
	const char *objects_dir; /* the agent's object directory (or snapshot) */
	git_odb *shared;	 /* the shared store, written to */
	git_repository *src;	 /* the agent's objects, then the shared ones */
	git_odb *src_odb;
	oidset seen;
	git_oid *out; /* the walk's new objects, children first */
	size_t nout, capout;
	wtb_error *pack_err; /* an error of the pack's progress callback */
	strv keeps;	     /* the keep files of the packs written (objects/pack) */
	strv *notes;	     /* the import's notes */
	size_t objects, commits;
	size_t accepted; /* refs that got a place on the host (IMPORT_REFS_MAX) */
	FILE *reply;	 /* the child's reply: each imported ref as it is done */
} importer;

typedef struct pending {
	git_oid id;
	git_object_t want; /* the type the object's referrer says it has */
	bool expanded;
} pending;

typedef struct walk_stack {
	pending *v;
	size_t n, cap;
} walk_stack;

static void walk_stack_free(walk_stack *s)
{
	free(s->v);
}

static bool in_shared(importer *im, const git_oid *id)
{
	return git_odb_exists_ext(im->shared, id, GIT_ODB_LOOKUP_NO_REFRESH) == 1;
}

static void stack_push(walk_stack *s, const git_oid *id, git_object_t want)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	git_oid_cpy(&s->v[s->n].id, id);
	s->v[s->n].want = want;
	s->v[s->n++].expanded = false;
}

/* An object that is already there must still be of the type its new
 * referrer says: a commit whose "tree" is a blob would break git on the
 * host. */
static int check_type(git_odb *db, const git_oid *id, git_object_t want, wtb_error **err)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_object_t type = GIT_OBJECT_INVALID;
	size_t size;
	int rc;

	if (want == GIT_OBJECT_ANY)
		return 0;
	git_oid_tostr(hex, sizeof(hex), id);
	rc = git_odb_read_header(&size, &type, db, id);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read object %s", hex);
	if (type != want)
		return wtb_error_set(err, 0, "object %s is a %s where a %s belongs", hex,
				     git_object_type2string(type), git_object_type2string(want));
	return 0;
}

static git_object_t entry_type(git_filemode_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_TREE:
		return GIT_OBJECT_TREE;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
	case GIT_FILEMODE_LINK:
		return GIT_OBJECT_BLOB;
	default:
		return GIT_OBJECT_INVALID;
	}
}

/* Parse `p` (libgit2 checks it is of the type wanted) and push what it
 * refers to, each with the type it must have. */
static int push_children(importer *im, const pending *p, walk_stack *s, wtb_error **err)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_object *obj = NULL;
	int rc = git_object_lookup(&obj, im->src, &p->id, p->want);

	git_oid_tostr(hex, sizeof(hex), &p->id);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read object %s", hex);
	switch (git_object_type(obj)) {
	case GIT_OBJECT_COMMIT: {
		const git_commit *c = (const git_commit *)obj;

		im->commits++;
		for (unsigned i = 0; i < git_commit_parentcount(c); i++)
			stack_push(s, git_commit_parent_id(c, i), GIT_OBJECT_COMMIT);
		stack_push(s, git_commit_tree_id(c), GIT_OBJECT_TREE);
		break;
	}
	case GIT_OBJECT_TREE: {
		const git_tree *t = (const git_tree *)obj;

		for (size_t i = 0, k = git_tree_entrycount(t); i < k && rc == 0; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(t, i);
			git_filemode_t mode = git_tree_entry_filemode(e);

			/* A submodule's commit lives in another repository. */
			if (mode == GIT_FILEMODE_COMMIT)
				continue;
			if (entry_type(mode) == GIT_OBJECT_INVALID)
				rc = wtb_error_set(err, 0, "tree %s has an entry of mode %o", hex,
						   (unsigned)mode);
			else
				stack_push(s, git_tree_entry_id(e), entry_type(mode));
		}
		break;
	}
	case GIT_OBJECT_TAG:
		stack_push(s, git_tag_target_id((const git_tag *)obj),
			   git_tag_target_type((const git_tag *)obj));
		break;
	default:
		break;
	}
	git_object_free(obj);
	return rc;
}

static int copy_one(importer *im, const git_oid *id, wtb_error **err)
{
	git_odb_object *obj = NULL;
	git_oid got;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = git_odb_read(&obj, im->src_odb, id);

	git_oid_tostr(hex, sizeof(hex), id);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read object %s", hex);
	if (WTB_FAULT("import-copy", err) < 0) {
		git_odb_object_free(obj);
		return -1;
	}
	rc = git_odb_write(&got, im->shared, git_odb_object_data(obj), git_odb_object_size(obj),
			   git_odb_object_type(obj));
	git_odb_object_free(obj);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot write object %s", hex);
	if (!git_oid_equal(&got, id))
		return wtb_error_set(err, 0, "object %s does not hash to its name", hex);
	im->objects++;
	return 0;
}

static int copy_walk(importer *im, walk_stack *sp, const git_oid *tip, git_object_t want,
		     wtb_error **err)
{
	walk_stack s = *sp;
	int r = 0;

	stack_push(&s, tip, want);
	while (r == 0 && s.n > 0) {
		pending top = s.v[s.n - 1];

		if (top.expanded) {
			s.n--;
			if (im->nout == im->capout) {
				im->capout = im->capout ? im->capout * 2 : 256;
				im->out = xrealloc(im->out, im->capout * sizeof(*im->out));
			}
			git_oid_cpy(&im->out[im->nout++], &top.id);
		} else if (in_shared(im, &top.id)) {
			s.n--;
			r = check_type(im->shared, &top.id, top.want, err);
		} else if (!oidset_add(&im->seen, &top.id)) {
			s.n--;
			r = check_type(im->src_odb, &top.id, top.want, err);
		} else {
			s.v[s.n - 1].expanded = true;
			r = push_children(im, &top, &s, err);
		}
	}
	*sp = s;
	return r;
}

/* Where the import child of the wtbox process `parent` writes a pack:
 * a directory of its own beside the shared store's (git looks only at
 * objects/XX and objects/pack), on the same file system, so the pack can
 * be renamed in, and so that what a killed child left is the parent's to
 * delete without touching anyone else's temp files. */
static char *pack_stage(const wtb_gitstate *g, pid_t parent)
{
	return xasprintf("%s/wtbox-incoming-%d", g->objects, (int)parent);
}

static int pack_progress(const git_indexer_progress *stats, void *payload)
{
	importer *im = payload;

	(void)stats;
	/* Called as the pack is written: :crash leaves half a pack. */
	return WTB_FAULT("import-pack", &im->pack_err) < 0 ? -1 : 0;
}

/* The keep file an import puts beside its pack until the refs that name
 * the pack's objects are updated: `git repack -a -d` in that window
 * would otherwise take the pack for unreachable objects and delete it.
 * It names the wtbox process whose child wrote it, where that pid means
 * something (the host and the pid namespace), and the boot, so that the
 * keep of a killed import can be told from the user's and from a live
 * import's: "wtbox import PID on HOST, pid namespace INO, boot ID". */
static char *keep_where(void)
{
	char host[256] = "";
	struct stat st = {0};

	gethostname(host, sizeof(host) - 1);
	stat("/proc/self/ns/pid", &st);
	return xasprintf(" on %s, pid namespace %llu, boot ", host, (unsigned long long)st.st_ino);
}

static char *keep_text(pid_t pid)
{
	_cleanup_free_ char *where = keep_where(), *boot = boot_id();

	return xasprintf("wtbox import %d%s%s\n", (int)pid, where, boot);
}

bool gitstate_keep_owner(const char *packdir, const char *name, pid_t *pid, bool *this_boot)
{
	static const char prefix[] = "wtbox import ";
	_cleanup_free_ char *path = NULL, *text = NULL, *where = NULL, *boot = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	const char *p;
	size_t digits, len;
	unsigned long n;

	if (!str_has_prefix(name, "pack-") || !str_has_suffix(name, ".keep"))
		return false;
	path = path_join(packdir, name);
	/* read_file takes regular files only, without blocking on a FIFO. */
	if (read_file(path, 512, &text, &len, &err) < 0 || !str_has_prefix(text, prefix))
		return false;
	p = text + strlen(prefix);
	digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 10)
		return false;
	{
		_cleanup_free_ char *num = strndup(p, digits);

		if (num == NULL)
			die_oom();
		if (parse_digits(num, INT_MAX, &n) < 0 || n == 0)
			return false;
	}
	where = keep_where();
	if (!str_has_prefix(p + digits, where))
		return false;
	p += digits + strlen(where);
	boot = boot_id();
	/* Another boot's pid names no process of this one. */
	*this_boot =
	    boot[0] != '\0' && str_has_prefix(p, boot) && strcmp(p + strlen(boot), "\n") == 0;
	*pid = (pid_t)n;
	return true;
}

/* pack-X.keep -> pack-X.EXT in `packdir`. */
static char *keep_sibling(const char *packdir, const char *keep, const char *ext)
{
	size_t stem = strlen(keep) - strlen(".keep");

	return xasprintf("%s/%.*s%s", packdir, (int)stem, keep, ext);
}

bool gitstate_keep_half(const char *packdir, const char *name)
{
	_cleanup_free_ char *idx = keep_sibling(packdir, name, ".idx");

	return access(idx, F_OK) < 0 && errno == ENOENT;
}

int gitstate_keep_finish(const char *packdir, const char *name, wtb_error **err)
{
	_cleanup_free_ char *pack = keep_sibling(packdir, name, ".pack");
	_cleanup_free_ char *keep = path_join(packdir, name);

	/* A pack without its index is never read by git. */
	if (gitstate_keep_half(packdir, name) && unlink(pack) < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot delete '%s'", pack);
	if (unlink(keep) < 0 && errno != ENOENT)
		return wtb_error_errno(err, "cannot delete '%s'", keep);
	return 0;
}

/* The keeps of the imports of wtbox process `pid` in the shared store,
 * finished: what its import child left when it was killed. */
static void keeps_finish(const wtb_gitstate *g, pid_t pid)
{
	_cleanup_free_ char *dir = path_join(g->objects, "pack");
	_cleanup_strvec_ strv names = {0};
	_cleanup_dir_ DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid_t owner;
		bool now;

		if (gitstate_keep_owner(dir, de->d_name, &owner, &now) && now && owner == pid)
			strv_push(&names, xstrdup(de->d_name));
	}
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_error_ wtb_error *err = NULL;

		gitstate_keep_finish(dir, names.v[i], &err);
	}
}

/* The keep `from` as pack-<hash>.keep in `dir`: 1 when it is there, 0
 * when the pack has a keep of someone else's (the user's, a live
 * import's), which is left as it is. The keep of an import that is over
 * (a killed one of the same objects) is replaced. */
static int keep_move_in(const char *from, const char *dir, const char *hash, wtb_error **err)
{
	_cleanup_free_ char *to = xasprintf("%s/pack-%s.keep", dir, hash);
	_cleanup_free_ char *name = xasprintf("pack-%s.keep", hash);
	pid_t pid;
	bool now;

	/* link() fails if the name exists, where rename() would replace. */
	if (link(from, to) == 0)
		return 1;
	if (errno != EEXIST)
		return wtb_error_errno(err, "cannot move '%s' to '%s'", from, to);
	if (!gitstate_keep_owner(dir, name, &pid, &now) ||
	    (now && pid != getppid() && pid_exists(pid)))
		return 0;
	if (rename(from, to) < 0)
		return wtb_error_errno(err, "cannot move '%s' to '%s'", from, to);
	return 1;
}

/* From the stage into objects/pack: the keep (unless the pack has one
 * already), pack-<hash>.pack, then .idx (git reads a pack only once its
 * index is there). The keep taken is added to im->keeps. */
static int pack_move_in(importer *im, const char *stage, const char *dir, const char *hash,
			wtb_error **err)
{
	static const char *const exts[] = {".keep", ".pack", ".idx"};

	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		_cleanup_free_ char *from = xasprintf("%s/pack-%s%s", stage, hash, exts[i]);
		_cleanup_free_ char *to = xasprintf("%s/pack-%s%s", dir, hash, exts[i]);

		if (i == 0) {
			int r = keep_move_in(from, dir, hash, err);

			if (r < 0)
				return -1;
			if (r == 1)
				strv_push(&im->keeps, xasprintf("pack-%s.keep", hash));
			continue;
		}
		if (i == 2 && WTB_FAULT("import-pack-index", err) < 0)
			return -1;
		if (rename(from, to) < 0)
			return wtb_error_errno(err, "cannot move '%s' to '%s'", from, to);
	}
	return 0;
}

/* The walk's objects as one pack in the shared store. libgit2 reads each
 * one (checking that it hashes to its name) and writes the pack and its
 * index into the stage; they are renamed in, the index last. */
static int copy_as_pack(importer *im, wtb_error **err)
{
	_cleanup_free_ char *dir = path_join(im->g->objects, "pack");
	_cleanup_free_ char *stage = pack_stage(im->g, getppid());
	_cleanup_free_ char *keep = NULL, *text = NULL;
	git_packbuilder *pb = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	/* Left by a child of the same wtbox that was killed. */
	if (remove_tree(stage, err) < 0)
		return -1;
	if (mkdir(stage, 0700) < 0)
		return wtb_error_errno(err, "cannot create '%s'", stage);
	rc = git_packbuilder_new(&pb, im->src);
	for (size_t i = 0; rc == 0 && i < im->nout; i++)
		rc = git_packbuilder_insert(pb, &im->out[i], NULL);
	if (rc == 0)
		rc = git_packbuilder_write(pb, stage, 0, pack_progress, im);
	if (rc == 0)
		snprintf(hex, sizeof(hex), "%s", git_packbuilder_name(pb));
	git_packbuilder_free(pb);
	if (rc < 0 && im->pack_err != NULL) {
		*err = steal_ptr(im->pack_err);
		return wtb_error_wrap(err, "cannot write a pack of %zu objects", im->nout);
	}
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot write a pack of %zu objects into '%s'",
				     im->nout, stage);
	keep = xasprintf("%s/pack-%s.keep", stage, hex);
	text = keep_text(getppid());
	if (write_file_replace(keep, text, strlen(text), 0644, err) < 0 ||
	    pack_move_in(im, stage, dir, hex, err) < 0 || remove_tree(stage, err) < 0)
		return wtb_error_wrap(
		    err, "cannot move a pack of %zu objects into the shared store", im->nout);
	rc = git_odb_refresh(im->shared);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot read the shared object store again");
	/* No ref may name what the store lacks. */
	for (size_t i = 0; i < im->nout; i++)
		if (!in_shared(im, &im->out[i])) {
			git_oid_tostr(hex, sizeof(hex), &im->out[i]);
			return wtb_error_set(err, 0, "object %s is missing from the pack written",
					     hex);
		}
	/* The pack is in, no ref names its objects yet. */
	if (WTB_FAULT("import-pack-in", err) < 0)
		return -1;
	im->objects += im->nout;
	return 0;
}

/* The walk's objects into the shared store. Loose ones are written
 * first, in the walk's order: only blobs can be left out of the pack, and
 * a blob refers to nothing, so no object is ever there before what it
 * refers to. */
static int copy_out(importer *im, wtb_error **err)
{
	size_t npack = 0, nloose = 0, budget = PACK_BLOBS_BUDGET;
	_cleanup_free_ git_oid *loose = xcalloc(im->nout + 1, sizeof(*loose));
	_cleanup_free_ git_oid *pack = xcalloc(im->nout + 1, sizeof(*pack));
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	for (size_t i = 0; i < im->nout; i++) {
		git_object_t type;
		size_t size;

		rc = git_odb_read_header(&size, &type, im->src_odb, &im->out[i]);
		if (rc < 0) {
			git_oid_tostr(hex, sizeof(hex), &im->out[i]);
			return wtb_error_git(err, rc, "cannot read object %s", hex);
		}
		if (type == GIT_OBJECT_BLOB && (size > PACK_BLOB_MAX || size > budget)) {
			git_oid_cpy(&loose[nloose++], &im->out[i]);
			continue;
		}
		if (type == GIT_OBJECT_BLOB)
			budget -= size;
		git_oid_cpy(&pack[npack++], &im->out[i]);
	}
	if (npack < IMPORT_PACK_MIN) {
		/* All loose, in the walk's order: children first. */
		for (size_t i = 0; i < im->nout; i++)
			if ((rc = copy_one(im, &im->out[i], err)) < 0)
				return rc;
		return 0;
	}
	for (size_t i = 0; i < nloose; i++)
		if ((rc = copy_one(im, &loose[i], err)) < 0)
			return rc;
	memcpy(im->out, pack, npack * sizeof(*pack));
	im->nout = npack;
	{
		_cleanup_error_ wtb_error *perr = NULL;
		_cleanup_free_ char *why = NULL;

		if (copy_as_pack(im, &perr) == 0)
			return 0;
		/* A pack that cannot be made or moved in (objects/pack on
		 * another file system, say) must not keep the work out: the
		 * objects go in loose, as a smaller import's do. */
		why = wtb_error_text(perr);
		strv_push(im->notes, xasprintf("%s; wrote them as loose objects", why));
	}
	for (size_t i = 0; i < npack; i++)
		if ((rc = copy_one(im, &pack[i], err)) < 0)
			return rc;
	return 0;
}

/* Make the shared store hold `tip` and everything it reaches. An object
 * already there is taken to have its closure there too (git keeps stores
 * connected), so the walk is as large as the new work. Children are
 * written before parents (or all at once, as a pack): a crash half-way
 * leaves no object whose children are missing. */
static int copy_closure(importer *im, const git_oid *tip, git_object_t want, wtb_error **err)
{
	__attribute__((cleanup(walk_stack_free))) walk_stack s = {0};
	int r = copy_walk(im, &s, tip, want, err);

	if (r == 0)
		r = copy_out(im, err);
	im->nout = 0;
	if (r == 0)
		return 0;
	/* What the failed walk saw is not in the store: a later walk (the
	 * index's entries) must not take it for copied. */
	oidset_free(&im->seen);
	return -1;
}

static int backends_for(git_odb *odb, const char *objects, int priority, wtb_error **err)
{
	git_odb_backend *loose = NULL, *pack = NULL;
	int rc = git_odb_backend_loose(&loose, objects, -1, 0, 0, 0);

	if (rc == 0 && (rc = git_odb_add_backend(odb, loose, priority)) < 0)
		loose->free(loose);
	if (rc == 0 && (rc = git_odb_backend_pack(&pack, objects)) == 0 &&
	    (rc = git_odb_add_backend(odb, pack, priority)) < 0)
		pack->free(pack);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot open the objects in '%s'", objects);
	return 0;
}

/* The agent's objects (from `objects`, the private store or its
 * snapshot), backed by the shared store: no alternates file of the
 * agent's is read. */
static int importer_open(importer *im, wtb_error **err)
{
	int rc;

	if (im->src != NULL)
		return 0;
	rc = git_repository_odb(&im->shared, im->r->git);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot open the shared object store");
	rc = git_odb_new(&im->src_odb);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot create an object database");
	if (backends_for(im->src_odb, im->objects_dir, 2, err) < 0)
		return -1;
	rc = git_odb_add_disk_alternate(im->src_odb, im->g->objects);
	if (rc == 0)
		rc = git_repository_wrap_odb(&im->src, im->src_odb);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot open the agent's objects");
	return 0;
}

static void importer_close(importer *im)
{
	_cleanup_free_ char *dir = path_join(im->g->objects, "pack");

	/* The refs are updated (or never will be by this import). */
	for (size_t i = 0; i < im->keeps.n; i++) {
		_cleanup_error_ wtb_error *err = NULL;

		gitstate_keep_finish(dir, im->keeps.v[i], &err);
	}
	strv_clear(&im->keeps);
	git_repository_free(im->src);
	git_odb_free(im->src_odb);
	git_odb_free(im->shared);
	im->src = NULL;
	oidset_free(&im->seen);
	free(im->out);
	im->out = NULL;
	im->nout = im->capout = 0;
	wtb_error_free(&im->pack_err);
}

/* ------------------------------------------------------------------ */
/* Import.                                                             */

void import_free(wtb_import *imp)
{
	for (size_t i = 0; i < imp->nrefs; i++) {
		free(imp->refs[i].ref);
		free(imp->refs[i].from);
	}
	free(imp->refs);
	strv_clear(&imp->refused);
	strv_clear(&imp->notes);
	free(imp->head);
	memset(imp, 0, sizeof(*imp));
}

bool import_any(const wtb_import *imp)
{
	return imp->nrefs > 0 || imp->refused.n > 0 || imp->index || imp->head != NULL;
}

static const char *short_ref(const char *ref)
{
	return str_has_prefix(ref, "refs/heads/") ? ref + strlen("refs/heads/") : ref;
}

/* Ref names come from the agent's git directory: escaped (term_escape). */
void import_print(FILE *f, const char *name, const wtb_import *imp)
{
	for (size_t i = 0; i < imp->nrefs; i++) {
		const wtb_import_ref *e = &imp->refs[i];
		_cleanup_free_ char *ref = term_escape(short_ref(e->ref));

		fprintf(f, "wtbox: agent '%s': imported %s -> %.12s (%zu new commit%s%s)\n", name,
			ref, e->new, e->commits, e->commits == 1 ? "" : "s",
			e->forced ? ", history rewritten" : "");
	}
	for (size_t i = 0; i < imp->refused.n; i++) {
		_cleanup_free_ char *why = term_escape(imp->refused.v[i]);

		fprintf(f, "wtbox: agent '%s': not imported: %s\n", name, why);
	}
	for (size_t i = 0; i < imp->notes.n; i++) {
		_cleanup_free_ char *note = term_escape(imp->notes.v[i]);

		fprintf(f, "wtbox: agent '%s': %s\n", name, note);
	}
}

/* Where a changed agent ref goes on the host, or NULL and why not. */
static char *import_target(const wtb_gitstate *g, wtb_repo *r, const char *ref, const char **why)
{
	_cleanup_free_ char *own = xasprintf("refs/heads/wtbox/%s", g->name);
	_cleanup_free_ char *own_at = xasprintf("%s@", own);
	char *target;
	git_oid id;

	if (strcmp(ref, own) == 0 || str_has_prefix(ref, own_at))
		return xstrdup(ref);
	if (str_has_prefix(ref, "refs/tags/")) {
		*why = "tags are not imported";
		return NULL;
	}
	if (!str_has_prefix(ref, "refs/heads/")) {
		*why = "only branches are imported";
		return NULL;
	}
	if (str_has_prefix(ref, "refs/heads/wtbox/")) {
		*why = "the branch of another agent";
		return NULL;
	}
	if (git_reference_name_to_id(&id, r->git, ref) == 0) {
		*why = "a branch of the shared repository (only the agent's own are imported)";
		return NULL;
	}
	target = xasprintf("%s%s", own_at, ref + strlen("refs/heads/"));
	if (!ref_name_ok(target)) {
		free(target);
		*why = "no valid name for it on the host";
		return NULL;
	}
	return target;
}

static void import_ref_add(wtb_import *imp, const char *ref, const char *from, const git_oid *old,
			   const git_oid *new, size_t commits, bool forced)
{
	wtb_import_ref *e;

	imp->refs = xrealloc(imp->refs, (imp->nrefs + 1) * sizeof(*imp->refs));
	e = &imp->refs[imp->nrefs++];
	*e = (wtb_import_ref){
	    .ref = xstrdup(ref), .from = xstrdup(from), .commits = commits, .forced = forced};
	if (old != NULL)
		git_oid_tostr(e->old, sizeof(e->old), old);
	git_oid_tostr(e->new, sizeof(e->new), new);
}

/* A ref moved on the host is said at once: if the child dies after, the
 * parent still reports it. */
static void put_ref(FILE *f, const wtb_import_ref *e)
{
	if (f == NULL)
		return;
	reply_put(f, 'R', e->ref);
	reply_put(f, 'F', e->from);
	reply_put(f, 'O', e->old);
	reply_put(f, 'N', e->new);
	reply_put_num(f, 'C', e->commits);
	reply_put(f, 'X', e->forced ? "1" : "0");
	fflush(f);
}

static int update_ref(wtb_repo *r, const char *ref, const git_oid *id, const git_oid *old)
{
	uint64_t deadline = now_ms() + REF_LOCK_RETRY_MS;
	git_reference *out = NULL;
	int rc;

	/* With the value seen, or only if still absent: a concurrent change
	 * on the host is never overwritten. */
	while ((rc = git_reference_create_matching(&out, r->git, ref, id, old != NULL, old,
						   "wtbox: import")) == GIT_ELOCKED &&
	       now_ms() < deadline)
		usleep(20000);
	git_reference_free(out);
	return rc;
}

/* One changed ref of the agent's: objects, then the host ref. 1 when
 * refused (with the reason in imp->refused), 2 when it waits for the next
 * import (IMPORT_REFS_MAX). */
static int import_one(importer *im, const ref_ent *e, const ref_ent *was, wtb_import *imp,
		      wtb_error **err)
{
	_cleanup_free_ char *target = NULL;
	const char *why = NULL;
	git_oid cur;
	bool has_cur, forced = false;
	size_t commits_before = im->commits;
	int rc;

	target = import_target(im->g, im->r, e->name, &why);
	if (target == NULL) {
		strv_push(&imp->refused, xasprintf("%s: %s", e->name, why));
		return 1;
	}
	has_cur = git_reference_name_to_id(&cur, im->r->git, target) == 0;
	if (has_cur && git_oid_equal(&cur, &e->id))
		return 0;
	/* Each ref imported is a ref on the host: so many at a time, the
	 * rest wait in the private directory. */
	if (im->accepted >= IMPORT_REFS_MAX)
		return 2;
	im->accepted++;
	if (importer_open(im, err) < 0)
		return -1;
	/* A branch names a commit; anything else would break every git
	 * command on the host that reads it. */
	{
		size_t size;
		git_object_t type = GIT_OBJECT_INVALID;

		if (git_odb_read_header(&size, &type, im->src_odb, &e->id) < 0 ||
		    type != GIT_OBJECT_COMMIT) {
			strv_push(&imp->refused,
				  xasprintf("%s: %s", e->name,
					    type == GIT_OBJECT_INVALID ? "names a missing object"
								       : "does not name a commit"));
			return 1;
		}
	}
	if (copy_closure(im, &e->id, GIT_OBJECT_COMMIT, err) < 0) {
		_cleanup_free_ char *msg = wtb_error_text(*err);

		strv_push(&imp->refused, xasprintf("%s: %s", e->name, msg));
		wtb_error_free(err);
		return 1;
	}
	if (has_cur) {
		int desc = git_graph_descendant_of(im->r->git, &e->id, &cur);

		/* The host moved the branch while the agent worked (the user
		 * committed in the worktree), or made it since the agent got
		 * its refs (an import that died after moving it, then the
		 * user): a rewrite would drop that. */
		if (desc != 1 && (was == NULL || !git_oid_equal(&was->id, &cur))) {
			strv_push(&imp->refused,
				  xasprintf("%s: %s was changed on the host too; the agent's "
					    "commits stay in its git directory",
					    e->name, short_ref(target)));
			return 1;
		}
		forced = desc != 1;
	}
	rc = update_ref(im->r, target, &e->id, has_cur ? &cur : NULL);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
		strv_push(&imp->refused, xasprintf("%s: %s changed on the host during the import",
						   e->name, short_ref(target)));
		return 1;
	}
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot update '%s'", target);
	import_ref_add(imp, target, e->name, has_cur ? &cur : NULL, &e->id,
		       im->commits - commits_before, forced);
	put_ref(im->reply, &imp->refs[imp->nrefs - 1]);
	return WTB_FAULT("import-ref", err);
}

static char *admin_path(const wtb_repo *r, const wtb_tree_spec *t, const char *file)
{
	return xasprintf("%s/worktrees/%s/%s", r->commondir, t->admin, file);
}

static void git_index_freep(git_index **i)
{
	git_index_free(*i);
}

/* The index's own checksum: its last 20 bytes, in hex. */
static void index_checksum(const char *data, size_t len, char out[GIT_OID_HEXSZ + 1])
{
	git_oid id;

	out[0] = '\0';
	if (len < GIT_OID_RAWSZ)
		return;
	git_oid_fromraw(&id, (const unsigned char *)data + len - GIT_OID_RAWSZ);
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, &id);
}

static bool index_was_carried(const wtb_gitstate *g, const char *sum)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ wtb_error *err = NULL;

	return read_file(g->carried, 256, &text, NULL, &err) == 0 && strncmp(text, sum, 40) == 0;
}

/* A path git itself would accept in an index: relative, no empty, "." or
 * ".." component, no ".git" (in any case, or as NTFS would read it). The
 * host's git checks out what the index says: an absolute path there would
 * be written where it points. */
static bool index_path_ok(const char *path)
{
	const char *c = path;

	if (*c == '\0' || *c == '/')
		return false;
	while (*c != '\0') {
		size_t len = strcspn(c, "/"), n = len;

		while (n > 1 && (c[n - 1] == ' ' || c[n - 1] == '.'))
			n--;
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && strncmp(c, "..", 2) == 0) ||
		    (n == 4 && strncasecmp(c, ".git", 4) == 0) ||
		    (n == 5 && strncasecmp(c, "git~1", 5) == 0))
			return false;
		c += len;
		if (*c == '/' && *++c == '\0')
			return false;
	}
	return true;
}

/* An entry of the agent's index as the host's gets it. Flags that make git
 * look away (assume-unchanged, skip-worktree) are dropped, and stat data
 * is kept only where the host's index had the same entry with the same
 * stat data: otherwise an entry could claim that a file the agent changed
 * is unchanged, and the verdict would remove the worktree. Zero stat data
 * makes git (and libgit2) read the file. */
static git_index_entry host_entry(git_index *host, const git_index_entry *e)
{
	const git_index_entry *h = git_index_get_bypath(host, e->path, git_index_entry_stage(e));
	git_index_entry out = *e;

	out.flags &= (uint16_t)~GIT_INDEX_ENTRY_VALID;
	out.flags_extended &= (uint16_t)~GIT_INDEX_ENTRY_SKIP_WORKTREE;
	if (h == NULL || !git_oid_equal(&h->id, &e->id) || h->mode != e->mode ||
	    h->file_size != e->file_size || h->ino != e->ino || h->dev != e->dev ||
	    h->mtime.seconds != e->mtime.seconds || h->mtime.nanoseconds != e->mtime.nanoseconds ||
	    h->ctime.seconds != e->ctime.seconds || h->ctime.nanoseconds != e->ctime.nanoseconds) {
		memset(&out.ctime, 0, sizeof(out.ctime));
		memset(&out.mtime, 0, sizeof(out.mtime));
		out.dev = out.ino = out.uid = out.gid = out.file_size = 0;
	}
	return out;
}

/* The agent's index is not carried (the host worktree's stays): said in
 * the report, and the agent is kept. 0, or the error did not exist. */
static int refuse_index(wtb_import *imp, const wtb_error *why)
{
	_cleanup_free_ char *msg = NULL;

	if (why == NULL)
		return 0;
	msg = wtb_error_text(why);
	strv_push(&imp->refused, xasprintf("index: %s; the worktree's index was not taken", msg));
	imp->index_refused = true;
	return 0;
}

/* Without the agent's index, the host worktree's must at least match the
 * commit its HEAD names now: read from that commit's tree (no stat data,
 * so git looks at every file). */
static int reset_index(importer *im, const wtb_tree_spec *t, wtb_import *imp, wtb_error **err)
{
	_cleanup_free_ char *head_path = admin_path(im->r, t, "HEAD");
	_cleanup_free_ char *host_path = admin_path(im->r, t, "index");
	_cleanup_free_ char *text = NULL;
	__attribute__((cleanup(git_index_freep))) git_index *idx = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	size_t len;
	git_oid id;
	int rc;

	if (read_file(head_path, REF_MAX, &text, &len, err) < 0)
		return -1;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	rc = str_has_prefix(text, "ref: ")
		 ? git_reference_name_to_id(&id, im->r->git, text + strlen("ref: "))
		 : git_oid_fromstr(&id, text);
	if (rc == 0)
		rc = git_commit_lookup(&commit, im->r->git, &id);
	if (rc == 0)
		rc = git_commit_tree(&tree, commit);
	if (rc == 0)
		rc = git_index_open(&idx, host_path);
	if (rc == 0)
		rc = git_index_read_tree(idx, tree);
	if (rc == 0)
		rc = git_index_write(idx);
	git_tree_free(tree);
	git_commit_free(commit);
	if (rc < 0)
		return wtb_error_git(err, rc, "cannot reset the index of '%s'", t->path);
	strv_push(&imp->notes, xstrdup("the worktree's index was reset to its HEAD"));
	return 0;
}

/* Replace the host worktree's index with the agent's, rebuilt entry by
 * entry by libgit2 (no extension of the agent's is carried: a cache-tree
 * could make a later commit on the host use a tree the agent made up). */
static int carry_index(importer *im, const wtb_tree_spec *t, int root, const char *snap,
		       wtb_import *imp, wtb_error **err)
{
	_cleanup_free_ char *data = NULL, *copy = path_join(snap ? snap : im->g->dir, "index");
	_cleanup_free_ char *host_path = admin_path(im->r, t, "index");
	__attribute__((cleanup(git_index_freep))) git_index *mine = NULL, *host = NULL;
	__attribute__((cleanup(oidset_free))) oidset known = {0};
	_cleanup_error_ wtb_error *rerr = NULL;
	_cleanup_free_ git_index_entry *entries = NULL;
	char sum[GIT_OID_HEXSZ + 1];
	size_t len;
	int rc;

	rc = read_beneath(root, "index", INDEX_MAX, &data, &len, &rerr);
	if (rc <= 0)
		return refuse_index(imp, rerr);
	index_checksum(data, len, sum);
	if (index_was_carried(im->g, sum))
		return 0;
	if (importer_open(im, err) < 0 ||
	    (snap != NULL && write_file_atomic(copy, data, len, 0600, err) < 0))
		return -1;
	if ((rc = git_index_open(&mine, copy)) < 0) {
		wtb_error_git(&rerr, rc, "cannot read it");
		return refuse_index(imp, rerr);
	}
	if ((rc = git_index_open(&host, host_path)) < 0)
		return wtb_error_git(err, rc, "cannot read the index");
	for (size_t i = 0, n = git_index_entrycount(host); i < n; i++)
		oidset_add(&known, &git_index_get_byindex(host, i)->id);
	for (size_t i = 0, n = git_index_entrycount(mine); i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(mine, i);

		if (!index_path_ok(e->path)) {
			strv_push(
			    &imp->refused,
			    xasprintf("index: the entry '%s' is not a valid path; the worktree's "
				      "index was left as it was",
				      e->path));
			return 0;
		}
		if (e->mode != GIT_FILEMODE_COMMIT && !git_oid_is_zero(&e->id) &&
		    oidset_add(&known, &e->id) &&
		    copy_closure(im, &e->id, GIT_OBJECT_BLOB, &rerr) < 0)
			return refuse_index(imp, rerr);
	}
	entries = xcalloc(git_index_entrycount(mine) + 1, sizeof(*entries));
	for (size_t i = 0, n = git_index_entrycount(mine); i < n; i++)
		entries[i] = host_entry(host, git_index_get_byindex(mine, i));
	if ((rc = git_index_clear(host)) < 0)
		return wtb_error_git(err, rc, "cannot rebuild the index");
	for (size_t i = 0, n = git_index_entrycount(mine); i < n; i++)
		if ((rc = git_index_add(host, &entries[i])) < 0)
			return wtb_error_git(err, rc, "cannot rebuild the index");
	if ((rc = git_index_write(host)) < 0)
		return wtb_error_git(err, rc, "cannot write '%s'", host_path);
	imp->index = true;
	return write_file_if_changed(im->g->carried, sum, strlen(sum), 0600, err);
}

/* The worktree follows the agent's HEAD when it is on a branch that is on
 * the host now. */
static int carry_head(importer *im, const wtb_tree_spec *t, int root, wtb_import *imp,
		      wtb_error **err)
{
	_cleanup_free_ char *text = NULL, *target = NULL, *host_head = NULL;
	const char *why = NULL, *ref;
	size_t len;
	git_oid id;
	int rc = read_beneath(root, "HEAD", REF_MAX, &text, &len, err);

	if (rc <= 0)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (!str_has_prefix(text, "ref: ")) {
		strv_push(&imp->notes, xstrdup("HEAD inside is detached; the worktree on the host "
					       "stays on its branch"));
		imp->head_elsewhere = true;
		return 0;
	}
	ref = text + strlen("ref: ");
	target = ref_name_ok(ref) ? import_target(im->g, im->r, ref, &why) : NULL;
	if (target == NULL || git_reference_name_to_id(&id, im->r->git, target) < 0) {
		strv_push(&imp->notes, xasprintf("HEAD inside is on '%s'; the worktree on the host "
						 "stays on its branch",
						 short_ref(ref)));
		imp->head_elsewhere = true;
		return 0;
	}
	host_head = admin_path(im->r, t, "HEAD");
	{
		_cleanup_free_ char *want = xasprintf("ref: %s\n", target), *have = NULL;
		_cleanup_error_ wtb_error *rerr = NULL;

		if (read_file(host_head, REF_MAX, &have, NULL, &rerr) == 0 &&
		    strcmp(have, want) == 0)
			return 0;
		if (write_file_atomic(host_head, want, strlen(want), 0644, err) < 0)
			return -1;
	}
	imp->head = xstrdup(target);
	return 0;
}

static int make_snapshot(const wtb_gitstate *g, char **out, wtb_error **err)
{
	_cleanup_free_ char *tmpl = xasprintf("%s.import-XXXXXX", g->dir);

	if (mkdtemp(tmpl) == NULL)
		return wtb_error_errno(err, "cannot create a directory next to '%s'", g->dir);
	*out = steal_ptr(tmpl);
	return 0;
}

static void drop_snapshot(char **dir)
{
	_cleanup_error_ wtb_error *err = NULL;

	if (*dir != NULL && remove_tree(*dir, &err) < 0)
		wtb_error_report(err);
	free(*dir);
}

/* The import proper, in the child. `snap`: the snapshot directory while
 * the sandbox may run (sync), or NULL. */
static int import_here(const wtb_gitstate *g, wtb_repo *r, const wtb_tree_spec *t, const char *snap,
		       FILE *reply, wtb_import *out, wtb_error **err)
{
	__attribute__((cleanup(refs_clear))) ref_list mine = {0}, base = {0};
	__attribute__((cleanup(importer_close)))
	importer im = {.g = g, .r = r, .reply = reply, .notes = &out->notes};
	_cleanup_close_ int root = open(g->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int snap_fd = -1, snap_obj = -1;
	_cleanup_strvec_ strv odd = {0};
	_cleanup_free_ char *objects = NULL, *own = xasprintf("refs/heads/wtbox/%s", g->name);
	size_t over = 0;

	if (root < 0 && errno == ENOENT)
		return 0;
	if (root < 0)
		return wtb_error_errno(err, "cannot open '%s'", g->dir);
	if (read_base(g, &base, err) < 0 || private_refs(root, &mine, &odd, err) < 0)
		return wtb_error_wrap(err, "cannot import from agent '%s'", g->name);
	/* While the sandbox may run (sync), objects are read from hard links
	 * of the checked files; otherwise nothing can change after the check. */
	if (snap != NULL) {
		snap_fd = open(snap, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (snap_fd < 0 || mkdirat(snap_fd, "objects", 0700) < 0 ||
		    (snap_obj = openat(snap_fd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return wtb_error_errno(err, "cannot create '%s/objects'", snap);
	}
	if (walk_objects(root, snap_obj, err) < 0)
		return wtb_error_wrap(err, "cannot import from agent '%s'", g->name);
	objects = path_join(snap ? snap : g->dir, "objects");
	im.objects_dir = objects;
	/* The agent's own branch first: its new commits are counted there. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < mine.n; i++) {
			const ref_ent *e = &mine.v[i], *was = refs_find(&base, e->name);
			int rc;

			if ((strcmp(e->name, own) == 0) != (pass == 0) ||
			    (was != NULL && git_oid_equal(&was->id, &e->id)))
				continue;
			rc = import_one(&im, e, was, out, err);
			if (rc < 0)
				return wtb_error_wrap(err, "cannot import from agent '%s'",
						      g->name);
			if (rc == 0)
				refs_set(&base, e->name, &e->id);
			over += rc == 2;
		}
	}
	if (over > 0)
		strv_push(&out->refused,
			  xasprintf("%zu more changed refs: at most %u are imported at a time; "
				    "the next import takes them",
				    over, IMPORT_REFS_MAX));
	for (size_t i = 0; i < base.n; i++)
		if (refs_find(&mine, base.v[i].name) == NULL &&
		    str_has_prefix(base.v[i].name, "refs/heads/wtbox/"))
			strv_push(&out->notes,
				  xasprintf("%s was deleted inside; it stays on the host",
					    short_ref(base.v[i].name)));
	for (size_t i = 0; i < odd.n; i++)
		strv_push(&out->notes, xasprintf("ignored %s", odd.v[i]));
	out->objects = im.objects;
	if (write_base(g, &base, err) < 0 || carry_index(&im, t, root, snap, out, err) < 0 ||
	    carry_head(&im, t, root, out, err) < 0 ||
	    (out->index_refused && (out->nrefs > 0 || out->head != NULL) &&
	     reset_index(&im, t, out, err) < 0) ||
	    WTB_FAULT("import-end", err) < 0)
		return wtb_error_wrap(err, "cannot import from agent '%s'", g->name);
	return 0;
}

typedef struct import_args {
	const wtb_gitstate *g;
	wtb_repo *r;
	const wtb_tree_spec *t;
	const char *snap;
} import_args;

/* At most IMPORT_LIST_MAX lines of a list, then how many more: the
 * agent chooses how many odd refs it leaves. */
static void put_list(FILE *f, char tag, const strv *list, const char *more)
{
	for (size_t i = 0; i < list->n && i < IMPORT_LIST_MAX; i++)
		reply_put(f, tag, list->v[i]);
	if (list->n > IMPORT_LIST_MAX) {
		_cleanup_free_ char *line =
		    xasprintf("%zu more %s", list->n - IMPORT_LIST_MAX, more);

		reply_put(f, tag, line);
	}
}

/* In the child: the import, then what it did as records, also when it
 * failed half-way (what was imported before stays imported). */
static int import_child(void *arg, FILE *f, wtb_error **err)
{
	const import_args *a = arg;
	__attribute__((cleanup(import_free))) wtb_import imp = {0};
	/* The refs were put as they were imported. */
	int r = import_here(a->g, a->r, a->t, a->snap, f, &imp, err);

	put_list(f, 'r', &imp.refused, "refs not imported (not listed)");
	put_list(f, 'n', &imp.notes, "notes (not listed)");
	reply_put_num(f, 'o', imp.objects);
	reply_put(f, 'i', imp.index ? "1" : "0");
	reply_put(f, 'I', imp.index_refused ? "1" : "0");
	if (imp.head != NULL)
		reply_put(f, 'H', imp.head);
	reply_put(f, 'h', imp.head_elsewhere ? "1" : "0");
	return r;
}

static int parse_import(const char *buf, size_t len, wtb_import *out, wtb_error **err)
{
	wtb_import_ref *e = NULL;
	size_t at = 0;
	const char *text;
	char tag;
	int r;

	while ((r = reply_next(buf, len, &at, &tag, &text, err)) > 0) {
		if (tag == 'R') {
			out->refs = xrealloc(out->refs, (out->nrefs + 1) * sizeof(*out->refs));
			e = &out->refs[out->nrefs++];
			*e = (wtb_import_ref){.ref = xstrdup(text), .from = xstrdup("")};
			continue;
		}
		if (strchr("FONCX", tag) != NULL && e == NULL)
			return wtb_error_set(err, 0, "its reply has a field before its ref");
		switch (tag) {
		case 'F':
			free(e->from);
			e->from = xstrdup(text);
			break;
		case 'O':
			snprintf(e->old, sizeof(e->old), "%s", text);
			break;
		case 'N':
			snprintf(e->new, sizeof(e->new), "%s", text);
			break;
		case 'C':
			e->commits = strtoull(text, NULL, 10);
			break;
		case 'X':
			e->forced = text[0] == '1';
			break;
		case 'r':
			strv_push(&out->refused, xstrdup(text));
			break;
		case 'n':
			strv_push(&out->notes, xstrdup(text));
			break;
		case 'o':
			out->objects = strtoull(text, NULL, 10);
			break;
		case 'i':
			out->index = text[0] == '1';
			break;
		case 'I':
			out->index_refused = text[0] == '1';
			break;
		case 'H':
			free(out->head);
			out->head = xstrdup(text);
			break;
		case 'h':
			out->head_elsewhere = text[0] == '1';
			break;
		default:
			return wtb_error_set(err, 0, "its reply has an unknown record");
		}
	}
	return r;
}

/* Everything the import reads was written by the agent: a huge object is
 * read whole, and a pack it truncates while sync has it mapped raises
 * SIGBUS. So the import runs in a child (see child.h); if it dies, the
 * agent's work stays in its private directory and the next import takes
 * it. */
int gitstate_import(const wtb_gitstate *g, wtb_repo *r, const wtb_tree_spec *t, bool live,
		    wtb_import *out, wtb_error **err)
{
	__attribute__((cleanup(drop_snapshot))) char *snap = NULL;
	_cleanup_free_ char *reply = NULL;
	wtb_child_opts o = {.secs = g->timeout, .knob = "WTBOX_IMPORT_TIMEOUT"};
	_cleanup_error_ wtb_error *perr = NULL;
	struct stat st;
	size_t len = 0;
	int rc;

	if (lstat(g->dir, &st) < 0 && errno == ENOENT)
		return 0;
	if (live && make_snapshot(g, &snap, err) < 0)
		return -1;
	rc = child_run(import_child, &(import_args){.g = g, .r = r, .t = t, .snap = snap}, &o,
		       &reply, &len, err);
	/* Half a pack of a child that was killed (nothing when it was not),
	 * and the keeps it had put in (a killed child is a failed one). */
	{
		_cleanup_free_ char *stage = pack_stage(g, getpid());
		_cleanup_error_ wtb_error *serr = NULL;

		remove_tree(stage, &serr);
		if (rc < 0)
			keeps_finish(g, getpid());
	}
	if (parse_import(reply, len, out, &perr) < 0 && rc == 0) {
		*err = steal_ptr(perr);
		return -1;
	}
	if (rc < 0)
		return wtb_error_wrap(err, "cannot import from agent '%s'", g->name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Refresh.                                                            */

static int host_refs(wtb_repo *r, ref_list *out, wtb_error **err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int rc = git_reference_iterator_new(&it, r->git);

	if (rc < 0)
		return wtb_error_git(err, rc, "cannot list the refs of '%s'", r->commondir);
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);

		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    (str_has_prefix(name, "refs/heads/") || str_has_prefix(name, "refs/tags/") ||
		     str_has_prefix(name, "refs/remotes/")))
			refs_push(out, name, git_reference_target(ref));
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (rc != GIT_ITEROVER)
		return wtb_error_git(err, rc, "cannot list the refs of '%s'", r->commondir);
	refs_sort(out);
	return 0;
}

/* Copy a host file into the private directory (the host's is the truth);
 * a host file that does not exist copies nothing. */
static int copy_in(int root, const char *host, const char *dir, const char *name, bool always,
		   wtb_error **err)
{
	_cleanup_free_ char *data = NULL, *rel = xasprintf("%s/%s", dir, name);
	size_t len;
	struct stat st;

	if (!always && exists_beneath(root, strcmp(dir, ".") == 0 ? name : rel))
		return 0;
	if (lstat(host, &st) < 0 && errno == ENOENT)
		return 0;
	if (read_file(host, INDEX_MAX, &data, &len, err) < 0)
		return -1;
	return write_beneath(root, dir, name, data, len, err);
}

/* Its own config: written once, then the agent's to change (the host
 * never reads it). core.worktree lets git inside name the worktree as the
 * host does. */
static char *private_config(const wtb_tree_spec *t)
{
	return xasprintf("[core]\n"
			 "\trepositoryformatversion = 0\n"
			 "\tfilemode = true\n"
			 "\tbare = false\n"
			 "\tlogallrefupdates = true\n"
			 "\tworktree = %s\n",
			 t->path);
}

static int make_layout(int root, const wtb_gitstate *g, const wtb_tree_spec *t, wtb_error **err)
{
	static const char *const dirs[] = {"objects",	 "objects/info", "objects/pack", "refs",
					   "refs/heads", "refs/tags",	 "info"};
	_cleanup_free_ char *head = xasprintf("ref: refs/heads/wtbox/%s\n", g->name);
	_cleanup_free_ char *alternates = xasprintf("%s\n", g->objects);
	_cleanup_free_ char *config = private_config(t);

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int fd = make_dir_beneath(root, dirs[i], err);

		if (fd < 0)
			return -1;
		close(fd);
	}
	if (!exists_beneath(root, "HEAD") &&
	    write_beneath(root, ".", "HEAD", head, strlen(head), err) < 0)
		return -1;
	if (!exists_beneath(root, "config") &&
	    write_beneath(root, ".", "config", config, strlen(config), err) < 0)
		return -1;
	return write_beneath(root, "objects/info", "alternates", alternates, strlen(alternates),
			     err);
}

int gitstate_refresh(const wtb_gitstate *g, wtb_repo *r, const wtb_tree_spec *t, bool take_index,
		     wtb_error **err)
{
	__attribute__((cleanup(refs_clear))) ref_list mine = {0}, base = {0}, host = {0},
						      given = {0}, next_base = {0};
	_cleanup_close_ int root = -1;
	_cleanup_strvec_ strv odd = {0};
	_cleanup_free_ char *packed = NULL, *gitfile = xasprintf("gitdir: %s\n", g->dir);
	_cleanup_free_ char *exclude = path_join(r->commondir, "info/exclude");
	_cleanup_free_ char *shallow = path_join(r->commondir, "shallow");
	_cleanup_free_ char *index = admin_path(r, t, "index");

	if (mkdir(g->dir, 0700) < 0 && errno != EEXIST)
		return wtb_error_errno(err, "cannot create '%s'", g->dir);
	root = open(g->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return wtb_error_errno(err, "cannot open '%s'", g->dir);
	if (make_layout(root, g, t, err) < 0 || read_base(g, &base, err) < 0 ||
	    host_refs(r, &host, err) < 0 || private_refs(root, &mine, &odd, err) < 0)
		goto fail;
	/* The host's refs, except where the agent changed one and it was not
	 * imported: that one stays the agent's, and stays "changed". */
	for (size_t i = 0; i < host.n; i++) {
		const ref_ent *h = &host.v[i], *m = refs_find(&mine, h->name);
		const ref_ent *b = refs_find(&base, h->name);

		if (m != NULL && !git_oid_equal(&m->id, &h->id) &&
		    (b == NULL || !git_oid_equal(&b->id, &m->id))) {
			refs_push(&given, m->name, &m->id);
			if (b != NULL)
				refs_push(&next_base, b->name, &b->id);
			continue;
		}
		refs_push(&given, h->name, &h->id);
		refs_push(&next_base, h->name, &h->id);
	}
	/* What only the agent has stays: what it made or changed, and its
	 * branches imported as wtbox/<name>@<branch>. What it was given and
	 * left alone, the host has since deleted: it goes. */
	for (size_t i = 0; i < mine.n; i++) {
		const ref_ent *m = &mine.v[i], *b = refs_find(&base, m->name);
		_cleanup_free_ char *imported = NULL;

		const ref_ent *h = NULL;

		if (refs_find(&host, m->name) != NULL)
			continue;
		if (b != NULL && git_oid_equal(&b->id, &m->id) &&
		    str_has_prefix(m->name, "refs/heads/")) {
			imported = xasprintf("refs/heads/wtbox/%s@%s", g->name,
					     m->name + strlen("refs/heads/"));
			h = refs_find(&host, imported);
			if (h == NULL)
				continue;
			/* Left alone inside: it follows its host branch (the
			 * user may have committed there). */
			refs_push(&given, m->name, &h->id);
			refs_push(&next_base, m->name, &h->id);
			continue;
		} else if (b != NULL && git_oid_equal(&b->id, &m->id)) {
			continue;
		}
		refs_push(&given, m->name, &m->id);
		if (b != NULL)
			refs_push(&next_base, b->name, &b->id);
	}
	refs_sort(&given);
	refs_sort(&next_base);
	packed = format_ref_lines(&given, "# pack-refs with: sorted \n");
	if (write_beneath(root, ".", "packed-refs", packed, strlen(packed), err) < 0 ||
	    write_base(g, &next_base, err) < 0)
		goto fail;
	/* packed-refs now says what each ref is (or it was dropped): a loose
	 * ref would shadow that. Only loose refs still as they were read go
	 * (nothing runs in the sandbox now; this is a second guard). */
	{
		__attribute__((cleanup(refs_clear))) ref_list again = {0};
		walk_refs w = {.root = root, .refs = &again, .odd = &odd, .unlink_if = &mine};

		if (walk_loose(&w, "refs", 0, err) < 0)
			goto fail;
	}
	if (copy_in(root, exclude, "info", "exclude", false, err) < 0 ||
	    copy_in(root, shallow, ".", "shallow", true, err) < 0)
		goto fail;
	if ((take_index || !exists_beneath(root, "index")) && access(index, F_OK) == 0) {
		_cleanup_free_ char *data = NULL;
		char sum[GIT_OID_HEXSZ + 1];
		size_t len;

		if (read_file(index, INDEX_MAX, &data, &len, err) < 0 ||
		    write_beneath(root, ".", "index", data, len, err) < 0)
			goto fail;
		index_checksum(data, len, sum);
		if (write_file_if_changed(g->carried, sum, strlen(sum), 0600, err) < 0)
			goto fail;
	}
	if (write_file_if_changed(g->gitfile, gitfile, strlen(gitfile), 0644, err) < 0 ||
	    WTB_FAULT("refresh-end", err) < 0)
		goto fail;
	return 0;
fail:
	return wtb_error_wrap(err, "cannot prepare the git directory of agent '%s'", g->name);
}

/* ------------------------------------------------------------------ */

void gitstate_init(wtb_gitstate *g, const wtb_repo *r, const char *state, const char *name)
{
	g->dir = path_join(state, "git");
	g->gitfile = path_join(state, "gitfile");
	g->base = path_join(state, "git-base");
	g->carried = path_join(state, "git-index");
	g->objects = path_join(r->commondir, "objects");
	g->name = name;
}

void gitstate_free(wtb_gitstate *g)
{
	free(g->dir);
	free(g->gitfile);
	free(g->base);
	free(g->carried);
	free(g->objects);
	memset(g, 0, sizeof(*g));
}
