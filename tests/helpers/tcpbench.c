/* tcpbench: a small TCP benchmark for the port forwarder (scripts/bench-forward.sh).
 * Built statically, so that it runs inside a sandbox as well as on the host.
 *
 *   tcpbench serve PORT [ADDR]      listen on ADDR:PORT (default 127.0.0.1)
 *   tcpbench send HOST PORT BYTES   bulk: one connection, BYTES sent in large
 *                                   writes, half-close, wait for the count
 *   tcpbench rr HOST PORT N         N sequential connect + request + response
 *                                   + close; latency percentiles
 *   tcpbench hold HOST PORT N [SECS]
 *                                   open N connections (each answered by the
 *                                   server) and keep them until stdin ends or
 *                                   SECS (default 60) pass
 *   tcpbench call SOCKET MESSAGE    send MESSAGE on the unix socket SOCKET
 *                                   (slirp4netns's API), print the reply;
 *                                   exit 1 when it contains "error"
 *
 * HOST and ADDR are numeric IPv4 or IPv6 addresses. The protocol: the first
 * byte a client sends names the mode. 'S' (sink): the server reads until
 * end of stream and replies the byte count (after the 'S') as decimal text,
 * then closes. 'R' (request/response): the server reads a request of REQ_SIZE
 * bytes, writes a response of the same size and closes. 'H' (hold): the
 * server answers one byte 'h' and keeps the connection until the client
 * closes it.
 *
 * The server handles one connection at a time (held connections aside) and
 * exits after IDLE_SECONDS without a new connection. Every socket wait is
 * bounded by IO_TIMEOUT seconds. Results are `key=value` lines on stdout;
 * errors go to stderr and the exit status is 1 (2: usage).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT   30
#define IDLE_SECONDS 120
#define REQ_SIZE     64
#define BUF_SIZE     (1 << 20)
#define MAX_HELD     4096
#define MAX_RR	     1000000

static char buf[BUF_SIZE];

static void die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fputs("usage: tcpbench serve PORT [ADDR] | send HOST PORT BYTES | rr HOST PORT N"
	      " | hold HOST PORT N [SECS] | call SOCKET MESSAGE\n",
	      stderr);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long parse_num(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
		usage();
	return v;
}

/* A numeric address; false when it is neither IPv4 nor IPv6. */
static bool make_addr(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return true;
	}
	return false;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A blocking socket connected to HOST:PORT; connect() is bounded by
 * SO_SNDTIMEO. */
static int dial(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		die("socket");
	set_timeouts(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) < 0)
		die("connect");
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* Read until end of stream or `max` bytes; -1 on error or timeout. */
static ssize_t read_upto(int fd, char *p, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t r = read(fd, p + got, max - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ------------------------------------------------------------------ */

static void serve_sink(int fd)
{
	unsigned long long total = 0;
	char reply[32];
	int n;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "tcpbench: serve: read: %s\n", strerror(errno));
			return;
		}
		if (r == 0)
			break;
		total += (unsigned long long)r;
	}
	n = snprintf(reply, sizeof(reply), "%llu\n", total);
	if (write(fd, reply, (size_t)n) != n)
		fprintf(stderr, "tcpbench: serve: reply: %s\n", strerror(errno));
}

static void serve_rr(int fd)
{
	char req[REQ_SIZE - 1];

	if (read_upto(fd, req, sizeof(req)) != (ssize_t)sizeof(req)) {
		fprintf(stderr, "tcpbench: serve: short request\n");
		return;
	}
	memset(buf, 'r', REQ_SIZE);
	if (write(fd, buf, REQ_SIZE) != REQ_SIZE)
		fprintf(stderr, "tcpbench: serve: response: %s\n", strerror(errno));
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static int cmd_serve(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd pfd[MAX_HELD + 1];
	size_t nheld = 0;
	int lfd, one = 1;

	if (argc < 3 || argc > 4)
		usage();
	if (!make_addr(argc == 4 ? argv[3] : "127.0.0.1", (unsigned)parse_num(argv[2], 65535), &ss,
		       &len))
		usage();
	/* A handler, not the default action: as the init of a pid namespace
	 * (pasta makes one) the default action of SIGTERM does nothing. */
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	raise_nofile();
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0)
		die("bind");
	if (listen(lfd, 4096) < 0)
		die("listen");
	printf("listening=%s pid=%d\n", argv[2], (int)getpid());
	fflush(stdout);
	pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
	for (;;) {
		int n = poll(pfd, nheld + 1, IDLE_SECONDS * 1000), fd;
		char mode;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("poll");
		if (n == 0 && nheld == 0) {
			fprintf(stderr, "tcpbench: serve: idle for %d s, exiting\n", IDLE_SECONDS);
			return 0;
		}
		/* A held connection that became readable: its client closed. */
		for (size_t i = 1; i <= nheld;) {
			if (pfd[i].revents != 0) {
				close(pfd[i].fd);
				pfd[i] = pfd[nheld--];
			} else {
				i++;
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		set_timeouts(fd);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (read_upto(fd, &mode, 1) != 1)
			mode = 0;
		if (mode == 'S') {
			serve_sink(fd);
		} else if (mode == 'R') {
			serve_rr(fd);
		} else if (mode == 'H' && nheld < MAX_HELD && write(fd, "h", 1) == 1) {
			pfd[++nheld] = (struct pollfd){.fd = fd, .events = POLLIN};
			continue;
		}
		close(fd);
	}
}

/* ------------------------------------------------------------------ */

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned long long bytes, left, count;
	char reply[32];
	ssize_t r;
	double t0, t;
	int fd;

	if (argc != 5)
		usage();
	if (!make_addr(argv[2], (unsigned)parse_num(argv[3], 65535), &ss, &len))
		usage();
	bytes = parse_num(argv[4], 1ULL << 50);
	memset(buf, 'x', sizeof(buf));
	t0 = now();
	fd = dial(&ss, len);
	write_all(fd, "S", 1);
	for (left = bytes; left > 0;) {
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		write_all(fd, buf, n);
		left -= n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	r = read_upto(fd, reply, sizeof(reply) - 1);
	t = now() - t0;
	if (r <= 0) {
		fprintf(stderr, "tcpbench: send: no count from the server\n");
		return 1;
	}
	reply[r] = '\0';
	count = strtoull(reply, NULL, 10);
	close(fd);
	if (count != bytes) {
		fprintf(stderr, "tcpbench: send: server counted %llu bytes of %llu\n", count,
			bytes);
		return 1;
	}
	printf("bytes=%llu seconds=%.6f mbps=%.1f\n", bytes, t, (double)bytes / t / 1e6);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmd_rr(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n, p99;
	double *lat, sum = 0;
	char req[REQ_SIZE], resp[REQ_SIZE + 1];

	if (argc != 5)
		usage();
	if (!make_addr(argv[2], (unsigned)parse_num(argv[3], 65535), &ss, &len))
		usage();
	n = (size_t)parse_num(argv[4], MAX_RR);
	if (n == 0)
		usage();
	lat = calloc(n, sizeof(*lat));
	if (lat == NULL)
		die("calloc");
	memset(req, 'q', sizeof(req));
	req[0] = 'R';
	for (size_t i = 0; i < n; i++) {
		double t0 = now();
		int fd = dial(&ss, len);
		ssize_t r;

		write_all(fd, req, sizeof(req));
		/* The whole response and the server's close. */
		r = read_upto(fd, resp, sizeof(resp));
		close(fd);
		lat[i] = (now() - t0) * 1e6;
		if (r != REQ_SIZE) {
			fprintf(stderr, "tcpbench: rr: connection %zu: response of %zd bytes\n", i,
				r);
			return 1;
		}
		sum += lat[i];
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	p99 = (n * 99 + 99) / 100 - 1;
	printf("n=%zu median_us=%.1f p99_us=%.1f mean_us=%.1f min_us=%.1f max_us=%.1f\n", n,
	       (n % 2) ? lat[n / 2] : (lat[n / 2 - 1] + lat[n / 2]) / 2, lat[p99], sum / (double)n,
	       lat[0], lat[n - 1]);
	free(lat);
	return 0;
}

static int cmd_hold(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n;
	int *fds, secs = 60;
	struct pollfd in = {.fd = 0, .events = POLLIN};

	if (argc != 5 && argc != 6)
		usage();
	if (!make_addr(argv[2], (unsigned)parse_num(argv[3], 65535), &ss, &len))
		usage();
	n = (size_t)parse_num(argv[4], MAX_HELD);
	if (argc == 6)
		secs = (int)parse_num(argv[5], 3600);
	raise_nofile();
	fds = calloc(n, sizeof(*fds));
	if (fds == NULL)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		char c;

		fds[i] = dial(&ss, len);
		write_all(fds[i], "H", 1);
		/* The answer proves the connection reached the server. */
		if (read_upto(fds[i], &c, 1) != 1 || c != 'h') {
			fprintf(stderr, "tcpbench: hold: connection %zu not answered\n", i);
			return 1;
		}
	}
	printf("held=%zu\n", n);
	fflush(stdout);
	/* Until stdin ends (or anything arrives on it), or the time is up. */
	while (poll(&in, 1, secs * 1000) < 0 && errno == EINTR)
		;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

static int cmd_call(int argc, char **argv)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	char reply[4096];
	ssize_t r;
	int fd;

	if (argc != 4 || strlen(argv[2]) >= sizeof(un.sun_path))
		usage();
	strcpy(un.sun_path, argv[2]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0)
		die("connect");
	write_all(fd, argv[3], strlen(argv[3]));
	shutdown(fd, SHUT_WR);
	r = read_upto(fd, reply, sizeof(reply) - 1);
	close(fd);
	if (r < 0)
		die("read");
	reply[r] = '\0';
	printf("%s\n", reply);
	return strstr(reply, "error") != NULL || r == 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc, argv);
	if (strcmp(argv[1], "rr") == 0)
		return cmd_rr(argc, argv);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc, argv);
	if (strcmp(argv[1], "call") == 0)
		return cmd_call(argc, argv);
	usage();
}
