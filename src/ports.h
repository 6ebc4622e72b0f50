/* Host ports of an agent. The allocation IS the bind: a port belongs to a
 * supervisor exactly while it holds a socket bound to 127.0.0.1:P (and
 * [::1]:P where IPv6 loopback exists), so two wtbox processes can never get
 * the same port and nothing is checked before it is used. */
#ifndef WTBOX_PORTS_H
#define WTBOX_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define WTB_PORT_RANGE_DEFAULT "20000-29999"

typedef struct wtb_port_range {
	uint16_t lo, hi;
} wtb_port_range;

/* "A-B" with 1 <= A <= B <= 65535. `what` names the source in errors
 * ("--port-range", "WTBOX_PORT_RANGE"). Pure. */
int port_range_parse(const char *text, const char *what, wtb_port_range *out, wtb_error **err);

/* A whole port number 1..65535. Pure. */
int port_parse(const char *text, const char *what, uint16_t *out, wtb_error **err);

/* --publish [HOSTPORT:]PORT: host 0 means "allocate one". Pure. */
typedef struct wtb_publish {
	uint16_t host;
	uint16_t inside;
} wtb_publish;
int publish_parse(const char *text, wtb_publish *out, wtb_error **err);

/* The port a name prefers when it has none recorded: a hash of the name
 * into the range, so that the same agent tends to get the same port. Pure. */
uint16_t port_preferred(const wtb_port_range *r, const char *name);

/* A held host port: listening sockets, non-blocking, close-on-exec. */
typedef struct wtb_listener {
	uint16_t port;
	uint16_t inside; /* where connections go in the sandbox */
	int fd4, fd6;	 /* fd6 is -1 without IPv6 loopback */
} wtb_listener;

#define WTB_LISTENER_INIT                                                                          \
	{                                                                                          \
		.fd4 = -1, .fd6 = -1                                                               \
	}

/* A non-blocking, close-on-exec socket listening on the loopback address
 * of `family` (AF_INET: 127.0.0.1, AF_INET6: ::1 only) in the caller's
 * network namespace. -1 with errno set. */
int port_listen_loopback(int family, uint16_t port, int *out);

/* Bind and listen on 127.0.0.1:port and [::1]:port. A port that is taken
 * fails with errnum EADDRINUSE and holds nothing. */
int port_bind(uint16_t port, wtb_listener *out, wtb_error **err);

/* The first free port of the range, starting at `preferred` (wrapping
 * round) and skipping `skip` (ports this run already holds). */
int port_allocate(const wtb_port_range *r, uint16_t preferred, const uint16_t *skip, size_t nskip,
		  wtb_listener *out, wtb_error **err);

void listener_close(wtb_listener *l);

#endif
