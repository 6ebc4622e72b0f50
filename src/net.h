/* The sandbox's network namespace. */
#ifndef WTBOX_NET_H
#define WTBOX_NET_H

#include "error.h"

/* Child side: bring the loopback interface of the new namespace up. */
int net_loopback_up(wtb_error **err);

#endif
