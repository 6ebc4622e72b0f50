/* The command's terminal: when wtbox runs on a terminal, the command gets
 * a new pty of the sandbox's own devpts (so ttyname() works inside) and the
 * supervisor relays between it and the user's terminal. The host's terminal
 * never enters the sandbox, so TIOCSTI inside can only type into the
 * sandbox's own pty. */
#ifndef WTBOX_PTY_H
#define WTBOX_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "error.h"

typedef struct wtb_pty {
	bool wanted;	/* one of stdin/stdout/stderr is a terminal */
	bool is_tty[3]; /* which ones */
	struct termios saved;
	bool have_termios;
	struct winsize ws;
	bool have_ws;
	int master;	  /* supervisor: received from init; -1 until then */
	int slave;	  /* init: the command's side */
	int host_in;	  /* host terminal relayed into the pty, or -1 */
	int host_out;	  /* host terminal the pty's output goes to, or -1 */
	bool raw;	  /* host_in was switched to raw mode */
	bool master_open; /* still reading the pty's output */
	int out_flags;	  /* host_out's file status flags before (-1: untouched) */
	char *buf;	  /* output on its way to host_out */
	size_t len;
} wtb_pty;

/* Output waiting for the user's terminal, at most. When it is full, the
 * relay stops reading the pty, and the command waits on its own writes:
 * nothing is lost, and wtbox stays free for signals and the timeout. */
#define WTB_PTY_BUF (64 * 1024)

/* Supervisor, before clone: which std fds are terminals, and their modes
 * and size (the child inherits this struct). */
void pty_prepare(wtb_pty *p);
/* Init, after the mounts: open a pty of the new devpts with the user's
 * modes and size; the master goes to the supervisor (*master), the slave
 * stays. */
int pty_create(wtb_pty *p, int *master, wtb_error **err);
/* Init: put the slave where the host's terminal was (0/1/2). */
int pty_init_stdio(const wtb_pty *p, wtb_error **err);
/* Command, before exec: a session of its own with the pty as its
 * controlling terminal. */
int pty_command_setup(const wtb_pty *p, wtb_error **err);

/* Supervisor: take the master, put the host terminal in raw mode (keys go
 * to the command's terminal, ^C included). */
int pty_start(wtb_pty *p, int master, wtb_error **err);
/* Supervisor: move data for a ready fd (the master, host_in or host_out),
 * without ever blocking; host window size into the pty. */
void pty_relay(wtb_pty *p, int fd);
/* The epoll events the relay wants now on the master and on host_out. */
unsigned pty_master_events(const wtb_pty *p);
unsigned pty_out_events(const wtb_pty *p);
void pty_drain(wtb_pty *p);
void pty_resize(const wtb_pty *p);
/* Supervisor: the host terminal as it was. Safe to call more than once. */
void pty_restore(wtb_pty *p);
void pty_close(wtb_pty *p);

#endif
