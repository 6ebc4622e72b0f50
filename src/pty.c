#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void pty_prepare(wtb_pty *p)
{
	int ref = -1;

	memset(p, 0, sizeof(*p));
	p->master = p->slave = p->host_in = p->host_out = -1;
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
	fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
	if (p->host_in < 0 || !p->have_termios)
		return 0;
	raw = p->saved;
	cfmakeraw(&raw);
	if (tcsetattr(p->host_in, TCSADRAIN, &raw) < 0)
		return wtb_error_errno(err, "cannot set the terminal to raw mode");
	p->raw = true;
	return 0;
}

/* One read: a command printing without pause must not keep the
 * supervisor from its signals and timer. Returns false when nothing more
 * can come now. */
static bool copy_out(wtb_pty *p)
{
	char buf[16384];
	ssize_t n;

	do
		n = read(p->master, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (p->host_out >= 0)
			(void)write_all(p->host_out, buf, (size_t)n);
		return true;
	}
	/* EIO: every holder of the slave is gone. */
	if (n == 0 || errno != EAGAIN)
		p->master_open = false;
	return false;
}

void pty_relay(wtb_pty *p, int fd)
{
	char buf[4096];
	ssize_t n;

	if (fd == p->master) {
		(void)copy_out(p);
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
	/* Every process of the sandbox is gone: what is left is finite. */
	while (p->master >= 0 && p->master_open && copy_out(p))
		;
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
	closep(&p->master);
	closep(&p->slave);
}
