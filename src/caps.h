/* Privileges of the command: none. */
#ifndef WTBOX_CAPS_H
#define WTBOX_CAPS_H

#include "error.h"

/* Child side, last steps before exec: empty every capability set
 * (bounding, ambient, inheritable, permitted, effective), then set
 * no_new_privs so that no exec (setuid or file capabilities) can give any
 * back. The seccomp filter comes after this, before exec. */
int caps_drop_all(wtb_error **err);

#endif
