/* Ports: parsing of ranges and --publish, the preferred port of a name,
 * and the allocation by binding (real sockets on 127.0.0.1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/ports.h"
#include "../../src/util.h"
#include "tap.h"

static void range_ok(const char *text, unsigned lo, unsigned hi)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_port_range r = {0};

	ok(port_range_parse(text, "--port-range", &r, &err) == 0, "range '%s' parses", text);
	is_int(r.lo, lo, "range '%s': first", text);
	is_int(r.hi, hi, "range '%s': last", text);
}

static void range_bad(const char *text, const char *want)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_port_range r = {0};

	ok(port_range_parse(text, "--port-range", &r, &err) < 0, "range '%s' is refused", text);
	has_str(err ? err->msg : NULL, want, "the error for range '%s'", text);
}

static void test_ranges(void)
{
	range_ok("20000-29999", 20000, 29999);
	range_ok("1-65535", 1, 65535);
	range_ok("8080-8080", 8080, 8080);
	range_bad("", "expected FIRST-LAST");
	range_bad("20000", "expected FIRST-LAST");
	range_bad("20000-", "expected FIRST-LAST");
	range_bad("-20000", "expected FIRST-LAST");
	range_bad("a-b", "expected FIRST-LAST");
	range_bad("1-2-3", "expected FIRST-LAST");
	range_bad(" 1-2", "expected FIRST-LAST");
	range_bad("1-2 ", "expected FIRST-LAST");
	range_bad("+1-2", "expected FIRST-LAST");
	range_bad("0-10", "ports must be 1-65535");
	range_bad("1-65536", "ports must be 1-65535");
	range_bad("30000-20000", "the first not above the last");
	range_bad("99999999999999999999-1", "expected FIRST-LAST");
}

static void publish_ok(const char *text, unsigned host, unsigned inside)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_publish p = {.host = 7, .inside = 7};

	ok(publish_parse(text, &p, &err) == 0, "--publish '%s' parses", text);
	is_int(p.host, host, "--publish '%s': host port", text);
	is_int(p.inside, inside, "--publish '%s': inside port", text);
}

static void publish_bad(const char *text, const char *want)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_publish p;

	ok(publish_parse(text, &p, &err) < 0, "--publish '%s' is refused", text);
	has_str(err ? err->msg : NULL, want, "the error for --publish '%s'", text);
}

static void test_publish(void)
{
	publish_ok("3000", 0, 3000);
	publish_ok("8080:3000", 8080, 3000);
	publish_ok("65535:1", 65535, 1);
	publish_bad("0", "invalid --publish port '0'");
	publish_bad("65536", "invalid --publish port '65536'");
	publish_bad("", "invalid --publish port ''");
	publish_bad("3000/tcp", "invalid --publish port '3000/tcp'");
	publish_bad(":3000", "invalid --publish host port ''");
	publish_bad("8080:", "invalid --publish port ''");
	publish_bad("1:2:3", "invalid --publish port '2:3'");
	publish_bad("0:3000", "invalid --publish host port '0'");
	publish_bad("127.0.0.1:8080:3000", "invalid --publish host port '127.0.0.1'");
	/* Digits only, as every number of the command line. */
	publish_bad(" 3000", "invalid --publish port ' 3000'");
	publish_bad("3000 ", "invalid --publish port '3000 '");
	publish_bad("+3000", "invalid --publish port '+3000'");
	publish_bad(" 8080:3000", "invalid --publish host port ' 8080'");
	publish_bad("8080: 3000", "invalid --publish port ' 3000'");
}

static void test_preferred(void)
{
	wtb_port_range r = {.lo = 20000, .hi = 29999}, one = {.lo = 5000, .hi = 5000};
	uint16_t a = port_preferred(&r, "fix-987");
	int distinct = 0;

	is_int(port_preferred(&r, "fix-987"), a, "the same name prefers the same port");
	ok(a >= 20000 && a <= 29999, "the preferred port is in the range (%u)", a);
	is_int(port_preferred(&one, "anything"), 5000, "a range of one port");
	/* Names spread over the range. */
	for (int i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "agent-%d", i);
		distinct += port_preferred(&r, name) != a;
	}
	ok(distinct >= 19, "other names prefer other ports (%d of 20)", distinct);
}

/* A free port of the kernel's choosing, for the bind tests. */
static uint16_t some_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void test_bind(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	wtb_listener l = WTB_LISTENER_INIT, l2 = WTB_LISTENER_INIT, l3 = WTB_LISTENER_INIT;
	uint16_t port = some_free_port();
	wtb_port_range r = {.lo = port, .hi = port};
	uint16_t skip;

	if (!ok(port != 0, "the kernel gives a free port"))
		return;
	ok(port_bind(port, &l, &err) == 0, "port_bind %u", port);
	ok(l.fd4 >= 0, "it holds 127.0.0.1:%u", port);
	is_int(l.port, port, "the listener's port");
	is_int(l.inside, port, "inside, the same number by default");
	/* The bind is the allocation: a second holder cannot get it. */
	ok(port_bind(port, &l2, &err) < 0, "a second port_bind of %u fails", port);
	is_int(err ? err->errnum : 0, EADDRINUSE, "with EADDRINUSE");
	has_str(err ? err->msg : NULL, "cannot bind 127.0.0.1:", "and says which");
	ok(l2.fd4 < 0 && l2.fd6 < 0, "and holds nothing");
	wtb_error_free(&err);
	ok(port_allocate(&r, port, NULL, 0, &l2, &err) < 0, "a range whose only port is held");
	has_str(err ? err->msg : NULL, "no free port in the range", "is exhausted");
	wtb_error_free(&err);
	listener_close(&l);
	ok(l.fd4 < 0 && l.fd6 < 0, "listener_close closes both");
	ok(port_allocate(&r, port, NULL, 0, &l2, &err) == 0, "released, it can be allocated");
	is_int(l2.port, port, "the same port");
	/* Ports this run already holds are skipped. */
	skip = port;
	wtb_error_free(&err);
	ok(port_allocate(&r, port, &skip, 1, &l3, &err) < 0, "a skipped port is not tried");
	listener_close(&l2);
	listener_close(&l3);
}

static void test_allocate_wraps(void)
{
	_cleanup_error_ wtb_error *err = NULL;
	uint16_t port = some_free_port();
	wtb_listener held = WTB_LISTENER_INIT, got = WTB_LISTENER_INIT;
	wtb_port_range r;

	if (!ok(port > 2 && port < 65535, "a free port not at the edges (%u)", port))
		return;
	/* The preferred port is taken: the next free one, wrapping round. */
	r = (wtb_port_range){.lo = (uint16_t)(port - 1), .hi = port};
	ok(port_bind(port, &held, &err) == 0, "hold %u", port);
	if (port_allocate(&r, port, NULL, 0, &got, &err) == 0) {
		is_int(got.port, port - 1, "preferred %u taken: %u after wrapping", port, port - 1);
	} else {
		/* port-1 may be someone else's: then the range is full. */
		has_str(err ? err->msg : NULL, "no free port", "or the range is full");
	}
	listener_close(&held);
	listener_close(&got);
}

int main(void)
{
	test_ranges();
	test_publish();
	test_preferred();
	test_bind();
	test_allocate_wraps();
	return done_testing();
}
