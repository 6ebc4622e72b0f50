/* User namespace: the id maps (supervisor side) and what to say when one
 * cannot be created. */
#ifndef WTBOX_USERNS_H
#define WTBOX_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Map the caller's uid/gid to themselves inside (or to 0 with as_root),
 * with setgroups denied: the only mapping an unprivileged process may
 * write, and the same one for root. */
int userns_write_maps(pid_t pid, uid_t uid, gid_t gid, bool as_root, wtb_error **err);

/* Before anything is created: fail early, with the fix, when a setting of
 * this machine forbids user namespaces. (Other causes, such as an outer
 * seccomp filter, only show when the sandbox is made; the run then undoes
 * what it created.) */
int userns_precheck(wtb_error **err);

/* clone() with CLONE_NEWUSER failed with `errnum`: one line naming the
 * cause found on this machine and how to fix it. */
int userns_clone_error(int errnum, wtb_error **err);

#endif
