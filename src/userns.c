#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int write_proc(pid_t pid, const char *file, const char *text, wtb_error **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return wtb_error_errno(err, "cannot write '%s' of the sandbox", file);
	return 0;
}

int userns_write_maps(pid_t pid, uid_t uid, gid_t gid, bool as_root, wtb_error **err)
{
	char map[64];

	snprintf(map, sizeof(map), "%u %u 1\n", as_root ? 0u : (unsigned)uid, (unsigned)uid);
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	/* An unprivileged process may map its gid only after giving up
	 * setgroups(2), which could otherwise drop a group used to deny
	 * access on the host. */
	if (write_proc(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", as_root ? 0u : (unsigned)gid, (unsigned)gid);
	return write_proc(pid, "gid_map", map, err);
}

/* The integer in a /proc/sys file, or -1 when it is absent. */
static long sysctl_value(const char *path)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ wtb_error *err = NULL;

	if (read_file(path, 64, &text, NULL, &err) < 0)
		return -1;
	return strtol(text, NULL, 10);
}

/* The settings that stop user namespaces outright, each with its fix. */
static int sysctl_verdict(wtb_error **err)
{
	bool root = geteuid() == 0;

	if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0)
		return wtb_error_set(err, 0,
				     "cannot create the sandbox: user namespaces are disabled "
				     "(user.max_user_namespaces = 0); enable them with 'sysctl -w "
				     "user.max_user_namespaces=15000'");
	if (!root && sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return wtb_error_set(err, 0,
				     "cannot create the sandbox: unprivileged user namespaces are "
				     "disabled (kernel.unprivileged_userns_clone = 0); enable them "
				     "with 'sysctl -w kernel.unprivileged_userns_clone=1'");
	if (!root && sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		return wtb_error_set(
		    err, 0,
		    "cannot create the sandbox: AppArmor restricts unprivileged "
		    "user namespaces (kernel.apparmor_restrict_unprivileged_userns "
		    "= 1); allow wtbox with an AppArmor profile granting 'userns', "
		    "or 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'");
	return 0;
}

int userns_precheck(wtb_error **err)
{
	return sysctl_verdict(err);
}

int userns_clone_error(int errnum, wtb_error **err)
{
	if (sysctl_verdict(err) < 0)
		return -1;
	if (errnum == ENOSPC || errnum == EUSERS)
		return wtb_error_set(
		    err, errnum,
		    "cannot create the sandbox: the limit of user namespaces is "
		    "reached (user.max_user_namespaces, or nesting deeper than 32)");
	if (errnum == EPERM)
		return wtb_error_set(err, errnum,
				     "cannot create the sandbox: creating a user namespace is not "
				     "permitted here (a seccomp filter of an outer container, such "
				     "as Docker's default, forbids it; run the container with a "
				     "profile that allows clone with CLONE_NEWUSER)");
	return wtb_error_set(err, errnum, "cannot create the sandbox's namespaces");
}
