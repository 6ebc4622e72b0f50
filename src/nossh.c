/* libssh2's stand-in, for a static link of libgit2 (see src/nonet.c and
 * the Makefile's STATIC_GIT).
 *
 * libgit2's SSH transport is the only user of libssh2, and libssh2 the
 * only reason OpenSSL's libcrypto is linked: together they are more than
 * half of the binary (2.3 MB of code), their relocations and the
 * crypto library's start-up add about 1 ms and 2.4 MB of resident pages
 * to every wtbox process, the long-lived supervisor of each agent
 * included, and wtbox never opens a remote. So the functions libgit2
 * calls are defined here with libssh2's own prototypes (the compiler
 * checks them against <libssh2.h>):
 *
 * - libssh2_init() succeeds, because git_libgit2_init() fails otherwise,
 *   and libssh2_exit() does nothing;
 * - every other call fails: a session, channel, agent or known-hosts
 *   list is never created (NULL), so an SSH remote would fail at once
 *   with libgit2's "failed to initialize SSH session", and the rest
 *   (which libgit2 calls only with one of those) report an error.
 *
 * Not part of libwtbox.a; linked only where libgit2 is linked
 * statically. */
#include <libssh2.h>
#include <stddef.h>

/* Every function here ignores its arguments: that is its purpose. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define FAILED LIBSSH2_ERROR_SOCKET_NONE

int libssh2_init(int flags)
{
	return 0;
}

void libssh2_exit(void)
{
}

LIBSSH2_SESSION *libssh2_session_init_ex(LIBSSH2_ALLOC_FUNC((*my_alloc)),
					 LIBSSH2_FREE_FUNC((*my_free)),
					 LIBSSH2_REALLOC_FUNC((*my_realloc)), void *abstract)
{
	return NULL;
}

LIBSSH2_CHANNEL *libssh2_channel_open_ex(LIBSSH2_SESSION *session, const char *channel_type,
					 unsigned int channel_type_len, unsigned int window_size,
					 unsigned int packet_size, const char *message,
					 unsigned int message_len)
{
	return NULL;
}

LIBSSH2_AGENT *libssh2_agent_init(LIBSSH2_SESSION *session)
{
	return NULL;
}

LIBSSH2_KNOWNHOSTS *libssh2_knownhost_init(LIBSSH2_SESSION *session)
{
	return NULL;
}

void **libssh2_session_abstract(LIBSSH2_SESSION *session)
{
	return NULL;
}

const char *libssh2_hostkey_hash(LIBSSH2_SESSION *session, int hash_type)
{
	return NULL;
}

const char *libssh2_session_hostkey(LIBSSH2_SESSION *session, size_t *len, int *type)
{
	return NULL;
}

char *libssh2_userauth_list(LIBSSH2_SESSION *session, const char *username,
			    unsigned int username_len)
{
	return NULL;
}

int libssh2_session_last_error(LIBSSH2_SESSION *session, char **errmsg, int *errmsg_len,
			       int want_buf)
{
	if (errmsg != NULL)
		*errmsg = want_buf ? NULL : (char *)"SSH is not built into wtbox";
	if (errmsg_len != NULL)
		*errmsg_len = 0;
	return FAILED;
}

int libssh2_session_handshake(LIBSSH2_SESSION *session, libssh2_socket_t sock)
{
	return FAILED;
}

int libssh2_session_method_pref(LIBSSH2_SESSION *session, int method_type, const char *prefs)
{
	return FAILED;
}

void libssh2_session_set_blocking(LIBSSH2_SESSION *session, int blocking)
{
}

int libssh2_session_disconnect_ex(LIBSSH2_SESSION *session, int reason, const char *description,
				  const char *lang)
{
	return FAILED;
}

int libssh2_session_free(LIBSSH2_SESSION *session)
{
	return 0;
}

int libssh2_channel_process_startup(LIBSSH2_CHANNEL *channel, const char *request,
				    unsigned int request_len, const char *message,
				    unsigned int message_len)
{
	return FAILED;
}

ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL *channel, int stream_id, char *buf, size_t buflen)
{
	return FAILED;
}

ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL *channel, int stream_id, const char *buf,
				 size_t buflen)
{
	return FAILED;
}

void libssh2_channel_set_blocking(LIBSSH2_CHANNEL *channel, int blocking)
{
}

int libssh2_channel_close(LIBSSH2_CHANNEL *channel)
{
	return FAILED;
}

int libssh2_channel_free(LIBSSH2_CHANNEL *channel)
{
	return 0;
}

int libssh2_agent_connect(LIBSSH2_AGENT *agent)
{
	return FAILED;
}

int libssh2_agent_disconnect(LIBSSH2_AGENT *agent)
{
	return FAILED;
}

void libssh2_agent_free(LIBSSH2_AGENT *agent)
{
}

int libssh2_agent_list_identities(LIBSSH2_AGENT *agent)
{
	return FAILED;
}

int libssh2_agent_get_identity(LIBSSH2_AGENT *agent, struct libssh2_agent_publickey **store,
			       struct libssh2_agent_publickey *prev)
{
	return FAILED;
}

int libssh2_agent_userauth(LIBSSH2_AGENT *agent, const char *username,
			   struct libssh2_agent_publickey *identity)
{
	return FAILED;
}

int libssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS *hosts, const char *filename, int type)
{
	return FAILED;
}

int libssh2_knownhost_checkp(LIBSSH2_KNOWNHOSTS *hosts, const char *host, int port, const char *key,
			     size_t keylen, int typemask, struct libssh2_knownhost **knownhost)
{
	return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
}

void libssh2_knownhost_free(LIBSSH2_KNOWNHOSTS *hosts)
{
}

int libssh2_userauth_authenticated(LIBSSH2_SESSION *session)
{
	return 0;
}

int libssh2_userauth_keyboard_interactive_ex(
    LIBSSH2_SESSION *session, const char *username, unsigned int username_len,
    LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*response_callback)))
{
	return FAILED;
}

int libssh2_userauth_password_ex(LIBSSH2_SESSION *session, const char *username,
				 unsigned int username_len, const char *password,
				 unsigned int password_len,
				 LIBSSH2_PASSWD_CHANGEREQ_FUNC((*passwd_change_cb)))
{
	return FAILED;
}

int libssh2_userauth_publickey(LIBSSH2_SESSION *session, const char *username,
			       const unsigned char *pubkeydata, size_t pubkeydata_len,
			       LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)),
			       void **abstract)
{
	return FAILED;
}

int libssh2_userauth_publickey_fromfile_ex(LIBSSH2_SESSION *session, const char *username,
					   unsigned int username_len, const char *publickey,
					   const char *privatekey, const char *passphrase)
{
	return FAILED;
}

int libssh2_userauth_publickey_frommemory(LIBSSH2_SESSION *session, const char *username,
					  size_t username_len, const char *publickeyfiledata,
					  size_t publickeyfiledata_len,
					  const char *privatekeyfiledata,
					  size_t privatekeyfiledata_len, const char *passphrase)
{
	return FAILED;
}
