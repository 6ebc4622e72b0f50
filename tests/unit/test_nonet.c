/* The stand-ins for libgit2's network parts (src/nonet.c, src/nossh.c),
 * in the binary as wtbox links it: libgit2 initialises, and connecting to
 * an SSH remote fails at once with libgit2's own error instead of reaching an
 * SSH implementation. The SSH server is a loopback listener that never
 * answers: the TCP connect succeeds, so the failure is the session's. */
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
	{
		_cleanup_free_ char *url = xasprintf("ssh://git@127.0.0.1:%u/x.git", port);
		git_remote *remote = NULL;
		const git_error *e;

		r = git_remote_create_detached(&remote, url);
		ok(r == 0, "a detached remote for '%s'", url);
		r = remote ? git_remote_connect(remote, GIT_DIRECTION_FETCH, NULL, NULL, NULL) : 0;
		e = git_error_last();
		ok(r < 0, "connecting to an SSH remote fails (%d)", r);
		has_str(e != NULL ? e->message : "", "failed to initialize SSH session",
			"with libgit2's message for a session that could not be made");
		git_remote_free(remote);
	}
	close(fd);
	git_libgit2_shutdown();
	return done_testing();
}
