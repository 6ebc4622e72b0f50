/* Messages between the supervisor and the sandbox's init, over a
 * SOCK_SEQPACKET socketpair: one message per packet, never split. */
#ifndef WTBOX_CHANNEL_H
#define WTBOX_CHANNEL_H

#include <stdint.h>

#include "error.h"

typedef enum wtb_msg_type {
	WTB_MSG_GO = 1,	  /* supervisor -> init: id maps are written, go on */
	WTB_MSG_ERROR,	  /* init -> supervisor: setup failed (errnum, status, text) */
	WTB_MSG_STARTED,  /* init -> supervisor: the command was executed */
	WTB_MSG_EXIT,	  /* init -> supervisor: the command ended (value: wait status) */
	WTB_MSG_TERM_ALL, /* supervisor -> init: SIGTERM every process of the sandbox */
	WTB_MSG_PTY,	  /* init -> supervisor: the master of the sandbox's pty (fd) */
	WTB_MSG_NOTIFY,	  /* command -> supervisor: its seccomp listener (fd) */
} wtb_msg_type;

typedef struct wtb_msg {
	int32_t type;
	int32_t value;
	int32_t errnum;
	int32_t status;
	char text[1024];
} wtb_msg;

int msg_send(int fd, wtb_msg_type type, int value);
/* Send an error; the supervisor rebuilds it with msg_to_error(). */
int msg_send_error(int fd, const wtb_error *err);
/* Send a message carrying an open fd (SCM_RIGHTS). */
int msg_send_fd(int fd, wtb_msg_type type, int passed);
/* 0 on a message, -1 on end of stream or error. A passed fd lands in
 * *passed (close-on-exec), or is closed when passed is NULL. */
int msg_recv(int fd, wtb_msg *m);
int msg_recv_fd(int fd, wtb_msg *m, int *passed);
int msg_to_error(const wtb_msg *m, wtb_error **err);

#endif
