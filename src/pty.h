/* The command's terminal: when wtbox runs on a terminal, the command gets
 * a new pty of the sandbox's own devpts (so ttyname() works inside) and the
 * supervisor relays between it and the user's terminal. The host's terminal
 * never enters the sandbox, so TIOCSTI inside can only type into the
 * sandbox's own pty. */
#ifndef WTBOX_PTY_H
#define WTBOX_PTY_H

#include <stdbool.h>
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
} wtb_pty;

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
/* Supervisor: copy data for a ready fd; host window size into the pty. */
void pty_relay(wtb_pty *p, int fd);
void pty_drain(wtb_pty *p);
void pty_resize(const wtb_pty *p);
/* Supervisor: the host terminal as it was. Safe to call more than once. */
void pty_restore(wtb_pty *p);
void pty_close(wtb_pty *p);

#endif
