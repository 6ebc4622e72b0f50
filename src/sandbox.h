/* The sandbox: the one place where the order of all steps lives, on the
 * supervisor's side and on the side of the sandbox's init. */
#ifndef WTBOX_SANDBOX_H
#define WTBOX_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "filter.h"
#include "mount.h"
#include "ports.h"
#include "netstack.h"

typedef struct wtb_sandbox {
	const char *hostname;
	bool as_root; /* --root: the caller is uid/gid 0 inside */
	const wtb_mount_plan *plan;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	unsigned timeout;	  /* seconds, 0: none */
	const wtb_filter *filter; /* seccomp filter of the command, or NULL */
	/* --log-denials: `filter` notifies wtbox instead of failing calls,
	 * and this, the policy's real filter, says what to answer; NULL
	 * otherwise. */
	const wtb_filter *answer;
	/* --net=private: the user-mode network stack to attach to the
	 * sandbox's network namespace; NULL: loopback only. */
	const wtb_netstack_cfg *net;
	/* Called once the command was executed, with the host pid of the
	 * sandbox's init (e.g. to record it, or to let `run -d` return). */
	void (*on_started)(void *ctx, pid_t init);
	/* Called while init builds the sandbox (told to go, the command not
	 * started), for work of the caller's that the command need not wait
	 * for; a failure stops the sandbox before anything runs in it. May
	 * be NULL. */
	int (*on_building)(void *ctx, wtb_error **err);
	void *ctx;
	/* Host ports forwarded into the sandbox; sandbox_run takes their fds. */
	wtb_listener *listeners;
	size_t nlisteners;
	/* --allow-host-port: host loopback ports reachable inside as
	 * localhost:PORT. */
	const uint16_t *allow_ports;
	size_t nallow;
} wtb_sandbox;

typedef struct wtb_sandbox_result {
	int status;   /* the command's, as a shell reports it; 124 on timeout */
	bool started; /* the command was executed (false: interrupted before) */
	bool timed_out;
	int signal;	 /* the signal that ended the command, 0 when it exited */
	bool terminated; /* wtbox got SIGTERM (wtbox stop) and passed it to all */
	/* Init, when it reported every other process of the sandbox gone and
	 * was still exiting (tearing down the namespaces, about 0.5 ms): the
	 * caller reaps it with sandbox_reap once its own work is done, or
	 * -1. */
	pid_t exiting;
} wtb_sandbox_result;

/* Seconds between the SIGTERM and the SIGKILL of a timed-out sandbox. */
#define WTB_TIMEOUT_GRACE 5

/* Run the command in a new sandbox and wait for every process of it to be
 * gone. On failure err->status says how: 125 the sandbox could not be
 * built, 126/127 the command could not be executed. */
int sandbox_run(const wtb_sandbox *sb, wtb_sandbox_result *res, wtb_error **err);

/* Wait for res->exiting, if any, and set it to -1. */
void sandbox_reap(pid_t *exiting);

#endif
