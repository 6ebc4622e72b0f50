#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void pty_prepare(wtb_pty *p)
{
	int ref = -1;

	memset(p, 0, sizeof(*p));
	p->master = p->slave = p->host_in = p->host_out = p->out_flags = -1;
	for (int fd = 0; fd < 3; fd++) {
		p->is_tty[fd] = isatty(fd) == 1;
		if (p->is_tty[fd] && ref < 0)
			ref = fd;
	}
	if (ref < 0)
		return;
	p->wanted = true;
	p->have_termios = tcgetattr(ref, &p->saved) == 0;
	p->have_ws = ioctl(ref, TIOCGWINSZ, &p->ws) == 0;
	p->host_in = p->is_tty[0] ? 0 : -1;
	p->host_out = p->is_tty[1] ? 1 : (p->is_tty[2] ? 2 : -1);
}

int pty_create(wtb_pty *p, int *master, wtb_error **err)
{
	_cleanup_close_ int m = -1;

	*master = -1;
	if (!p->wanted)
		return 0;
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || unlockpt(m) < 0)
		return wtb_error_errno(err, "cannot create the sandbox's terminal");
	p->slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		return wtb_error_errno(err, "cannot open the sandbox's terminal");
	/* The new terminal starts as the user's: same modes, same size. */
	if (p->have_termios)
		tcsetattr(p->slave, TCSANOW, &p->saved);
	if (p->have_ws)
		ioctl(p->slave, TIOCSWINSZ, &p->ws);
	*master = steal_fd(m);
	return 0;
}

int pty_init_stdio(const wtb_pty *p, wtb_error **err)
{
	if (p->slave < 0)
		return 0;
	for (int fd = 0; fd < 3; fd++)
		if (p->is_tty[fd] && dup2(p->slave, fd) < 0)
			return wtb_error_errno(err, "cannot attach the sandbox's terminal");
	return 0;
}

int pty_command_setup(const wtb_pty *p, wtb_error **err)
{
	if (setsid() < 0)
		return wtb_error_errno(err, "cannot start a session");
	if (p->slave >= 0 && ioctl(p->slave, TIOCSCTTY, 0) < 0)
		return wtb_error_errno(err, "cannot set the controlling terminal");
	return 0;
}

int pty_start(wtb_pty *p, int master, wtb_error **err)
{
	struct termios raw;

	p->master = master;
	p->master_open = true;
	p->buf = xmalloc(WTB_PTY_BUF);
	fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
	/* The user's terminal is shared with the shell that started wtbox:
	 * its flags are put back in pty_restore(). */
	if (p->host_out >= 0) {
		p->out_flags = fcntl(p->host_out, F_GETFL);
		if (p->out_flags >= 0)
			fcntl(p->host_out, F_SETFL, p->out_flags | O_NONBLOCK);
	}
	if (p->host_in < 0 || !p->have_termios)
		return 0;
	raw = p->saved;
	cfmakeraw(&raw);
	if (tcsetattr(p->host_in, TCSADRAIN, &raw) < 0)
		return wtb_error_errno(err, "cannot set the terminal to raw mode");
	p->raw = true;
	return 0;
}

/* Write what is buffered, as far as the terminal takes it now. */
static void flush_out(wtb_pty *p)
{
	while (p->len > 0) {
		ssize_t w = p->host_out >= 0 ? write(p->host_out, p->buf, p->len) : -1;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			p->len = 0; /* nowhere to write: the output is dropped */
			return;
		}
		memmove(p->buf, p->buf + w, p->len - (size_t)w);
		p->len -= (size_t)w;
	}
}

/* One read into the buffer: a command printing without pause must not
 * keep the supervisor from its signals and its timer. Returns false when
 * nothing more can come now. */
static bool read_master(wtb_pty *p)
{
	ssize_t n;

	if (p->len == WTB_PTY_BUF)
		return false;
	do
		n = read(p->master, p->buf + p->len, WTB_PTY_BUF - p->len);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		p->len += (size_t)n;
		return true;
	}
	/* EIO: every holder of the slave is gone. */
	if (n == 0 || errno != EAGAIN)
		p->master_open = false;
	return false;
}

unsigned pty_master_events(const wtb_pty *p)
{
	return p->master >= 0 && p->master_open && p->len < WTB_PTY_BUF ? EPOLLIN : 0;
}

unsigned pty_out_events(const wtb_pty *p)
{
	return p->host_out >= 0 && p->len > 0 ? EPOLLOUT : 0;
}

void pty_relay(wtb_pty *p, int fd)
{
	char buf[4096];
	ssize_t n;

	if (fd == p->master || fd == p->host_out) {
		if (fd == p->master)
			read_master(p);
		flush_out(p);
		return;
	}
	if (fd != p->host_in)
		return;
	n = read(p->host_in, buf, sizeof(buf));
	/* The master is non-blocking: when the command does not read its
	 * terminal and the queue is full, keystrokes are dropped rather than
	 * wtbox hanging. */
	if (n > 0)
		(void)write_all(p->master, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		p->host_in = -1; /* the caller stops watching it */
}

void pty_drain(wtb_pty *p)
{
	struct pollfd out = {.fd = p->host_out, .events = POLLOUT};

	if (p->master < 0)
		return;
	/* Every process of the sandbox is gone: what is left is finite. A
	 * terminal that takes nothing for a second is given up on. */
	for (;;) {
		while (read_master(p))
			;
		flush_out(p);
		if (p->len == 0)
			return;
		if (poll(&out, 1, 1000) <= 0)
			return;
	}
}

void pty_resize(const wtb_pty *p)
{
	struct winsize ws;
	int ref = p->host_out >= 0 ? p->host_out : p->host_in;

	if (p->master < 0 || ref < 0)
		return;
	if (ioctl(ref, TIOCGWINSZ, &ws) == 0)
		ioctl(p->master, TIOCSWINSZ, &ws);
}

void pty_restore(wtb_pty *p)
{
	if (p->out_flags >= 0) {
		fcntl(p->host_out, F_SETFL, p->out_flags);
		p->out_flags = -1;
	}
	if (p->raw) {
		/* Answers to terminal queries the command sent last would
		 * otherwise be typed into the user's shell. */
		tcflush(0, TCIFLUSH);
		tcsetattr(0, TCSADRAIN, &p->saved);
		p->raw = false;
	}
}

void pty_close(wtb_pty *p)
{
	pty_restore(p);
	free(p->buf);
	p->buf = NULL;
	closep(&p->master);
	closep(&p->slave);
}
