#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int msg_send(int fd, wtb_msg_type type, int value)
{
	wtb_msg m = {.type = (int32_t)type, .value = value};
	ssize_t n;

	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int msg_send_error(int fd, const wtb_error *err)
{
	wtb_msg m = {.type = WTB_MSG_ERROR, .errnum = err->errnum, .status = err->status};
	ssize_t n;

	snprintf(m.text, sizeof(m.text), "%s", err->msg);
	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int msg_send_fd(int fd, wtb_msg_type type, int passed)
{
	wtb_msg m = {.type = (int32_t)type};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passed, sizeof(int));
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int msg_recv_fd(int fd, wtb_msg *m, int *passed)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	int got = -1;
	ssize_t n;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (passed != NULL)
		*passed = got;
	else if (got >= 0)
		close(got);
	if (n != (ssize_t)sizeof(*m)) {
		if (passed != NULL && got >= 0) {
			close(got);
			*passed = -1;
		}
		return -1;
	}
	m->text[sizeof(m->text) - 1] = '\0';
	return 0;
}

int msg_recv(int fd, wtb_msg *m)
{
	return msg_recv_fd(fd, m, NULL);
}

int msg_to_error(const wtb_msg *m, wtb_error **err)
{
	wtb_error_set(err, m->errnum, "%s", m->text);
	(*err)->status = m->status;
	return -1;
}
