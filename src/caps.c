#include "caps.h"

#include <errno.h>
#include <stddef.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static void cap_freep(cap_t *c)
{
	if (*c != NULL)
		cap_free(*c);
}

int caps_drop_all(wtb_error **err)
{
	__attribute__((cleanup(cap_freep))) cap_t none = cap_init();
	cap_value_t max = cap_max_bits();

	if (none == NULL)
		return wtb_error_errno(err, "cannot allocate a capability set");
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * is gone once the permitted set is empty. With an empty bounding
	 * set, even uid 0 inside (--root) gains nothing at exec. */
	for (cap_value_t c = 0; c < max; c++)
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return wtb_error_errno(
			    err, "cannot drop capability %d from the bounding set", (int)c);
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return wtb_error_errno(err, "cannot clear the ambient capabilities");
	if (cap_set_proc(none) < 0)
		return wtb_error_errno(err, "cannot drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return wtb_error_errno(err, "cannot set no_new_privs");
	return 0;
}
