#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* Room for the connections that arrive while the supervisor is busy. */
#define LISTEN_BACKLOG 1024

static int parse_num(const char *s, const char **end, unsigned long *out)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &e, 10);
	if (errno != 0)
		return -1;
	*end = e;
	return 0;
}

int port_parse(const char *text, const char *what, uint16_t *out, wtb_error **err)
{
	const char *end;
	unsigned long v;

	if (parse_num(text, &end, &v) < 0 || *end != '\0' || v < 1 || v > 65535)
		return wtb_error_set(err, 0, "invalid %s '%s': expected a port number 1-65535",
				     what, text);
	*out = (uint16_t)v;
	return 0;
}

int port_range_parse(const char *text, const char *what, wtb_port_range *out, wtb_error **err)
{
	const char *end;
	unsigned long a, b;

	if (parse_num(text, &end, &a) < 0 || *end != '-' || parse_num(end + 1, &end, &b) < 0 ||
	    *end != '\0')
		return wtb_error_set(err, 0, "invalid %s '%s': expected FIRST-LAST, e.g. %s", what,
				     text, WTB_PORT_RANGE_DEFAULT);
	if (a < 1 || b > 65535 || a > b)
		return wtb_error_set(err, 0,
				     "invalid %s '%s': ports must be 1-65535, the first not above "
				     "the last",
				     what, text);
	out->lo = (uint16_t)a;
	out->hi = (uint16_t)b;
	return 0;
}

int publish_parse(const char *text, wtb_publish *out, wtb_error **err)
{
	const char *colon = strchr(text, ':');
	_cleanup_free_ char *host = NULL;

	out->host = 0;
	if (colon == NULL)
		return port_parse(text, "--publish port", &out->inside, err);
	host = xasprintf("%.*s", (int)(colon - text), text);
	if (port_parse(host, "--publish host port", &out->host, err) < 0 ||
	    port_parse(colon + 1, "--publish port", &out->inside, err) < 0)
		return -1;
	return 0;
}

uint16_t port_preferred(const wtb_port_range *r, const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	uint32_t n = (uint32_t)r->hi - r->lo + 1;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (uint16_t)(r->lo + h % n);
}

void listener_close(wtb_listener *l)
{
	closep(&l->fd4);
	closep(&l->fd6);
}

int port_listen_loopback(int family, uint16_t port, int *out)
{
	_cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} a;
	socklen_t len;
	int one = 1;

	if (fd < 0)
		return -1;
	/* SO_REUSEADDR lets a port be taken again while connections of its
	 * last holder linger in TIME_WAIT; it never lets two sockets listen
	 * on one address (that would be SO_REUSEPORT). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.v4.sin_family = AF_INET;
		a.v4.sin_port = htons(port);
		a.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a.v4);
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			return -1;
		a.v6.sin6_family = AF_INET6;
		a.v6.sin6_port = htons(port);
		a.v6.sin6_addr = in6addr_loopback;
		len = sizeof(a.v6);
	}
	if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return -1;
	*out = steal_fd(fd);
	return 0;
}

/* IPv6 loopback is absent when the kernel has no IPv6, or ::1 is not
 * configured on lo: then 127.0.0.1 alone is the port. */
static bool no_ipv6_loopback(int errnum)
{
	return errnum == EAFNOSUPPORT || errnum == EADDRNOTAVAIL || errnum == EPROTONOSUPPORT;
}

int port_bind(uint16_t port, wtb_listener *out, wtb_error **err)
{
	wtb_listener l = WTB_LISTENER_INIT;

	l.port = port;
	l.inside = port;
	if (port_listen_loopback(AF_INET, port, &l.fd4) < 0)
		return wtb_error_errno(err, "cannot bind 127.0.0.1:%u", port);
	if (port_listen_loopback(AF_INET6, port, &l.fd6) < 0 && !no_ipv6_loopback(errno)) {
		int e = errno;

		listener_close(&l);
		return wtb_error_set(err, e, "cannot bind [::1]:%u", port);
	}
	*out = l;
	return 0;
}

int port_allocate(const wtb_port_range *r, uint16_t preferred, const uint16_t *skip, size_t nskip,
		  wtb_listener *out, wtb_error **err)
{
	uint32_t n = (uint32_t)r->hi - r->lo + 1;
	uint32_t start = preferred >= r->lo && preferred <= r->hi ? preferred - r->lo : 0;
	uint32_t denied = 0, skipped = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(r->lo + (start + i) % n);
		_cleanup_error_ wtb_error *e = NULL;
		bool held = false;

		for (size_t k = 0; k < nskip; k++)
			held |= skip[k] == port;
		if (held) {
			skipped++;
			continue;
		}
		if (port_bind(port, out, &e) == 0)
			return 0;
		/* Taken (or, below 1024, not ours to take): try the next. */
		if (e->errnum != EADDRINUSE && e->errnum != EACCES) {
			*err = steal_ptr(e);
			return -1;
		}
		denied += e->errnum == EACCES;
	}
	/* Below net.ipv4.ip_unprivileged_port_start (1024) without privilege. */
	if (denied > 0)
		return wtb_error_set(err, 0,
				     "no free port in the range %u-%u (%u in use, %u privileged: "
				     "see net.ipv4.ip_unprivileged_port_start)",
				     r->lo, r->hi, n - denied - skipped, denied);
	if (skipped > 0)
		return wtb_error_set(err, 0,
				     "no free port in the range %u-%u (%u taken by this run or "
				     "--allow-host-port, %u in use)",
				     r->lo, r->hi, skipped, n - skipped);
	return wtb_error_set(err, 0, "no free port in the range %u-%u (all %u in use)", r->lo,
			     r->hi, n);
}
