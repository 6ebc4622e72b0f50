#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

/* Sockets asked of init at a time, and the level below which more are
 * asked for before they run out. */
#define POOL_BATCH 16
#define POOL_LOW   4
/* Pipes kept for reuse, their size, and connections accepted per wake-up
 * of one listener (the others get their turn). A pipe is held by a
 * direction of a connection only while bytes are in it: idle connections
 * cost two fds, and the user's pipe memory (the kernel limits it per user)
 * goes where data moves. */
#define PIPES_KEPT   16
#define PIPE_SIZE    (1 << 20)
#define ACCEPT_BURST 64
#define EVENTS	     64

/* What an epoll event points at: the first member of each of these. */
typedef enum item_kind { ITEM_CHAN, ITEM_LISTENER, ITEM_END } item_kind;

struct fwd_listener {
	item_kind kind;
	int fd;
	bool inbound;  /* host listener: connections go into the sandbox */
	uint16_t port; /* where they go */
};

typedef struct fwd_end {
	item_kind kind;
	fwd_conn *conn;
	unsigned ev; /* events watched; 0 and !watched: not in the epoll */
	bool watched;
	bool hup; /* reported EPOLLHUP: never watched again */
} fwd_end;

typedef enum conn_state { CONN_WAITING, CONN_DIALING, CONN_RELAY } conn_state;

/* fd[0] is the side that connected to us (accepted), fd[1] the side we
 * dialed. Direction d carries what is read from fd[d] through pipe[d] to
 * fd[!d]. */
struct fwd_conn {
	fwd_end end[2];
	int fd[2];
	int pipe[2][2];
	size_t queued[2];
	bool eof[2];  /* fd[d] has nothing more to read */
	bool shut[2]; /* fd[!d] was shut for writing after direction d ended */
	conn_state state;
	bool inbound;
	uint16_t port;
	int family_ix; /* 0: dialing 127.0.0.1, 1: dialing ::1 */
	bool dead;     /* ended: its fds are closed, events for it are stale */
	fwd_conn *next_waiting;
	fwd_conn *prev, *next;
};

static const item_kind chan_kind = ITEM_CHAN;

/* ------------------------------------------------------------------ */

static void set_events(wtb_forward *f, fwd_end *e, int fd, unsigned want)
{
	struct epoll_event ev = {.events = want, .data.ptr = e};

	if (e->hup || (e->watched && e->ev == want))
		return;
	if (!e->watched) {
		if (want == 0)
			return;
		if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) == 0)
			e->watched = true;
	} else if (want == 0) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, fd, NULL);
		e->watched = false;
	} else {
		epoll_ctl(f->ep, EPOLL_CTL_MOD, fd, &ev);
	}
	e->ev = want;
}

static void unwatch_end(wtb_forward *f, fwd_end *e, int fd)
{
	if (e->watched && fd >= 0)
		epoll_ctl(f->ep, EPOLL_CTL_DEL, fd, NULL);
	e->watched = false;
	e->ev = 0;
}

static void put_pipe(wtb_forward *f, int p[2], bool empty)
{
	if (p[0] < 0)
		return;
	if (empty && f->npipes < PIPES_KEPT) {
		f->pipes[f->npipes][0] = p[0];
		f->pipes[f->npipes][1] = p[1];
		f->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

static int get_pipe(wtb_forward *f, int p[2])
{
	if (f->npipes > 0) {
		f->npipes--;
		p[0] = f->pipes[f->npipes][0];
		p[1] = f->pipes[f->npipes][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	/* Fewer, larger splices: half the supervisor's CPU per byte. Past
	 * the user's pipe memory limit this fails and the default stays. */
	fcntl(p[0], F_SETPIPE_SZ, PIPE_SIZE);
	return 0;
}

/* Close a socket so that its peer sees a reset rather than an orderly
 * end: for errors and refusals. */
static void close_reset(int *fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	closep(fd);
}

static void conn_unwait(wtb_forward *f, fwd_conn *c)
{
	for (int k = 0; k < 2; k++) {
		fwd_conn **pp = &f->waiting[k], *prev = NULL;

		for (; *pp != NULL; prev = *pp, pp = &(*pp)->next_waiting)
			if (*pp == c) {
				*pp = c->next_waiting;
				if (f->waiting_tail[k] == c)
					f->waiting_tail[k] = prev;
				c->next_waiting = NULL;
				return;
			}
	}
}

/* End a connection: its fds are closed now, its memory at the end of the
 * dispatch (an event for it may still be in the batch). */
static void conn_free(wtb_forward *f, fwd_conn *c, bool reset)
{
	if (c->dead)
		return;
	if (c->state == CONN_WAITING)
		conn_unwait(f, c);
	for (int i = 0; i < 2; i++) {
		unwatch_end(f, &c->end[i], c->fd[i]);
		if (reset)
			close_reset(&c->fd[i]);
		else
			closep(&c->fd[i]);
		put_pipe(f, c->pipe[i], c->queued[i] == 0 && !reset);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->dead = true;
	c->prev = NULL;
	c->next = f->dead;
	f->dead = c;
}

static void free_dead(wtb_forward *f)
{
	while (f->dead != NULL) {
		fwd_conn *c = f->dead;

		f->dead = c->next;
		free(c);
	}
}

/* ------------------------------------------------------------------ */
/* Relay.                                                              */

/* Move what can be moved in direction d without blocking. The pipe is
 * filled only when empty: a pipe can be full with fewer bytes than its
 * size (one slot per segment), and reading into it only when it is empty
 * never mistakes "full" for "nothing to read". False: the connection
 * failed. */
static bool pump(wtb_forward *f, fwd_conn *c, int d)
{
	for (int round = 0; round < 64; round++) {
		bool progress = false;
		ssize_t n;

		if (!c->eof[d] && c->queued[d] == 0) {
			if (c->pipe[d][0] < 0 && get_pipe(f, c->pipe[d]) < 0)
				return false;
			n = splice(c->fd[d], NULL, c->pipe[d][1], NULL, 1 << 20,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				c->queued[d] += (size_t)n;
				progress = true;
			} else if (n == 0) {
				c->eof[d] = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return false;
			}
		}
		if (c->queued[d] > 0) {
			n = splice(c->pipe[d][0], NULL, c->fd[!d], NULL, c->queued[d],
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				c->queued[d] -= (size_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return false;
			}
		}
		if (c->queued[d] == 0)
			put_pipe(f, c->pipe[d], true);
		/* Half-close passes through: the end of one direction is a
		 * shutdown of the other side's writing, nothing more. */
		if (c->eof[d] && c->queued[d] == 0 && !c->shut[d]) {
			if (shutdown(c->fd[!d], SHUT_WR) < 0 && errno != ENOTCONN)
				return false;
			c->shut[d] = true;
		}
		if (!progress)
			break;
	}
	return true;
}

static void relay(wtb_forward *f, fwd_conn *c)
{
	if (!pump(f, c, 0) || !pump(f, c, 1)) {
		conn_free(f, c, true);
		return;
	}
	if (c->shut[0] && c->shut[1]) {
		conn_free(f, c, false);
		return;
	}
	for (int i = 0; i < 2; i++) {
		unsigned want = 0;

		if (!c->eof[i] && c->queued[i] == 0)
			want |= EPOLLIN;
		if (c->queued[!i] > 0)
			want |= EPOLLOUT;
		set_events(f, &c->end[i], c->fd[i], want);
	}
}

static void start_relay(wtb_forward *f, fwd_conn *c)
{
	int one = 1;

	setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CONN_RELAY;
	relay(f, c);
}

/* ------------------------------------------------------------------ */
/* Dialing.                                                            */

static void request_sockets(wtb_forward *f, int k)
{
	wtb_netmsg m = {
	    .kind = WTB_NET_SOCKETS, .family = k == 0 ? AF_INET : AF_INET6, .count = POOL_BATCH};

	if (f->requested[k] > 0 || f->no_family[k] || f->chan < 0)
		return;
	if (netmsg_send(f->chan, &m, NULL, 0) == 0)
		f->requested[k] = POOL_BATCH;
}

static int take_socket(wtb_forward *f, int k)
{
	int fd;

	if (f->npool[k] == 0)
		return -1;
	fd = f->pool[k][--f->npool[k]];
	if (f->npool[k] < POOL_LOW)
		request_sockets(f, k);
	return fd;
}

static void dial(wtb_forward *f, fwd_conn *c);

static void dial_failed(wtb_forward *f, fwd_conn *c)
{
	unwatch_end(f, &c->end[1], c->fd[1]);
	closep(&c->fd[1]);
	c->end[1].hup = false;
	if (c->family_ix == 0) {
		c->family_ix = 1;
		dial(f, c);
		return;
	}
	/* Nothing listens inside (or on the host): the client learns it at
	 * once, as a reset. */
	conn_free(f, c, true);
}

static void wait_for_socket(wtb_forward *f, fwd_conn *c)
{
	int k = c->family_ix;

	c->state = CONN_WAITING;
	c->next_waiting = NULL;
	if (f->waiting_tail[k] != NULL)
		f->waiting_tail[k]->next_waiting = c;
	else
		f->waiting[k] = c;
	f->waiting_tail[k] = c;
	request_sockets(f, k);
}

static void dial(wtb_forward *f, fwd_conn *c)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} a;
	socklen_t len;
	int k = c->family_ix, fd;

	if (c->inbound) {
		if (f->no_family[k]) {
			dial_failed(f, c);
			return;
		}
		fd = take_socket(f, k);
		if (fd < 0) {
			wait_for_socket(f, c);
			return;
		}
	} else {
		fd = socket(k == 0 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0) {
			dial_failed(f, c);
			return;
		}
	}
	c->fd[1] = fd;
	memset(&a, 0, sizeof(a));
	if (k == 0) {
		a.v4.sin_family = AF_INET;
		a.v4.sin_port = htons(c->port);
		a.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a.v4);
	} else {
		a.v6.sin6_family = AF_INET6;
		a.v6.sin6_port = htons(c->port);
		a.v6.sin6_addr = in6addr_loopback;
		len = sizeof(a.v6);
	}
	if (connect(fd, (struct sockaddr *)&a, len) == 0) {
		start_relay(f, c);
	} else if (errno == EINPROGRESS) {
		c->state = CONN_DIALING;
		set_events(f, &c->end[1], fd, EPOLLOUT);
	} else {
		dial_failed(f, c);
	}
}

static void on_dialed(wtb_forward *f, fwd_conn *c)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
		dial_failed(f, c);
		return;
	}
	start_relay(f, c);
}

/* ------------------------------------------------------------------ */
/* Accepting.                                                          */

/* Out of fds: refuse one connection so that the listener does not stay
 * readable for ever. */
static void refuse_one(wtb_forward *f, int lfd)
{
	int fd;

	closep(&f->reserve);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close_reset(&fd);
	f->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(wtb_forward *f, fwd_listener *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		fwd_conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				refuse_one(f, l->fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xcalloc(1, sizeof(*c));
		for (int k = 0; k < 2; k++) {
			c->end[k] = (fwd_end){.kind = ITEM_END, .conn = c};
			c->pipe[k][0] = c->pipe[k][1] = -1;
		}
		c->fd[0] = fd;
		c->fd[1] = -1;
		c->inbound = l->inbound;
		c->port = l->port;
		c->next = f->conns;
		if (f->conns != NULL)
			f->conns->prev = c;
		f->conns = c;
		dial(f, c);
	}
}

static void add_listener(wtb_forward *f, int fd, bool inbound, uint16_t port)
{
	fwd_listener *l;
	struct epoll_event ev = {.events = EPOLLIN};

	/* Listeners never move once added: the array is allocated for all of
	 * them up front (see forward_start). */
	l = &f->listeners[f->nlisteners++];
	*l = (fwd_listener){.kind = ITEM_LISTENER, .fd = fd, .inbound = inbound, .port = port};
	ev.data.ptr = l;
	epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ------------------------------------------------------------------ */
/* The channel to init.                                                */

static void pool_push(wtb_forward *f, int k, int fd)
{
	if (f->npool[k] == f->cap_pool[k]) {
		f->cap_pool[k] = f->cap_pool[k] * 2 + POOL_BATCH;
		f->pool[k] = xrealloc(f->pool[k], f->cap_pool[k] * sizeof(int));
	}
	f->pool[k][f->npool[k]++] = fd;
}

static void give_sockets(wtb_forward *f, int k, const int *fds, size_t n)
{
	size_t used = 0;

	if (n == 0)
		f->no_family[k] = true;
	/* Waiting connections first, in the order they came. */
	while (f->waiting[k] != NULL && used < n) {
		fwd_conn *c = f->waiting[k];

		f->waiting[k] = c->next_waiting;
		if (f->waiting[k] == NULL)
			f->waiting_tail[k] = NULL;
		c->next_waiting = NULL;
		c->fd[1] = -1;
		/* Put the socket where dial() will find it. */
		pool_push(f, k, fds[used++]);
		c->state = CONN_DIALING;
		dial(f, c);
	}
	for (; used < n; used++)
		pool_push(f, k, fds[used]);
	/* No sockets of this family: whoever waits for one fails. */
	while (f->no_family[k] && f->waiting[k] != NULL) {
		fwd_conn *c = f->waiting[k];

		f->waiting[k] = c->next_waiting;
		if (f->waiting[k] == NULL)
			f->waiting_tail[k] = NULL;
		c->state = CONN_DIALING;
		dial_failed(f, c);
	}
	if (f->waiting[k] != NULL || f->npool[k] < POOL_LOW)
		request_sockets(f, k);
}

static void on_chan(wtb_forward *f)
{
	for (int i = 0; i < 16; i++) {
		int fds[WTB_NET_MAX_FDS];
		wtb_netmsg m;
		size_t n;
		int r = netmsg_recv(f->chan, &m, fds, &n), k;

		if (r > 0)
			return;
		if (r < 0) {
			/* init is gone: so is the sandbox; nothing more to dial. */
			epoll_ctl(f->ep, EPOLL_CTL_DEL, f->chan, NULL);
			closep(&f->chan);
			for (k = 0; k < 2; k++) {
				f->no_family[k] = true;
				give_sockets(f, k, NULL, 0);
			}
			return;
		}
		k = m.family == AF_INET6 ? 1 : 0;
		if (m.kind == WTB_NET_SOCKETS) {
			f->requested[k] = 0;
			give_sockets(f, k, fds, n);
		} else if (m.kind == WTB_NET_LISTENER && n == 1 && m.port > 0 && m.port < 65536 &&
			   f->nlisteners < f->cap_listeners) {
			add_listener(f, fds[0], false, (uint16_t)m.port);
		} else {
			for (size_t j = 0; j < n; j++)
				close(fds[j]);
		}
	}
}

/* ------------------------------------------------------------------ */

int forward_start(wtb_forward *f, int chan, wtb_listener *listeners, size_t n, size_t ninside,
		  wtb_error **err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)&chan_kind};

	f->ep = epoll_create1(EPOLL_CLOEXEC);
	f->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (f->ep < 0 || f->reserve < 0)
		return wtb_error_errno(err, "cannot start the port forwarder");
	f->chan = chan;
	if (epoll_ctl(f->ep, EPOLL_CTL_ADD, chan, &ev) < 0)
		return wtb_error_errno(err, "cannot start the port forwarder");
	f->cap_listeners = 2 * n + 2 * ninside;
	f->listeners = xcalloc(f->cap_listeners + 1, sizeof(*f->listeners));
	f->pipes = xcalloc(PIPES_KEPT, sizeof(*f->pipes));
	for (size_t i = 0; i < n; i++) {
		if (listeners[i].fd4 >= 0)
			add_listener(f, steal_fd(listeners[i].fd4), true, listeners[i].inside);
		if (listeners[i].fd6 >= 0)
			add_listener(f, steal_fd(listeners[i].fd6), true, listeners[i].inside);
	}
	/* Sockets are asked for when the first connection comes: a run
	 * that nobody connects to costs init nothing. */
	return 0;
}

static void on_end(wtb_forward *f, fwd_end *e, unsigned events)
{
	fwd_conn *c = e->conn;
	int side = e == &c->end[0] ? 0 : 1;

	if (c->dead)
		return;
	if (c->state == CONN_DIALING) {
		if (side == 1)
			on_dialed(f, c);
		return;
	}
	if (c->state != CONN_RELAY)
		return;
	if (events & EPOLLERR) {
		conn_free(f, c, true);
		return;
	}
	/* Hung up (both directions of that socket ended): what is left to
	 * read is read when its pipe drains, on the other side's events. */
	if (events & EPOLLHUP) {
		unwatch_end(f, e, c->fd[side]);
		e->hup = true;
	}
	relay(f, c);
}

void forward_dispatch(wtb_forward *f)
{
	struct epoll_event evs[EVENTS];
	int n = epoll_wait(f->ep, evs, EVENTS, 0);

	for (int i = 0; i < n; i++) {
		item_kind kind = *(item_kind *)evs[i].data.ptr;

		if (kind == ITEM_CHAN) {
			if (f->chan >= 0)
				on_chan(f);
		} else if (kind == ITEM_LISTENER) {
			on_accept(f, evs[i].data.ptr);
		} else {
			on_end(f, evs[i].data.ptr, evs[i].events);
		}
	}
	free_dead(f);
}

void forward_close(wtb_forward *f)
{
	while (f->conns != NULL)
		conn_free(f, f->conns, true);
	free_dead(f);
	for (size_t i = 0; i < f->nlisteners; i++)
		closep(&f->listeners[i].fd);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < f->npool[k]; i++)
			close(f->pool[k][i]);
		free(f->pool[k]);
		f->pool[k] = NULL;
		f->npool[k] = 0;
	}
	for (size_t i = 0; i < f->npipes; i++) {
		close(f->pipes[i][0]);
		close(f->pipes[i][1]);
	}
	free(f->pipes);
	f->pipes = NULL;
	f->npipes = 0;
	free(f->listeners);
	f->listeners = NULL;
	f->nlisteners = 0;
	closep(&f->chan);
	closep(&f->reserve);
	closep(&f->ep);
}
