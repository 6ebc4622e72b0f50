/* What wtbox puts in place of libgit2's network parts when it links
 * libgit2 statically (the default, see the Makefile's STATIC_GIT).
 *
 * wtbox never talks to a remote: it opens repositories, adds worktrees,
 * reads and writes objects and refs, all on local files. Yet
 * git_libgit2_init() sets up every transport, and with Debian's libgit2
 * that costs more than everything else wtbox does at start-up: the
 * dynamic loader maps and relocates mbedTLS, libssh2 with OpenSSL's
 * libcrypto, Kerberos and PCRE2 (about 3 ms and 4 MB of mapped pages),
 * and the TLS set-up parses the system's whole CA bundle (about 4 ms and
 * 3 MB of heap). Every `wtbox` process pays this, the long-lived
 * supervisor of each agent included.
 *
 * Linked statically, only the archive members libgit2 needs are taken,
 * and nothing is relocated at run time beyond the binary itself. Two
 * things remain, both answered here:
 *
 * - TLS. libgit2's whole use of mbedTLS sits behind four functions: the
 *   set-up git_libgit2_init() runs (an SSL configuration, an entropy
 *   source seeded by timing loops, the CA bundle), the two that open a
 *   TLS stream for an HTTPS remote or a proxy, and the one behind
 *   GIT_OPT_SET_SSL_CERT_LOCATIONS. The link wraps all four
 *   (-Wl,--wrap): the set-up does nothing, the others fail with a
 *   message of their own, so an HTTPS remote, which wtbox never opens,
 *   fails cleanly, and no mbedTLS code is linked at all. That spares
 *   every wtbox process about 0.3 ms and the pages of that code.
 * - GSSAPI, which HTTP's Negotiate authentication uses. Debian ships no
 *   static Kerberos library, and loading the shared one would bring back
 *   four libraries. The functions below fail every call with
 *   GSS_S_FAILURE, so Negotiate is never offered.
 *
 * The wrapped names are libgit2's internal ones (1.5): tests/unit/
 * test_nonet checks that an HTTPS connection fails with the message
 * below, so a libgit2 that renamed them shows there.
 *
 * This file is not part of libwtbox.a: the Makefile links it into every
 * binary that links libgit2 statically, and into nothing else. */
#include <stdint.h>

#include <git2.h>
#include <git2/sys/stream.h>

/* GSSAPI's status word: the routine error field starts at bit 16;
 * GSS_S_FAILURE is routine error 13. */
#define GSS_FAILURE (13u << 16)

typedef uint32_t gss_status;

/* Declared here for -Wmissing-prototypes; nothing of wtbox calls them. */
int __wrap_git_mbedtls_stream_global_init(void);
int __wrap_git_mbedtls_stream_new(git_stream **out, const char *host, const char *port);
int __wrap_git_mbedtls_stream_wrap(git_stream **out, git_stream *in, const char *host);
int __wrap_git_mbedtls__set_cert_location(const char *file, const char *path);
gss_status gss_display_status(gss_status *minor);
gss_status gss_release_buffer(gss_status *minor);
gss_status gss_delete_sec_context(gss_status *minor);
gss_status gss_import_name(gss_status *minor);
gss_status gss_release_name(gss_status *minor);
gss_status gss_init_sec_context(gss_status *minor);
gss_status gss_indicate_mechs(gss_status *minor);
gss_status gss_release_oid_set(gss_status *minor);

#define NO_TLS "TLS is not built into wtbox: it never connects to a remote"

int __wrap_git_mbedtls_stream_global_init(void)
{
	return 0;
}

int __wrap_git_mbedtls_stream_new(git_stream **out, const char *host, const char *port)
{
	(void)host;
	(void)port;
	*out = NULL;
	git_error_set_str(GIT_ERROR_SSL, NO_TLS);
	return -1;
}

int __wrap_git_mbedtls_stream_wrap(git_stream **out, git_stream *in, const char *host)
{
	(void)in;
	(void)host;
	*out = NULL;
	git_error_set_str(GIT_ERROR_SSL, NO_TLS);
	return -1;
}

int __wrap_git_mbedtls__set_cert_location(const char *file, const char *path)
{
	(void)file;
	(void)path;
	git_error_set_str(GIT_ERROR_SSL, NO_TLS);
	return -1;
}

/* Every GSSAPI routine takes the minor status word first; the callers
 * read it only after a failure. The release functions succeed: libgit2
 * calls them on its clean-up paths with nothing to release. */
static gss_status gss_fail(gss_status *minor)
{
	if (minor != 0)
		*minor = 0;
	return GSS_FAILURE;
}

static gss_status gss_nothing(gss_status *minor)
{
	if (minor != 0)
		*minor = 0;
	return 0;
}

gss_status gss_display_status(gss_status *minor)
{
	return gss_fail(minor);
}

gss_status gss_import_name(gss_status *minor)
{
	return gss_fail(minor);
}

gss_status gss_init_sec_context(gss_status *minor)
{
	return gss_fail(minor);
}

gss_status gss_indicate_mechs(gss_status *minor)
{
	return gss_fail(minor);
}

gss_status gss_release_buffer(gss_status *minor)
{
	return gss_nothing(minor);
}

gss_status gss_delete_sec_context(gss_status *minor)
{
	return gss_nothing(minor);
}

gss_status gss_release_name(gss_status *minor)
{
	return gss_nothing(minor);
}

gss_status gss_release_oid_set(gss_status *minor)
{
	return gss_nothing(minor);
}

/* The name type Negotiate asks for; never read, since gss_import_name
 * fails first. */
const void *GSS_C_NT_HOSTBASED_SERVICE = 0;
