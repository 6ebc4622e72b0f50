/* The command's terminal: when wtbox runs on a terminal, the command gets
 * a new pty of its own and wtbox relays between the two. The host's
 * terminal never enters the sandbox, so TIOCSTI inside can only type into
 * the sandbox's own pty. */
#ifndef WTBOX_PTY_H
#define WTBOX_PTY_H

#include <stdbool.h>
#include <termios.h>

#include "error.h"

typedef struct wtb_pty {
	int master;	/* -1: no pty (no std fd is a terminal) */
	int slave;	/* the command's side; closed by the supervisor after clone */
	bool is_tty[3]; /* which of stdin/stdout/stderr are terminals */
	int host_in;	/* host terminal relayed into the pty, or -1 */
	int host_out;	/* host terminal the pty's output goes to, or -1 */
	bool raw;	/* host_in was switched to raw mode */
	struct termios saved;
	bool master_open; /* still reading the pty's output */
} wtb_pty;

/* Supervisor, before clone. */
int pty_open(wtb_pty *p, wtb_error **err);
/* Supervisor, after clone: drop the slave, put the host terminal in raw
 * mode (keys go to the command's terminal, ^C included). */
int pty_start(wtb_pty *p, wtb_error **err);
/* Supervisor: copy data for a ready fd; host window size into the pty. */
void pty_relay(wtb_pty *p, int fd);
void pty_drain(wtb_pty *p);
void pty_resize(const wtb_pty *p);
/* Supervisor: the host terminal as it was. Safe to call more than once. */
void pty_restore(wtb_pty *p);
void pty_close(wtb_pty *p);

/* Sandbox init: put the slave where the host's terminal was (0/1/2). */
int pty_init_stdio(const wtb_pty *p, wtb_error **err);
/* Command, before exec: a session of its own with the pty as its
 * controlling terminal. */
int pty_command_setup(const wtb_pty *p, wtb_error **err);

#endif
