/* The sandbox's environment: an allowlist, not a copy of the host's. */
#ifndef WTBOX_ENV_H
#define WTBOX_ENV_H

#include "error.h"
#include "util.h"

typedef struct wtb_env_input {
	char *const *host;  /* the host environment (environ) */
	const char *user;   /* USER inside */
	const char *home;   /* HOME inside */
	const char *cache;  /* XDG_CACHE_HOME inside */
	const char *name;   /* WTBOX_NAME */
	const char *branch; /* WTBOX_BRANCH (short) */
	const char *worktree;
	unsigned port;	   /* PORT and WTBOX_PORT; 0: none */
	const strv *extra; /* --env NAME or NAME=VALUE */
} wtb_env_input;

/* Check one --env argument. Pure. */
int env_check_arg(const char *arg, wtb_error **err);

/* The environment of the command, NULL-terminated. Pure. */
char **env_build(const wtb_env_input *in);

#endif
