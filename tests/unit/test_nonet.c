/* The stand-ins for libgit2's network parts (src/nonet.c, src/nossh.c),
 * in the binary as wtbox links it: libgit2 initialises; connecting to an
 * SSH remote fails at once with libgit2's own error instead of reaching
 * an SSH implementation; an HTTPS remote fails with nonet.c's message
 * instead of reaching a TLS stream that was never set up (a libgit2
 * whose internal names changed fails here, not in a user's run). The
 * SSH server is a loopback listener that never answers: the TCP connect
 * succeeds, so the failure is the session's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <git2.h>

#include "util.h"

#include "tap.h"

static int listen_loopback(unsigned *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Connect to `url` (freed here): it must fail with `want` in libgit2's
 * message. */
static void try_remote(char *url, const char *want, const char *what)
{
	git_remote *remote = NULL;
	const git_error *e;
	int r = git_remote_create_detached(&remote, url);

	ok(r == 0, "a detached remote for '%s'", url);
	r = remote ? git_remote_connect(remote, GIT_DIRECTION_FETCH, NULL, NULL, NULL) : 0;
	e = git_error_last();
	ok(r < 0, "connecting to '%s' fails (%d)", url, r);
	has_str(e != NULL ? e->message : "", want, "%s", what);
	git_remote_free(remote);
	free(url);
}

int main(void)
{
	int r = git_libgit2_init(), fd;
	unsigned port = 0;

	ok(r > 0, "git_libgit2_init succeeds (%d)", r);
	fd = listen_loopback(&port);
	if (fd < 0) {
		ok(false, "a loopback listener");
		return done_testing();
	}
	try_remote(xasprintf("ssh://git@127.0.0.1:%u/x.git", port),
		   "failed to initialize SSH session",
		   "with libgit2's message for a session that could not be made");
	/* With the listener closed: a TLS stream made by libgit2's own code
	 * would get "connection refused" instead of hanging in a handshake. */
	close(fd);
	try_remote(xasprintf("https://127.0.0.1:%u/x.git", port), "TLS is not built into wtbox",
		   "with wtbox's message for a TLS stream");
	r = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, "/etc/ssl/certs/ca-certificates.crt",
			     NULL);
	ok(r < 0, "setting the CA locations fails (%d)", r);
	git_libgit2_shutdown();
	return done_testing();
}
