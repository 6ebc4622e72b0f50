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
 * - The CA bundle. The link wraps mbedTLS's certificate loaders
 *   (-Wl,--wrap): libgit2's TLS set-up calls the functions below, which
 *   load nothing and report a file error, which libgit2 tolerates (it
 *   then has no trusted certificates: an HTTPS remote, which wtbox never
 *   opens, would fail to verify, never pass unverified).
 * - GSSAPI, which HTTP's Negotiate authentication uses. Debian ships no
 *   static Kerberos library, and loading the shared one would bring back
 *   four libraries. The functions below fail every call with
 *   GSS_S_FAILURE, so Negotiate is never offered.
 *
 * This file is not part of libwtbox.a: the Makefile links it into every
 * binary that links libgit2 statically, and into nothing else. */
#include <stdint.h>

/* GSSAPI's status word: the routine error field starts at bit 16;
 * GSS_S_FAILURE is routine error 13. */
#define GSS_FAILURE (13u << 16)

/* mbedTLS's MBEDTLS_ERR_X509_FILE_IO_ERROR: "Read/write of file failed". */
#define X509_FILE_IO_ERROR (-0x2900)

typedef uint32_t gss_status;

/* Declared here for -Wmissing-prototypes; nothing of wtbox calls them. */
int __wrap_mbedtls_x509_crt_parse_file(void *chain, const char *path);
int __wrap_mbedtls_x509_crt_parse_path(void *chain, const char *path);
gss_status gss_display_status(gss_status *minor);
gss_status gss_release_buffer(gss_status *minor);
gss_status gss_delete_sec_context(gss_status *minor);
gss_status gss_import_name(gss_status *minor);
gss_status gss_release_name(gss_status *minor);
gss_status gss_init_sec_context(gss_status *minor);
gss_status gss_indicate_mechs(gss_status *minor);
gss_status gss_release_oid_set(gss_status *minor);

int __wrap_mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return X509_FILE_IO_ERROR;
}

int __wrap_mbedtls_x509_crt_parse_path(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return X509_FILE_IO_ERROR;
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
