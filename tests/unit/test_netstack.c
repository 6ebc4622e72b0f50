/* The network stack's pure parts: names, the resolv.conf, the dry-run line,
 * finding the tool in PATH (in a temporary directory of fake tools). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netstack.h"
#include "util.h"

#include "tap.h"

static void test_names(void)
{
	wtb_netstack_kind k;

	is_str(netstack_name(WTB_NETSTACK_SLIRP4NETNS), "slirp4netns", "slirp4netns's name");
	is_str(netstack_name(WTB_NETSTACK_PASTA), "pasta", "pasta's name");
	is_str(netstack_package(WTB_NETSTACK_PASTA), "passt", "pasta comes in package passt");
	is_str(netstack_package(WTB_NETSTACK_SLIRP4NETNS), "slirp4netns", "slirp4netns's package");
	ok(netstack_kind_parse("pasta", &k) == 0 && k == WTB_NETSTACK_PASTA, "parse pasta");
	ok(netstack_kind_parse("slirp4netns", &k) == 0 && k == WTB_NETSTACK_SLIRP4NETNS,
	   "parse slirp4netns");
	ok(netstack_kind_parse("passt", &k) < 0, "passt (the VM mode) is not a choice");
	ok(netstack_kind_parse("", &k) < 0, "empty is not a choice");
	ok(netstack_kind_parse("Pasta", &k) < 0, "names are exact");
}

static void test_resolv_conf(void)
{
	_cleanup_free_ char *s = netstack_resolv_conf(WTB_NETSTACK_SLIRP4NETNS, NULL);
	_cleanup_free_ char *p = netstack_resolv_conf(WTB_NETSTACK_PASTA, NULL);
	_cleanup_free_ char *both = netstack_resolv_conf(
	    WTB_NETSTACK_SLIRP4NETNS, "# x\nnameserver ::1\nnameserver 127.0.0.53\n");
	_cleanup_free_ char *v6 = netstack_resolv_conf(
	    WTB_NETSTACK_SLIRP4NETNS,
	    "search example\n  nameserver\tfe80::1%eth0 # router\nnameserver 2001:db8::53");
	_cleanup_free_ char *v6p = netstack_resolv_conf(WTB_NETSTACK_PASTA, "nameserver ::1\n");
	_cleanup_free_ char *odd = netstack_resolv_conf(
	    WTB_NETSTACK_SLIRP4NETNS, "nameservers ::1\n#nameserver ::1\nnameserver\n");

	has_str(s, "\nnameserver 10.0.2.3\nnameserver fd00::3\n",
		"slirp4netns: its IPv4 resolver, then its IPv6 one");
	has_str(p, "\nnameserver 169.254.1.1\n", "pasta: the address it forwards DNS from");
	ok(strstr(strstr(p, "nameserver") + 1, "nameserver") == NULL, "pasta: one nameserver line");
	has_str(both, "\nnameserver 10.0.2.3\nnameserver fd00::3\n",
		"a host with IPv4 and IPv6 resolvers: IPv4 first");
	has_str(v6, "\nnameserver fd00::3\nnameserver 10.0.2.3\n",
		"a host with IPv6 resolvers only: IPv6 first");
	is_str(v6p, p, "pasta: the same whatever the host has");
	has_str(odd, "\nnameserver 10.0.2.3\nnameserver fd00::3\n",
		"lines that are not nameserver lines are not counted");
	is_str(netstack_dns(WTB_NETSTACK_SLIRP4NETNS), "10.0.2.3", "slirp4netns dns");
}

static void test_describe(void)
{
	wtb_netstack_cfg c = {.kind = WTB_NETSTACK_SLIRP4NETNS,
			      .path = (char *)"/usr/bin/slirp4netns"};
	_cleanup_free_ char *s = netstack_describe(&c);
	_cleanup_free_ char *p = NULL;

	has_str(s, "slirp4netns (/usr/bin/slirp4netns)", "names the tool and where it is");
	has_str(s, "via 10.0.2.2", "the gateway");
	has_str(s, "fd00::100/64 via fd00::2 when the kernel has IPv6",
		"IPv6, where there is IPv6");
	ok(strstr(s, "IPv4 only") == NULL, "not IPv4 only");
	has_str(s, "DNS 10.0.2.3", "the resolver");
	has_str(s, "host loopback not reachable (--disable-host-loopback)", "what keeps it out");
	c.kind = WTB_NETSTACK_PASTA;
	c.path = (char *)"/usr/bin/pasta";
	p = netstack_describe(&c);
	has_str(p, "pasta (/usr/bin/pasta)", "names pasta and where it is");
	has_str(p, "DNS 169.254.1.1", "pasta's resolver address");
	has_str(p, "--no-map-gw, -T none, -U none", "what keeps the host's loopback out");
}

static void make_tool(const char *dir, const char *name, mode_t mode)
{
	_cleanup_free_ char *path = path_join(dir, name);
	_cleanup_error_ wtb_error *err = NULL;

	if (write_file_atomic(path, "#!/bin/sh\n", 10, mode, &err) < 0)
		diag("cannot write '%s': %s", path, err->msg);
}

static void test_which_and_find(void)
{
	char tmpl[] = "/tmp/wtbox-unit-netstack.XXXXXX";
	char *dir = mkdtemp(tmpl);
	_cleanup_free_ char *a = NULL, *b = NULL, *path = NULL, *got = NULL, *cwd = NULL;
	_cleanup_free_ char *a_slirp = NULL, *b_pasta = NULL;
	_cleanup_error_ wtb_error *err = NULL;
	wtb_netstack_cfg cfg = {0};

	if (!ok(dir != NULL, "a temporary directory"))
		return;
	a = path_join(dir, "a");
	b = path_join(dir, "b");
	a_slirp = path_join(a, "slirp4netns");
	b_pasta = path_join(b, "pasta");
	mkdir(a, 0755);
	mkdir(b, 0755);
	make_tool(a, "pasta", 0644); /* not executable: skipped */
	make_tool(b, "pasta", 0755);
	mkdir(a_slirp, 0755); /* a directory: skipped */

	path = xasprintf("%s:%s", a, b);
	got = netstack_which("pasta", path);
	is_str(got, b_pasta, "the first executable file in PATH");
	free(got);
	got = netstack_which("slirp4netns", path);
	is_str(got, NULL, "a directory of that name is not the tool");
	free(got);
	/* A relative entry (or an empty one, the current directory) is never
	 * searched. */
	cwd = getcwd(NULL, 0);
	if (chdir(b) == 0) {
		got = netstack_which("pasta", ".::b");
		is_str(got, NULL, "relative PATH entries are skipped");
		free(got);
		got = NULL;
		if (chdir(cwd) < 0)
			diag("cannot go back to '%s'", cwd);
	}

	/* Nothing in PATH: the error names the packages. */
	ok(netstack_find(&cfg, a, NULL, &err) < 0, "no stack in PATH: an error");
	is_str(err ? err->msg : NULL,
	       "--net=private needs slirp4netns or pasta, neither is in PATH: apt-get install "
	       "slirp4netns (or passt), or use --net=none",
	       "the error names the packages");
	is_str(cfg.path, NULL, "nothing is kept on failure");
	wtb_error_free(&err);

	/* Forced and missing: never the other one. */
	ok(netstack_find(&cfg, b, "slirp4netns", &err) < 0, "a forced stack that is missing");
	is_str(err ? err->msg : NULL,
	       "WTBOX_NETSTACK=slirp4netns: 'slirp4netns' is not in PATH (apt-get install "
	       "slirp4netns)",
	       "the error names the forced stack's package");
	wtb_error_free(&err);
	ok(netstack_find(&cfg, b, "vde", &err) < 0, "an unknown WTBOX_NETSTACK");
	is_str(err ? err->msg : NULL, "invalid WTBOX_NETSTACK 'vde': expected slirp4netns or pasta",
	       "the error says what is expected");
	wtb_error_free(&err);

	/* Found (when this machine lets the user open /dev/net/tun). */
	if (access("/dev/net/tun", R_OK | W_OK) == 0) {
		ok(netstack_find(&cfg, path, "", &err) == 0,
		   "pasta is found when it is the only one");
		is_int(cfg.kind, WTB_NETSTACK_PASTA, "its kind");
		is_str(cfg.path, b_pasta, "its path");
		netstack_cfg_free(&cfg);
		rmdir(a_slirp);
		make_tool(a, "slirp4netns", 0755);
		ok(netstack_find(&cfg, path, NULL, &err) == 0, "both: found");
		is_int(cfg.kind, WTB_NETSTACK_SLIRP4NETNS, "slirp4netns is preferred");
		netstack_cfg_free(&cfg);
		ok(netstack_find(&cfg, path, "pasta", &err) == 0, "both, pasta forced: found");
		is_int(cfg.kind, WTB_NETSTACK_PASTA, "the forced one");
		netstack_cfg_free(&cfg);
	} else {
		diag("/dev/net/tun is not usable here: the found cases are not run");
	}
	if (remove_tree(dir, &err) < 0)
		diag("cannot remove '%s'", dir);
}

int main(void)
{
	test_names();
	test_resolv_conf();
	test_describe();
	test_which_and_find();
	return done_testing();
}
