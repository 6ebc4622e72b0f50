/* The user-mode network stack of --net=private: slirp4netns or pasta,
 * started by the supervisor on the host and attached to the sandbox's
 * network namespace, so the sandbox gets outbound connectivity without
 * any privilege and without reaching the host's loopback. */
#ifndef WTBOX_NETSTACK_H
#define WTBOX_NETSTACK_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef enum wtb_netstack_kind {
	WTB_NETSTACK_SLIRP4NETNS,
	WTB_NETSTACK_PASTA,
} wtb_netstack_kind;

/* Which tool, found where, and where its messages go. */
typedef struct wtb_netstack_cfg {
	wtb_netstack_kind kind;
	char *path; /* the executable */
	char *log;  /* its stderr (never the user's terminal); NULL: /dev/null */
} wtb_netstack_cfg;

/* A running stack, as the supervisor holds it. */
typedef struct wtb_netstack {
	pid_t pid;   /* slirp4netns itself, or the guard that owns pasta */
	int exit_fd; /* closing it (or the supervisor dying) stops the stack */
} wtb_netstack;

#define WTB_NETSTACK_INIT                                                                          \
	{                                                                                          \
		.pid = -1, .exit_fd = -1                                                           \
	}

/* The addresses the sandbox sees. slirp4netns's gateways are its aliases
 * for the host's loopback, refused with --disable-host-loopback; its DNS
 * addresses (10.0.2.3, fd00::3) forward port 53 only, to the host's
 * resolver. */
#define WTB_SLIRP_TAP	   "tap0"
#define WTB_SLIRP_GATEWAY  "10.0.2.2"
#define WTB_SLIRP_DNS	   "10.0.2.3"
#define WTB_SLIRP_DNS6	   "fd00::3"
#define WTB_SLIRP_ADDR6	   "fd00::100"
#define WTB_SLIRP_PREFIX6  64
#define WTB_SLIRP_GATEWAY6 "fd00::2"
/* pasta copies the host's addresses and gateway; DNS queries sent to this
 * link-local address are forwarded to the host's resolver. */
#define WTB_PASTA_DNS "169.254.1.1"

/* Pure. */
const char *netstack_name(wtb_netstack_kind kind);
const char *netstack_package(wtb_netstack_kind kind);
const char *netstack_dns(wtb_netstack_kind kind);
/* "slirp4netns" / "pasta" -> kind; -1 for anything else. */
int netstack_kind_parse(const char *name, wtb_netstack_kind *out);
/* The resolv.conf the sandbox gets, given the host's (`host`, its text;
 * NULL when it cannot be read). Owned by the caller. */
char *netstack_resolv_conf(wtb_netstack_kind kind, const char *host);
/* One line for --dry-run: the tool and the addresses. Owned by the caller. */
char *netstack_describe(const wtb_netstack_cfg *cfg);

/* The executable `name` in the colon-separated `path`, or NULL. */
char *netstack_which(const char *name, const char *path);

/* Pick the tool: `force` (WTBOX_NETSTACK, may be NULL or empty) names
 * one; otherwise the preferred one, then the other, searched in `path`
 * (PATH). Fails with one line naming the package to install. */
int netstack_find(wtb_netstack_cfg *cfg, const char *path, const char *force, wtb_error **err);
void netstack_cfg_free(wtb_netstack_cfg *cfg);

/* Supervisor side, after the uid/gid maps of `init` are written and
 * before init goes on: start the stack on init's network namespace and
 * wait until the interface is configured. The stack never outlives the
 * supervisor, not even a SIGKILLed one. */
int netstack_start(const wtb_netstack_cfg *cfg, pid_t init, wtb_netstack *ns, wtb_error **err);
/* Stop it and reap it. Idempotent. */
void netstack_stop(wtb_netstack *ns);

/* Init side, in the sandbox's network namespace once the stack is up and
 * while the host's /proc is still there: slirp4netns's IPv6 address and
 * default route. Best effort: where IPv6 is off (in the kernel, or in the
 * namespace) the sandbox keeps IPv4 alone, and the run goes on. */
void netstack_inside(const wtb_netstack_cfg *cfg);

#endif
