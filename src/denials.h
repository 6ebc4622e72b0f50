/* Denial reports (--log-denials): the command's filter turns every call
 * the policy would fail with an errno into a user notification; the
 * supervisor receives it on the listener, answers it with the errno the
 * policy's real filter gives (evaluated with src/bpf.h), and prints one
 * line per distinct denied system call:
 *
 *   wtbox: denied keyctl (curl, pid 12)
 *
 * with the process name and its pid inside the sandbox. */
#ifndef WTBOX_DENIALS_H
#define WTBOX_DENIALS_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "filter.h"

/* Distinct denials reported at most; past it, one line says so. */
#define WTB_DENIALS_MAX 1024

typedef struct wtb_denials {
	int fd;			  /* the listener, -1 before and after */
	const wtb_filter *answer; /* the policy's real filter */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	uint64_t *seen; /* arch << 32 | nr of what was reported */
	size_t nseen;
	bool crlf; /* stderr is a terminal in raw mode */
} wtb_denials;

#define WTB_DENIALS_INIT                                                                           \
	{                                                                                          \
		.fd = -1                                                                           \
	}

/* Supervisor, before anything of the run exists: whether `answer` can
 * answer notifications (the interpreter takes it) and lets the command
 * hand the listener over (sendmsg, which runs under the filter). */
int denials_prepare(const wtb_filter *answer, wtb_error **err);

/* Take the listener the command sent. */
int denials_start(wtb_denials *d, const wtb_filter *answer, int fd, wtb_error **err);

/* The listener is ready (epoll `events`): answer one notification.
 * Returns false when the listener is finished (every process under the
 * filter is gone, or it failed): the caller stops watching it and calls
 * denials_close(). A notification of a process that died meanwhile is
 * skipped. */
bool denials_handle(wtb_denials *d, uint32_t events);

void denials_close(wtb_denials *d);

/* Pure parts, for the unit tests. */

/* The last field of the NSpid line of a /proc/PID/status text (the pid
 * in the innermost namespace), or -1. */
long denials_nspid(const char *status);
/* The name of a system call from seccomp_data's arch and nr: "keyctl",
 * "keyctl [x86]" for another ABI than the native one, "syscall 1234"
 * when unknown. */
char *denials_call_name(uint32_t arch, uint32_t nr);

#endif
