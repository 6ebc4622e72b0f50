/* The supervisor's side of --log-denials: answer the command's seccomp
 * notifications as the policy would, and report each denied call once. */
#include "denials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "bpf.h"
#include "util.h"

/* Bit 30 of the number: an x32 system call (seccomp_data.arch says
 * x86_64 for those). */
#define X32_SYSCALL_BIT 0x40000000U

/* The largest errno a seccomp answer can carry (the kernel clamps). */
#define MAX_ERRNO 4095

static bool lets_through(uint32_t ret)
{
	uint32_t action = ret & SECCOMP_RET_ACTION_FULL;

	return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}

int denials_prepare(const wtb_filter *answer, wtb_error **err)
{
	struct seccomp_notif_sizes sizes;
	/* What the command calls to hand the listener over, after the
	 * filter is loaded and before wtbox listens: were it denied, it
	 * would wait for an answer that only its own call could enable. */
	struct seccomp_data send = {
	    .nr = SYS_sendmsg, .arch = seccomp_arch_native(), .args = {0, 0, MSG_NOSIGNAL}};

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return wtb_error_errno(
		    err, "cannot report denials: no seccomp user notification in this kernel");
	if (bpf_seccomp_check(&answer->prog, err) < 0)
		return wtb_error_wrap(err, "cannot report denials");
	if (!lets_through(bpf_seccomp_run(&answer->prog, &send)))
		return wtb_error_set(err, 0,
				     "cannot report denials: the policy denies sendmsg, with which "
				     "the command hands its listener to wtbox");
	return 0;
}

int denials_start(wtb_denials *d, const wtb_filter *answer, int fd, wtb_error **err)
{
	struct seccomp_notif_sizes sizes;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		close(fd);
		return wtb_error_errno(err, "cannot report denials");
	}
	/* The kernel's structs may be larger than this header's. */
	d->req_size = sizes.seccomp_notif > sizeof(*d->req) ? sizes.seccomp_notif : sizeof(*d->req);
	d->resp_size = sizes.seccomp_notif_resp > sizeof(*d->resp) ? sizes.seccomp_notif_resp
								   : sizeof(*d->resp);
	d->req = xcalloc(1, d->req_size);
	d->resp = xcalloc(1, d->resp_size);
	d->answer = answer;
	d->fd = fd;
	return 0;
}

void denials_close(wtb_denials *d)
{
	closep(&d->fd);
	free(d->req);
	free(d->resp);
	free(d->seen);
	d->req = NULL;
	d->resp = NULL;
	d->seen = NULL;
	d->nseen = 0;
}

long denials_nspid(const char *status)
{
	const char *line = status;
	long pid = -1;

	while (line != NULL && !str_has_prefix(line, "NSpid:")) {
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	if (line == NULL)
		return -1;
	line += strlen("NSpid:");
	/* The fields go from the outermost namespace to the innermost. */
	for (;;) {
		char *end;
		long v;

		line += strspn(line, " \t");
		if (*line < '0' || *line > '9')
			break;
		errno = 0;
		v = strtol(line, &end, 10);
		if (errno != 0 || v <= 0)
			return -1;
		pid = v;
		line = end;
	}
	return pid;
}

char *denials_call_name(uint32_t arch, uint32_t nr)
{
	uint32_t abi = arch;
	_cleanup_free_ char *name = NULL;
	char tag[32] = "";

	if (arch == SCMP_ARCH_X86_64 && (nr & X32_SYSCALL_BIT))
		abi = SCMP_ARCH_X32;
	if (abi != seccomp_arch_native()) {
		const char *n = policy_arch_name(abi);

		snprintf(tag, sizeof(tag), " [%s]", n ? n + strlen("SCMP_ARCH_") : "?");
		for (char *c = tag; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	name = seccomp_syscall_resolve_num_arch(abi, (int)nr);
	if (name == NULL)
		return xasprintf("syscall %u%s", nr, tag);
	return xasprintf("%s%s", name, tag);
}

static bool seen(wtb_denials *d, uint64_t key)
{
	for (size_t i = 0; i < d->nseen; i++)
		if (d->seen[i] == key)
			return true;
	return false;
}

/* Read FILE of the process directory `dir` (small files: comm, status). */
static char *read_proc(int dir, const char *file)
{
	_cleanup_close_ int fd = openat(dir, file, O_RDONLY | O_CLOEXEC);
	_cleanup_error_ wtb_error *err = NULL;
	char *text = NULL;

	if (fd < 0 || read_fd(fd, file, 64 * 1024, &text, NULL, &err) < 0)
		return NULL;
	return text;
}

/* One line for a call not reported yet, when the caller is still the
 * process that made it. */
static void report(wtb_denials *d, const struct seccomp_notif *n)
{
	uint64_t key = (uint64_t)n->data.arch << 32 | n->data.nr;
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *path = NULL, *comm = NULL, *status = NULL, *call = NULL, *shown = NULL;
	const char *eol = d->crlf ? "\r\n" : "\n";
	long pid;

	if (seen(d, key) || d->nseen > WTB_DENIALS_MAX)
		return;
	if (d->nseen == WTB_DENIALS_MAX) {
		fprintf(stderr,
			"wtbox: more than %d different system calls denied; not reporting more%s",
			WTB_DENIALS_MAX, eol);
		d->nseen++;
		return;
	}
	/* The directory holds on to the process it was opened for; the id
	 * still valid after the open says that this was the caller (its
	 * pid cannot have been reused while it waits for the answer). */
	path = xasprintf("/proc/%u", n->pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || ioctl(d->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0)
		return;
	comm = read_proc(dir, "comm");
	status = read_proc(dir, "status");
	if (comm == NULL || status == NULL)
		return;
	/* The kernel adds a newline; the process chose the rest (escaped). */
	if (str_has_suffix(comm, "\n"))
		comm[strlen(comm) - 1] = '\0';
	shown = term_escape(comm);
	pid = denials_nspid(status);
	call = denials_call_name(n->data.arch, (uint32_t)n->data.nr);
	if (d->nseen % 16 == 0)
		d->seen = xrealloc(d->seen, (d->nseen + 16) * sizeof(*d->seen));
	d->seen[d->nseen++] = key;
	if (pid > 0)
		fprintf(stderr, "wtbox: denied %s (%s, pid %ld)%s", call, shown, pid, eol);
	else
		fprintf(stderr, "wtbox: denied %s (%s)%s", call, shown, eol);
}

bool denials_handle(wtb_denials *d, uint32_t events)
{
	uint32_t ret, data;

	if (d->fd < 0)
		return false;
	/* EPOLLHUP alone: no process is left under the filter. */
	if (!(events & EPOLLIN))
		return false;
	memset(d->req, 0, d->req_size);
	if (ioctl(d->fd, SECCOMP_IOCTL_NOTIF_RECV, d->req) < 0)
		/* ENOENT: the caller was interrupted or died after the
		 * wake-up; nothing to answer. */
		return errno == ENOENT || errno == EINTR;
	ret = bpf_seccomp_run(&d->answer->prog, &d->req->data);
	memset(d->resp, 0, d->resp_size);
	d->resp->id = d->req->id;
	if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
		data = ret & SECCOMP_RET_DATA;
		d->resp->error = -(int32_t)(data > MAX_ERRNO ? MAX_ERRNO : data);
		report(d, d->req);
	} else {
		/* The two filters differ where they must not: refuse. */
		d->resp->error = -EPERM;
	}
	/* ENOENT: the caller is gone, or was interrupted by a signal (it
	 * makes the call again, which comes as a new notification). */
	(void)ioctl(d->fd, SECCOMP_IOCTL_NOTIF_SEND, d->resp);
	return true;
}
