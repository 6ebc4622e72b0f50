/* The sandbox's network namespace, and what its init does for the port
 * forwarder of the supervisor (src/forward.c). */
#ifndef WTBOX_NET_H
#define WTBOX_NET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Child side: bring the loopback interface of the new namespace up. */
int net_loopback_up(wtb_error **err);

/* Messages on the forwarder's channel (a SOCK_SEQPACKET socketpair between
 * the supervisor and init). */
enum {
	/* supervisor -> init: make `count` TCP sockets of `family`;
	 * init -> supervisor: here they are (count of them passed, 0 when the
	 * family is not available). */
	WTB_NET_SOCKETS = 1,
	/* init -> supervisor: a socket listening inside on loopback `port`
	 * (--allow-host-port), passed. */
	WTB_NET_LISTENER,
};

typedef struct wtb_netmsg {
	int32_t kind;
	int32_t family;
	int32_t count;
	int32_t port;
} wtb_netmsg;

#define WTB_NET_MAX_FDS 32

/* Send a message with up to WTB_NET_MAX_FDS fds. */
int netmsg_send(int chan, const wtb_netmsg *m, const int *fds, size_t nfds);
/* Receive one; the passed fds (close-on-exec) land in fds[0..*nfds). 0 on
 * a message, -1 at end of stream or on error. */
int netmsg_recv(int chan, wtb_netmsg *m, int *fds, size_t *nfds);

/* Init side: answer one request read from `chan`. -1 when the channel is
 * closed. */
int net_serve(int chan);

/* Init side: listen on 127.0.0.1:port (and [::1]:port) inside, for each
 * port, and pass the listeners to the supervisor. */
int net_send_listeners(int chan, const uint16_t *ports, size_t n, wtb_error **err);

#endif
