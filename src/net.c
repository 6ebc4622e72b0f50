#include "net.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports.h"
#include "util.h"

int net_loopback_up(wtb_error **err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (fd < 0)
		return wtb_error_errno(err, "cannot bring up 'lo'");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return wtb_error_errno(err, "cannot bring up 'lo'");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return wtb_error_errno(err, "cannot bring up 'lo'");
	return 0;
}

int netmsg_send(int chan, const wtb_netmsg *m, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WTB_NET_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > WTB_NET_MAX_FDS)
		return -1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(chan, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

int netmsg_recv(int chan, wtb_netmsg *m, int *fds, size_t *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WTB_NET_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += k;
	}
	if (n != (ssize_t)sizeof(*m) || (mh.msg_flags & MSG_CTRUNC)) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return n < 0 && errno == EAGAIN ? 1 : -1;
	}
	return 0;
}

int net_serve(int chan)
{
	int fds[WTB_NET_MAX_FDS];
	wtb_netmsg m;
	size_t n = 0, got;
	int r;

	r = netmsg_recv(chan, &m, fds, &got);
	if (r != 0)
		return r < 0 ? -1 : 0;
	for (size_t i = 0; i < got; i++)
		close(fds[i]);
	if (m.kind != WTB_NET_SOCKETS || (m.family != AF_INET && m.family != AF_INET6))
		return 0;
	while (n < (size_t)m.count && n < WTB_NET_MAX_FDS) {
		int fd = socket(m.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	m.count = (int32_t)n;
	netmsg_send(chan, &m, fds, n);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

int net_send_listeners(int chan, const uint16_t *ports, size_t n, wtb_error **err)
{
	for (size_t i = 0; i < n; i++) {
		static const int families[] = {AF_INET, AF_INET6};

		for (size_t k = 0; k < ARRAY_SIZE(families); k++) {
			wtb_netmsg m = {
			    .kind = WTB_NET_LISTENER, .family = families[k], .port = ports[i]};
			_cleanup_close_ int fd = -1;

			if (port_listen_loopback(families[k], ports[i], &fd) < 0) {
				/* No IPv6 inside: 127.0.0.1 alone. */
				if (families[k] == AF_INET6)
					continue;
				return wtb_error_errno(err, "cannot listen on 127.0.0.1:%u inside",
						       ports[i]);
			}
			if (netmsg_send(chan, &m, &fd, 1) < 0)
				return wtb_error_errno(err, "cannot pass a listener to wtbox");
		}
	}
	return 0;
}
