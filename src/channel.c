#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

int msg_recv(int fd, wtb_msg *m)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -1;
	m->text[sizeof(m->text) - 1] = '\0';
	return 0;
}

int msg_to_error(const wtb_msg *m, wtb_error **err)
{
	wtb_error_set(err, m->errnum, "%s", m->text);
	(*err)->status = m->status;
	return -1;
}
