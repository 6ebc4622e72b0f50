#include "trash.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "util.h"

int trash_new_entry(const char *trash_dir, const char *repo_id, const char *name, char **out,
		    wtb_error **err)
{
	_cleanup_free_ char *entry = NULL;

	if (mkdir_p(trash_dir, 0700, err) < 0)
		return -1;
	entry = xasprintf("%s/%s.%s.%lld.%d", trash_dir, repo_id, name, (long long)time(NULL),
			  (int)getpid());
	if (mkdir(entry, 0700) < 0)
		return wtb_error_errno(err, "cannot create trash entry '%s'", entry);
	*out = steal_ptr(entry);
	return 0;
}

int trash_move(const char *src, const char *entry, const char *what, const char *alt_dir,
	       char **dest, wtb_error **err)
{
	_cleanup_free_ char *to = path_join(entry, what);

	if (rename(src, to) == 0) {
		*dest = steal_ptr(to);
		return 0;
	}
	if (errno != EXDEV)
		return wtb_error_errno(err, "cannot move '%s' to the trash '%s'", src, to);
	free(to);
	if (mkdir_p(alt_dir, 0700, err) < 0)
		return -1;
	to = path_join(alt_dir, strrchr(entry, '/') ? strrchr(entry, '/') + 1 : entry);
	if (rename(src, to) < 0)
		return wtb_error_errno(err, "cannot move '%s' to the trash '%s'", src, to);
	*dest = steal_ptr(to);
	return 0;
}

/* Digits only: strtoll alone would take signs and leading spaces. */
static bool all_digits(const char *s, size_t len)
{
	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int64_t trash_entry_time(const char *entry_name)
{
	/* <repo-id>.<name>.<time>.<pid>: names may hold dots, so take the
	 * two numeric fields from the right. */
	const char *pid_dot = strrchr(entry_name, '.');
	const char *time_dot;

	if (pid_dot == NULL || entry_name[0] == '.' ||
	    !all_digits(pid_dot + 1, strlen(pid_dot + 1)))
		return -1;
	for (time_dot = pid_dot - 1; time_dot > entry_name && *time_dot != '.'; time_dot--)
		;
	if (time_dot <= entry_name || *time_dot != '.' || time_dot[-1] == '.' ||
	    !all_digits(time_dot + 1, (size_t)(pid_dot - time_dot - 1)))
		return -1;
	return strtoll(time_dot + 1, NULL, 10);
}

#define DELETING ".deleting."

const char *trash_deleting_entry(const char *name, pid_t *pid)
{
	const char *digits = name, *dot;

	if (!str_has_prefix(name, DELETING))
		return NULL;
	digits += strlen(DELETING);
	dot = strchr(digits, '.');
	if (dot == NULL || !all_digits(digits, (size_t)(dot - digits)) || dot - digits > 9 ||
	    trash_entry_time(dot + 1) < 0)
		return NULL;
	*pid = (pid_t)strtol(digits, NULL, 10);
	return *pid > 0 ? dot + 1 : NULL;
}

void trash_expired(const char *trash_dir, long grace, strv *names)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d = opendir(trash_dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int64_t t = trash_entry_time(de->d_name);
		pid_t pid;

		if ((t >= 0 && (int64_t)now - t >= (int64_t)grace) ||
		    /* A live pid may be another process's: the entry then
		     * waits until that one is gone too. */
		    (trash_deleting_entry(de->d_name, &pid) != NULL && pid != getpid() &&
		     !pid_exists(pid)))
			strv_push(names, xstrdup(de->d_name));
	}
	closedir(d);
}

int trash_delete(const char *trash_dir, const char *name, wtb_error **err)
{
	pid_t pid;
	const char *entry = trash_deleting_entry(name, &pid);
	_cleanup_free_ char *src = path_join(trash_dir, name);
	/* A deletion a killed wtbox left half-done is claimed again, under
	 * this process's pid. */
	_cleanup_free_ char *claimed =
	    xasprintf("%s/" DELETING "%d.%s", trash_dir, (int)getpid(), entry ? entry : name);

	/* Claim it with a rename first: two wtbox processes sweeping at once
	 * then never delete into each other's walk. */
	if (rename(src, claimed) < 0)
		return errno == ENOENT ? 0 : wtb_error_errno(err, "cannot delete '%s'", src);
	if (WTB_FAULT("trash-claimed", err) < 0)
		return -1;
	return remove_tree(claimed, err);
}

void trash_sweep(const char *trash_dir, long grace)
{
	_cleanup_strvec_ strv names = {0};

	trash_expired(trash_dir, grace, &names);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_error_ wtb_error *err = NULL;

		if (trash_delete(trash_dir, names.v[i], &err) < 0)
			wtb_error_report(err);
	}
}
