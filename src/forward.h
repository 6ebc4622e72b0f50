/* The port forwarder, in the supervisor: relays TCP connections between
 * the host's loopback and the sandbox's, with epoll and splice(2) (no
 * thread per connection, no copy through user space).
 *
 * Inbound (published ports): a connection accepted on a host listener is
 * joined to a socket that the sandbox's init made in the sandbox's network
 * namespace and passed out (SCM_RIGHTS over `chan`); the supervisor
 * connects it to 127.0.0.1:PORT there, then to [::1]:PORT when refused.
 * Outbound (--allow-host-port): a connection accepted on a listener that
 * init made inside is joined to a socket connected to the host's
 * 127.0.0.1:PORT (then [::1]:PORT).
 *
 * The forwarder has an epoll fd of its own; the supervisor watches that fd
 * and calls forward_dispatch() when it is readable. */
#ifndef WTBOX_FORWARD_H
#define WTBOX_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ports.h"

typedef struct fwd_conn fwd_conn;
typedef struct fwd_listener fwd_listener;

typedef struct wtb_forward {
	int ep;	     /* the forwarder's epoll */
	int chan;    /* to the sandbox's init */
	int reserve; /* a spare fd, given up to refuse a connection at EMFILE */
	void *chan_item;
	fwd_listener *listeners; /* never moved: allocated for all up front */
	size_t nlisteners, cap_listeners;
	int *pool[2]; /* unconnected sockets of the sandbox: [0] IPv4, [1] IPv6 */
	size_t npool[2], cap_pool[2];
	int requested[2];     /* sockets asked of init and not yet received */
	bool no_family[2];    /* init cannot make sockets of this family */
	fwd_conn *waiting[2]; /* connections waiting for a sandbox socket, FIFO */
	fwd_conn *waiting_tail[2];
	fwd_conn *conns; /* every live connection */
	fwd_conn *dead;	 /* ended in this dispatch, freed at its end */
	int (*pipes)[2]; /* empty pipes for reuse */
	size_t npipes;
} wtb_forward;

#define WTB_FORWARD_INIT                                                                           \
	{                                                                                          \
		.ep = -1, .chan = -1, .reserve = -1                                                \
	}

/* Take over `chan` and the host listeners (their fds move into the
 * forwarder); `ninside` listeners will come from init (--allow-host-port,
 * one per port). */
int forward_start(wtb_forward *f, int chan, wtb_listener *listeners, size_t n, size_t ninside,
		  wtb_error **err);

/* Handle what is ready, without blocking. */
void forward_dispatch(wtb_forward *f);

/* Reset every connection and close every fd. */
void forward_close(wtb_forward *f);

#endif
