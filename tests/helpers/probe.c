/* probe: runs inside a wtbox sandbox (or anywhere) and reports what it sees.
 *
 *   probe [-o FILE] SUBCOMMAND [ARGS...]
 *
 * Every fact is one line `key=value` on stdout (or appended to FILE with -o,
 * for runs whose stdout is a terminal). A value is printed as it is, except
 * that bytes outside printable ASCII and the backslash are written as \xHH.
 * The result of an attempted action is `ACTION=ok` or `ACTION=<errno name>`
 * (e.g. `write=EROFS`).
 *
 * Exit status: 0 when the attempted action succeeded (the file was written,
 * the mount worked, privilege was gained...), 1 when it failed, 2 on a usage
 * error or when the probe cannot do its job (e.g. `suid` on a binary that is
 * not setuid). Escape attempts are therefore expected to exit 1.
 *
 * Subcommands:
 *   ids                 uid/gid (real, effective, saved), groups, setgroups, id maps
 *   caps                Cap*, NoNewPrivs, Seccomp from /proc/self/status
 *   write PATH          create/truncate PATH and write a line
 *   read PATH           read PATH (at most 1 MiB): bytes=, head=
 *   mkdir PATH          mkdir PATH
 *   exists PATH         lstat PATH: exists=1|0 (exit 0 when it exists)
 *   ls DIR              entries= (sorted, comma-separated), count=
 *   kill PID [SIG]      kill(PID, SIG) (SIG defaults to 0)
 *   ptrace PID|child    PTRACE_ATTACH to PID, or to a child of the probe's
 *                       own (detached again at once): ptrace=
 *   mount DIR           tries a tmpfs, a bind and a proc on DIR and a read-write
 *                       remount of DIR, undoing any that works (DIR: an empty
 *                       directory of the test's own, so that a probe run without
 *                       a sandbox, as root, harms nothing; the kernel checks the
 *                       capability before it looks at the target)
 *   umount PATH         umount2(PATH, MNT_DETACH) (the same care with PATH)
 *   openw PATH          open PATH for writing, write nothing (for files where a
 *                       write would act, like /proc/sysrq-trigger)
 *   nested PATH         in a new user+mount namespace (where it has every capability):
 *                       remount the mount holding PATH read-write, write a file in
 *                       PATH, unmount that mount (mounts from outside stay locked)
 *   tiocsti FD|PATH [STRING]
 *                       pushes STRING (default "echo INJECTED\n") into the input
 *                       of the terminal FD (or the one at PATH) with TIOCSTI
 *   hostname            hostname, nodename, domainname
 *   pids                pids visible in /proc, own pid and parent pid
 *   fds                 open fds, what they point at, and for terminals whether
 *                       they belong to the devpts mounted at /dev/pts (own) or not
 *                       and an id (devpts device/tty device) to compare terminals
 *   openat FD PATH      openat(FD, PATH) and read it (an inherited directory fd)
 *   suid BINARY         runs BINARY (setuid root) with stdin on a pipe it blocks
 *                       on, samples /proc/PID/status after its execve: euid and
 *                       CapEff/CapPrm; gained=1 when the euid changed or it holds
 *                       capabilities; kills it
 *   tty                 isatty of 0/1/2, ttyname, window size, controlling tty
 *   winch SECONDS       prints size=, ready=1, then winch=ROWSxCOLS at the first
 *                       SIGWINCH (exit 0) or winch=timeout (exit 1)
 *   connect tcp HOST PORT | connect unix PATH|@ABSTRACT
 *                       connects and reads one line (data=)
 *   serve tcp|unix ADDRFILE SECONDS
 *                       listens on 127.0.0.1:0 (tcp) or an abstract unix socket,
 *                       writes its port / @name to ADDRFILE, answers "hello" to
 *                       each connection (conn=N lines) until SECONDS have passed
 *   net                 interfaces, whether lo is up, a loopback TCP round trip
 *   mnt PATH            the mount that holds PATH: mountpoint, fstype, source,
 *                       per-mount options, superblock options
 *   keyring             session=: the id of the session keyring (not created
 *                       when there is none: then the user-session keyring's)
 *   keyring-add NAME COMMAND [ARGS...]
 *                       joins a new session keyring of its own, adds the user
 *                       key NAME to it (session=, key=), then execs COMMAND,
 *                       which inherits that keyring and nothing else has it
 *   keyring-find NAME   looks for the user key NAME through the session
 *                       keyring: search= (KEYCTL_SEARCH) and request=
 *                       (request_key without callout); exit 0 when either
 *                       found it
 *
 * Plain C, no project headers: it must run in any sandbox wtbox builds. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DONE   0 /* the attempted action succeeded */
#define EXIT_FAILED 1 /* it failed */
#define EXIT_USAGE  2 /* bad arguments, or the probe cannot do its job */

#define READ_MAX (1024 * 1024)

static int out_fd = STDOUT_FILENO;

/* ------------------------------------------------------------- output */

/* Writes all of BUF; the report is best effort, so errors are ignored. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Appends VALUE to DST (of size CAP, at position *POS) with the escapes of
 * the header comment. */
static void escape_into(char *dst, size_t cap, size_t *pos, const char *value, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len && *pos + 5 < cap; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[(*pos)++] = (char)c;
		} else {
			dst[(*pos)++] = '\\';
			dst[(*pos)++] = 'x';
			dst[(*pos)++] = hex[c >> 4];
			dst[(*pos)++] = hex[c & 15];
		}
	}
}

/* One line KEY=VALUE, VALUE being LEN raw bytes. */
static void kv_bytes(const char *key, const char *value, size_t len)
{
	char line[8192];
	size_t pos = 0;

	escape_into(line, sizeof(line), &pos, key, strlen(key));
	line[pos++] = '=';
	escape_into(line, sizeof(line), &pos, value, len);
	line[pos++] = '\n';
	write_all(out_fd, line, pos);
}

__attribute__((format(printf, 2, 3))) static void kv(const char *key, const char *fmt, ...)
{
	char value[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(value))
		n = (int)sizeof(value) - 1;
	kv_bytes(key, value, (size_t)n);
}

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	static char buf[32];

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* KEY=ok, or KEY=<errno name of ERR> when RC < 0. Returns true when it was ok. */
static bool result_err(const char *key, int rc, int err)
{
	if (rc < 0) {
		kv(key, "%s", errname(err));
		return false;
	}
	kv(key, "ok");
	return true;
}

/* The same with errno as the call that computed RC left it: the arguments
 * are evaluated before the call, and nothing here runs before errno is read. */
static bool result(const char *key, int rc)
{
	int err = errno;
	return result_err(key, rc, err);
}

static int usage(const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "probe: %s (see the comment at the top of probe.c)\n",
			 msg);
	if (n > 0)
		write_all(STDERR_FILENO, line,
			  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------ helpers */

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reads at most CAP-1 bytes of PATH into BUF (NUL-terminated). */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* The value of field NAME ("Uid") in a /proc/PID/status text, without the
 * leading whitespace, into OUT. */
static bool status_field(const char *status, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = status;

	while (p && *p) {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t n = 0;
			while (*v == ' ' || *v == '\t')
				v++;
			while (v[n] && v[n] != '\n')
				n++;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* The first line of a small file, whitespace runs squeezed to one space. */
static void kv_first_line(const char *key, const char *path)
{
	char buf[4096], out[4096];
	size_t o = 0;
	bool space = false;

	if (read_small(path, buf, sizeof(buf)) < 0) {
		kv(key, "%s", errname(errno));
		return;
	}
	for (char *p = buf; *p && *p != '\n' && o + 1 < sizeof(out); p++) {
		if (isspace((unsigned char)*p)) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = *p;
	}
	out[o] = '\0';
	kv(key, "%s", out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* ---------------------------------------------------------- identity */

static int cmd_ids(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t groups[256];
	char list[4096] = "";
	size_t pos = 0;
	int n;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	kv("uid", "%u", (unsigned)ru);
	kv("euid", "%u", (unsigned)eu);
	kv("suid", "%u", (unsigned)su);
	kv("gid", "%u", (unsigned)rg);
	kv("egid", "%u", (unsigned)eg);
	kv("sgid", "%u", (unsigned)sg);
	n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	for (int i = 0; i < n && pos + 16 < sizeof(list); i++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%u", i ? "," : "",
					(unsigned)groups[i]);
	kv("groups", "%s", list);
	kv_first_line("setgroups", "/proc/self/setgroups");
	kv_first_line("uid_map", "/proc/self/uid_map");
	kv_first_line("gid_map", "/proc/self/gid_map");
	return EXIT_DONE;
}

static int cmd_caps(void)
{
	static const char *const fields[] = {"CapInh", "CapPrm",     "CapEff", "CapBnd",
					     "CapAmb", "NoNewPrivs", "Seccomp"};
	char status[16384], value[256];

	if (read_small("/proc/self/status", status, sizeof(status)) < 0) {
		kv("status", "%s", errname(errno));
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (status_field(status, fields[i], value, sizeof(value)))
			kv(fields[i], "%s", value);
		else
			kv(fields[i], "absent");
	}
	return EXIT_DONE;
}

/* -------------------------------------------------------- filesystem */

static int cmd_write(const char *path)
{
	static const char text[] = "written by the wtbox probe\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = errno;

	if (fd >= 0) {
		ssize_t n = write(fd, text, sizeof(text) - 1);
		err = errno;
		if (close(fd) < 0 && n >= 0) {
			n = -1;
			err = errno;
		}
		if (n < 0)
			fd = -1;
	}
	return result_err("write", fd, err) ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_read(const char *path)
{
	char head[128];
	size_t head_len = 0, total = 0;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		kv("read", "%s", errname(errno));
		return EXIT_FAILED;
	}
	while (total < READ_MAX) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			kv("read", "%s", errname(err));
			kv("bytes", "%zu", total);
			return EXIT_FAILED;
		}
		if (n == 0)
			break;
		if (head_len < sizeof(head)) {
			size_t take = sizeof(head) - head_len;
			if (take > (size_t)n)
				take = (size_t)n;
			memcpy(head + head_len, buf, take);
			head_len += take;
		}
		total += (size_t)n;
	}
	close(fd);
	kv("read", "ok");
	kv("bytes", "%zu%s", total, total >= READ_MAX ? "+" : "");
	kv_bytes("head", head, head_len);
	return EXIT_DONE;
}

static int cmd_openw(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (!result("openw", fd))
		return EXIT_FAILED;
	close(fd);
	return EXIT_DONE;
}

static int cmd_mkdir(const char *path)
{
	int rc = mkdir(path, 0755);
	return result("mkdir", rc) ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		kv("exists", "1");
		return EXIT_DONE;
	}
	kv("exists", "0");
	kv("errno", "%s", errname(errno));
	return EXIT_FAILED;
}

static int cmd_ls(const char *path)
{
	DIR *d = opendir(path);
	char *names[4096];
	size_t n = 0;
	char list[8192] = "";
	size_t pos = 0;
	struct dirent *e;

	if (!d) {
		kv("ls", "%s", errname(errno));
		return EXIT_FAILED;
	}
	while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0])) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? "," : "", names[i]);
		if (w > 0 && (size_t)w < sizeof(list) - pos)
			pos += (size_t)w;
		free(names[i]);
	}
	kv("ls", "ok");
	kv("entries", "%s", list);
	kv("count", "%zu", n);
	return EXIT_DONE;
}

/* The mountinfo line of the mount that holds PATH (the last mount on the
 * longest matching mount point: later lines are mounted on top). */
struct mountinfo {
	char mountpoint[PATH_MAX];
	char opts[1024];
	char fstype[256];
	char source[PATH_MAX];
	char superopts[1024];
};

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool path_under(const char *path, const char *mp)
{
	size_t n = strlen(mp);

	if (strcmp(mp, "/") == 0)
		return path[0] == '/';
	return strncmp(path, mp, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool find_mount(const char *path, struct mountinfo *best)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0, best_len = 0;
	bool found = false;

	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		struct mountinfo m;
		char *fields[12];
		int nf = 0;
		char *save = NULL;
		char *dash;

		line[strcspn(line, "\n")] = '\0';
		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		for (char *t = strtok_r(line, " ", &save); t && nf < 12;
		     t = strtok_r(NULL, " ", &save))
			fields[nf++] = t;
		if (nf < 6)
			continue;
		snprintf(m.mountpoint, sizeof(m.mountpoint), "%s", fields[4]);
		unescape_octal(m.mountpoint);
		snprintf(m.opts, sizeof(m.opts), "%s", fields[5]);
		nf = 0;
		save = NULL;
		for (char *t = strtok_r(dash + 3, " ", &save); t && nf < 3;
		     t = strtok_r(NULL, " ", &save))
			fields[nf++] = t;
		if (nf < 3)
			continue;
		snprintf(m.fstype, sizeof(m.fstype), "%s", fields[0]);
		snprintf(m.source, sizeof(m.source), "%s", fields[1]);
		unescape_octal(m.source);
		snprintf(m.superopts, sizeof(m.superopts), "%s", fields[2]);
		if (path_under(path, m.mountpoint) && strlen(m.mountpoint) >= best_len) {
			best_len = strlen(m.mountpoint);
			*best = m;
			found = true;
		}
	}
	free(line);
	fclose(f);
	return found;
}

static int cmd_mnt(const char *path)
{
	static struct mountinfo m;
	char real[PATH_MAX];

	/* A masked file may not resolve; then the path is taken as given. */
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	if (!find_mount(real, &m)) {
		kv("mnt", "ENOENT");
		return EXIT_FAILED;
	}
	kv("mnt", "ok");
	kv("mountpoint", "%s", m.mountpoint);
	kv("fstype", "%s", m.fstype);
	kv("source", "%s", m.source);
	kv("opts", "%s", m.opts);
	kv("superopts", "%s", m.superopts);
	return EXIT_DONE;
}

/* --------------------------------------------------------- privilege */

static int cmd_kill(const char *pid_s, const char *sig_s)
{
	long pid, sig = 0;

	if (!parse_long(pid_s, 1, INT_MAX, &pid) || (sig_s && !parse_long(sig_s, 0, 64, &sig)))
		return usage("kill PID [SIGNAL-NUMBER]");
	return result("kill", kill((pid_t)pid, (int)sig)) ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_ptrace(const char *pid_s)
{
	long pid;
	pid_t child = -1;
	bool attached;

	/* A child of its own: traceable even under Yama's ptrace_scope 1. */
	if (strcmp(pid_s, "child") == 0) {
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		pid = child;
	} else if (!parse_long(pid_s, 1, INT_MAX, &pid)) {
		return usage("ptrace PID|child");
	}
	attached = pid > 0 && result("ptrace", (int)ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL));
	if (attached) {
		waitpid((pid_t)pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return attached ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_mount(const char *dir)
{
	bool any = false;
	int rc;

	rc = mount("probe", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m");
	if (result("mount_tmpfs", rc)) {
		any = true;
		umount2(dir, MNT_DETACH);
	}
	rc = mount(dir, dir, NULL, MS_BIND, NULL);
	if (result("mount_bind", rc)) {
		any = true;
		umount2(dir, MNT_DETACH);
	}
	rc = mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (result("mount_proc", rc)) {
		any = true;
		umount2(dir, MNT_DETACH);
	}
	/* Without MS_RDONLY, a bind remount makes a mount read-write (on a
	 * directory that is not a mount point: EINVAL when allowed). */
	rc = mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL);
	if (result("remount_rw", rc))
		any = true;
	return any ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_umount(const char *path)
{
	return result("umount", umount2(path, MNT_DETACH)) ? EXIT_DONE : EXIT_FAILED;
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && ok;
}

/* The child of `nested`: in its own user and mount namespaces it is root
 * there and holds every capability there. Mounts that came
 * from the sandbox must stay locked: not unmountable, not writable. */
static int nested_child(const char *path)
{
	char map[64], file[PATH_MAX];
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct statvfs sv;
	unsigned long keep = 0;
	static struct mountinfo m;
	bool escaped = false;
	int rc;

	if (!result("nested_userns", unshare(CLONE_NEWUSER | CLONE_NEWNS)))
		return EXIT_FAILED;
	/* Map the own ids to themselves: mapping uid 0 would need CAP_SETFCAP
	 * where the namespace was made. Without maps the capabilities in the
	 * new namespace still hold, so the attempts below go on regardless. */
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	rc = write_file("/proc/self/setgroups", "deny") && write_file("/proc/self/uid_map", map)
		 ? 0
		 : -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (rc == 0 && !write_file("/proc/self/gid_map", map))
		rc = -1;
	result("nested_maps", rc);
	/* Nothing done here may propagate back to the sandbox. */
	result("nested_private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));

	/* Keep the flags the kernel would refuse to clear (nosuid, nodev,
	 * noexec are locked too): only the read-only lock is tested. */
	if (statvfs(path, &sv) == 0) {
		keep |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
		keep |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
		keep |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
	}
	/* A remount works on a mount point: the mount that holds PATH. */
	if (!find_mount(path, &m))
		snprintf(m.mountpoint, sizeof(m.mountpoint), "%s", path);
	kv("nested_mountpoint", "%s", m.mountpoint);
	rc = mount(NULL, m.mountpoint, NULL, MS_REMOUNT | MS_BIND | keep, NULL);
	result("nested_remount_rw", rc);
	snprintf(file, sizeof(file), "%s/.wtbox-probe-nested.%ld", path, (long)getpid());
	rc = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (result("nested_write", rc)) {
		escaped = true;
		close(rc);
		unlink(file);
	}
	rc = umount2(m.mountpoint, MNT_DETACH);
	if (result("nested_umount", rc))
		escaped = true;
	return escaped ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_nested(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		result("fork", -1);
		return EXIT_USAGE;
	}
	if (pid == 0)
		_exit(nested_child(path));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return EXIT_USAGE;
	return WEXITSTATUS(status);
}

/* One sample of /proc/PID/status for `suid`. */
struct suid_sample {
	char name[64], state[64], uid[128], capeff[64], capprm[64];
};

static bool suid_read(pid_t pid, struct suid_sample *s)
{
	char path[64], status[16384];

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (read_small(path, status, sizeof(status)) <= 0)
		return false;
	return status_field(status, "Name", s->name, sizeof(s->name)) &&
	       status_field(status, "State", s->state, sizeof(s->state)) &&
	       status_field(status, "Uid", s->uid, sizeof(s->uid)) &&
	       status_field(status, "CapEff", s->capeff, sizeof(s->capeff)) &&
	       status_field(status, "CapPrm", s->capprm, sizeof(s->capprm));
}

/* The effective uid: the second field of "Uid: real effective saved fs". */
static long sample_euid(const struct suid_sample *s)
{
	long real = -1, eff = -1;
	sscanf(s->uid, "%ld %ld", &real, &eff);
	return eff;
}

static bool sample_gained(const struct suid_sample *s, uid_t my_euid)
{
	return sample_euid(s) != (long)my_euid || strtoull(s->capeff, NULL, 16) != 0 ||
	       strtoull(s->capprm, NULL, 16) != 0;
}

/* The child of `suid`: stdin on the pipe, stdout and stderr to /dev/null. */
static void suid_child(const char *binary, int in_fd)
{
	int null = open("/dev/null", O_WRONLY);
	char *const argv[] = {(char *)binary, NULL};

	dup2(in_fd, STDIN_FILENO);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	execv(binary, argv);
	_exit(127);
}

static int cmd_suid(const char *binary)
{
	const char *base = strrchr(binary, '/') ? strrchr(binary, '/') + 1 : binary;
	char comm[16];
	struct stat st;
	struct statvfs sv;
	struct suid_sample s, last;
	bool execed = false, gained = false;
	uid_t my_euid = geteuid();
	int in[2], status;
	pid_t pid;
	double deadline;

	if (stat(binary, &st) < 0) {
		kv("suid", "%s", errname(errno));
		return EXIT_USAGE;
	}
	kv("suid_bit", "%d", (st.st_mode & S_ISUID) ? 1 : 0);
	kv("owner", "%u", (unsigned)st.st_uid);
	if (statvfs(binary, &sv) == 0)
		kv("nosuid_mount", "%d", (sv.f_flag & ST_NOSUID) ? 1 : 0);
	kv("self_euid", "%u", (unsigned)my_euid);
	if (!(st.st_mode & S_ISUID))
		return usage("suid: the binary is not setuid");
	/* The kernel's comm is the basename cut to 15 bytes. */
	snprintf(comm, sizeof(comm), "%s", base);

	if (pipe2(in, O_CLOEXEC) < 0)
		return EXIT_USAGE;
	pid = fork();
	if (pid < 0)
		return EXIT_USAGE;
	if (pid == 0)
		suid_child(binary, in[0]);
	close(in[0]);

	/* comm changes a little before the new credentials are committed:
	 * keep sampling for a while after the execve and take the most
	 * privileged sample (a zombie keeps its credentials until reaped). */
	deadline = now() + 5.0;
	while (now() < deadline) {
		if (!suid_read(pid, &s))
			break;
		if (!execed && strcmp(s.name, comm) == 0) {
			execed = true;
			deadline = now() + 0.3;
		}
		if (execed) {
			last = s;
			if (sample_gained(&s, my_euid))
				gained = true;
			if (gained || s.state[0] == 'Z')
				break;
		}
		sleep_ms(2);
	}
	kill(pid, SIGKILL);
	close(in[1]);
	waitpid(pid, &status, 0);

	kv("execed", "%d", execed ? 1 : 0);
	if (!execed)
		return usage("suid: the binary was not seen running");
	kv("suid_euid", "%ld", sample_euid(&last));
	kv("suid_capeff", "%s", last.capeff);
	kv("suid_capprm", "%s", last.capprm);
	kv("gained", "%d", gained ? 1 : 0);
	return gained ? EXIT_DONE : EXIT_FAILED;
}

/* --------------------------------------------------------- terminals */

/* For a terminal fd: "own" when it lives on the devpts mounted at /dev/pts
 * (the sandbox's own instance), "foreign" otherwise (e.g. a pty the
 * supervisor opened on the host's devpts). */
static const char *tty_origin(int fd)
{
	struct stat a, b;

	if (!isatty(fd))
		return "none";
	if (fstat(fd, &a) < 0 || stat("/dev/pts/ptmx", &b) < 0)
		return "unknown";
	return a.st_dev == b.st_dev ? "own" : "foreign";
}

/* Which terminal FD is, the same inside and outside any namespace: the
 * device of its filesystem (a devpts instance) and its own device number.
 * Two fds with the same id are the same terminal. */
static void kv_tty_id(const char *key, int fd)
{
	struct stat st;

	if (!isatty(fd) || fstat(fd, &st) < 0)
		return;
	kv(key, "%u:%u/%u:%u", major(st.st_dev), minor(st.st_dev), major(st.st_rdev),
	   minor(st.st_rdev));
}

static int open_target(const char *target, bool *opened)
{
	long fd;

	*opened = false;
	if (parse_long(target, 0, INT_MAX, &fd))
		return (int)fd;
	*opened = true;
	return open(target, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static int cmd_tiocsti(const char *target, const char *text)
{
	bool opened;
	int fd = open_target(target, &opened);
	size_t i, len = strlen(text);

	if (fd < 0) {
		kv("open", "%s", errname(errno));
		return EXIT_FAILED;
	}
	kv("tty", "%s", tty_origin(fd));
	kv_tty_id("tty_id", fd);
	for (i = 0; i < len; i++) {
		if (ioctl(fd, TIOCSTI, &text[i]) < 0)
			break;
	}
	result("tiocsti", i == len ? 0 : -1);
	kv("injected", "%zu", i);
	if (opened)
		close(fd);
	return i == len && len > 0 ? EXIT_DONE : EXIT_FAILED;
}

static bool winsize_of(struct winsize *ws)
{
	int fd;
	bool ok;

	for (fd = 0; fd <= 2; fd++)
		if (ioctl(fd, TIOCGWINSZ, ws) == 0)
			return true;
	fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = ioctl(fd, TIOCGWINSZ, ws) == 0;
	close(fd);
	return ok;
}

static int cmd_tty(void)
{
	struct winsize ws;
	const char *name = ttyname(STDIN_FILENO);
	int fd;

	for (int i = 0; i <= 2; i++) {
		char key[16];
		snprintf(key, sizeof(key), "isatty%d", i);
		kv(key, "%d", isatty(i) ? 1 : 0);
	}
	kv("ttyname0", "%s", name ? name : "");
	kv("tty0", "%s", tty_origin(STDIN_FILENO));
	kv_tty_id("tty0_id", STDIN_FILENO);
	if (winsize_of(&ws)) {
		kv("rows", "%u", ws.ws_row);
		kv("cols", "%u", ws.ws_col);
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	kv("ctty", "%d", fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
	kv("foreground", "%d", tcgetpgrp(STDIN_FILENO) == getpgrp() ? 1 : 0);
	return isatty(STDIN_FILENO) ? EXIT_DONE : EXIT_FAILED;
}

static int cmd_winch(const char *seconds_s)
{
	struct winsize ws;
	struct timespec ts;
	sigset_t set;
	long seconds;

	if (!parse_long(seconds_s, 1, 3600, &seconds))
		return usage("winch SECONDS");
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (winsize_of(&ws))
		kv("size", "%ux%u", ws.ws_row, ws.ws_col);
	kv("ready", "1");
	ts.tv_sec = seconds;
	ts.tv_nsec = 0;
	if (sigtimedwait(&set, NULL, &ts) != SIGWINCH) {
		kv("winch", "timeout");
		return EXIT_FAILED;
	}
	if (!winsize_of(&ws)) {
		result("winch", -1);
		return EXIT_FAILED;
	}
	kv("winch", "%ux%u", ws.ws_row, ws.ws_col);
	return EXIT_DONE;
}

/* ------------------------------------------------------- processes */

static int cmd_hostname(void)
{
	char host[256] = "", domain[256] = "";
	struct utsname u;

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	if (getdomainname(domain, sizeof(domain) - 1) < 0)
		domain[0] = '\0';
	kv("hostname", "%s", host);
	if (uname(&u) == 0)
		kv("nodename", "%s", u.nodename);
	kv("domainname", "%s", domain);
	return EXIT_DONE;
}

static int cmd_pids(void)
{
	DIR *d = opendir("/proc");
	long pids[4096];
	size_t n = 0, pos = 0;
	char list[16384] = "";
	struct dirent *e;
	long v;

	if (!d) {
		kv("pids", "%s", errname(errno));
		return EXIT_FAILED;
	}
	while ((e = readdir(d)) && n < sizeof(pids) / sizeof(pids[0]))
		if (parse_long(e->d_name, 1, INT_MAX, &v))
			pids[n++] = v;
	closedir(d);
	qsort(pids, n, sizeof(pids[0]), cmp_long);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(list + pos, sizeof(list) - pos, "%s%ld", i ? "," : "", pids[i]);
		if (w > 0 && (size_t)w < sizeof(list) - pos)
			pos += (size_t)w;
	}
	kv("pids", "%s", list);
	kv("count", "%zu", n);
	kv("self", "%ld", (long)getpid());
	kv("ppid", "%ld", (long)getppid());
	return EXIT_DONE;
}

static int cmd_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	char list[4096] = "";
	size_t pos = 0;
	long fds[1024];
	size_t n = 0;
	struct dirent *e;
	long v;

	if (!d) {
		kv("fds", "%s", errname(errno));
		return EXIT_FAILED;
	}
	while ((e = readdir(d)) && n < sizeof(fds) / sizeof(fds[0]))
		if (parse_long(e->d_name, 0, INT_MAX, &v) && v != dirfd(d) &&
		    (v != out_fd || out_fd <= 2))
			fds[n++] = v;
	closedir(d);
	qsort(fds, n, sizeof(fds[0]), cmp_long);
	for (size_t i = 0; i < n; i++) {
		char link[64], target[PATH_MAX], key[32];
		ssize_t len;
		int w = snprintf(list + pos, sizeof(list) - pos, "%s%ld", i ? "," : "", fds[i]);

		if (w > 0 && (size_t)w < sizeof(list) - pos)
			pos += (size_t)w;
		snprintf(link, sizeof(link), "/proc/self/fd/%ld", fds[i]);
		len = readlink(link, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		snprintf(key, sizeof(key), "fd%ld", fds[i]);
		kv(key, "%s", target);
		if (isatty((int)fds[i])) {
			snprintf(key, sizeof(key), "fd%ld_tty", fds[i]);
			kv(key, "%s", tty_origin((int)fds[i]));
			snprintf(key, sizeof(key), "fd%ld_tty_id", fds[i]);
			kv_tty_id(key, (int)fds[i]);
		}
	}
	kv("fds", "%s", list);
	return EXIT_DONE;
}

static int cmd_openat(const char *fd_s, const char *path)
{
	char buf[128];
	long dfd;
	ssize_t n;
	int fd;

	if (!parse_long(fd_s, 0, INT_MAX, &dfd))
		return usage("openat FD PATH");
	fd = openat((int)dfd, path, O_RDONLY | O_CLOEXEC);
	if (!result("openat", fd))
		return EXIT_FAILED;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	kv_bytes("head", buf, n > 0 ? (size_t)n : 0);
	return EXIT_DONE;
}

/* ----------------------------------------------------------- network */

/* Fills ADDR for "tcp HOST PORT" or "unix PATH|@NAME". */
static int make_addr(const char *kind, const char *a, const char *b, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strcmp(kind, "tcp") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		long port;
		if (!b || !parse_long(b, 1, 65535, &port) ||
		    inet_pton(AF_INET, a, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return AF_INET;
	}
	if (strcmp(kind, "unix") == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		size_t n = strlen(a);
		if (n == 0 || n >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a, n);
		if (a[0] == '@') /* abstract: a leading NUL, no terminator */
			un->sun_path[0] = '\0';
		*len =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (a[0] == '@' ? 0 : 1));
		return AF_UNIX;
	}
	return -1;
}

/* Reads one line (at most 2 s) from FD into KEY. */
static void read_line(int fd, const char *key)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[256];
	ssize_t n = 0;

	if (poll(&p, 1, 2000) > 0)
		n = read(fd, buf, sizeof(buf));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	kv_bytes(key, buf, n > 0 ? (size_t)n : 0);
}

static int cmd_connect(const char *kind, const char *a, const char *b)
{
	struct sockaddr_storage ss;
	struct timeval tv = {.tv_sec = 3};
	socklen_t len;
	int family = make_addr(kind, a, b, &ss, &len);
	int fd, rc;

	if (family < 0)
		return usage("connect tcp HOST PORT | connect unix PATH|@NAME");
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!result("socket", fd))
		return EXIT_FAILED;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	rc = connect(fd, (struct sockaddr *)&ss, len);
	if (!result("connect", rc)) {
		close(fd);
		return EXIT_FAILED;
	}
	read_line(fd, "data");
	close(fd);
	return EXIT_DONE;
}

/* Writes TEXT to PATH through a temporary file and a rename: a reader that
 * polls for PATH never sees it half written. */
static bool publish(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	ok = close(fd) == 0 && ok;
	return ok && rename(tmp, path) == 0;
}

static int cmd_serve(const char *kind, const char *addrfile, const char *seconds_s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[128];
	long seconds, count = 0;
	int fd, family;
	double end;

	if (!parse_long(seconds_s, 1, 3600, &seconds))
		return usage("serve tcp|unix ADDRFILE SECONDS");
	if (strcmp(kind, "tcp") == 0) {
		family = make_addr("tcp", "127.0.0.1", "1", &ss, &len);
		((struct sockaddr_in *)&ss)->sin_port = 0;
	} else if (strcmp(kind, "unix") == 0) {
		snprintf(addr, sizeof(addr), "@wtbox-probe-%ld-%ld", (long)getpid(),
			 (long)time(NULL));
		family = make_addr("unix", addr, NULL, &ss, &len);
	} else {
		return usage("serve tcp|unix ADDRFILE SECONDS");
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		result("listen", -1);
		return EXIT_FAILED;
	}
	if (family == AF_INET) {
		struct sockaddr_in in;
		socklen_t l = sizeof(in);
		getsockname(fd, (struct sockaddr *)&in, &l);
		snprintf(addr, sizeof(addr), "%u", ntohs(in.sin_port));
	}
	kv("listen", "%s", addr);
	if (!publish(addrfile, addr)) {
		result("addrfile", -1);
		return EXIT_USAGE;
	}
	end = now() + (double)seconds;
	while (now() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int c;
		if (poll(&p, 1, (int)((end - now()) * 1000) + 1) <= 0)
			continue;
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		write_all(c, "hello\n", 6);
		close(c);
		kv("conn", "%ld", ++count);
	}
	kv("accepted", "%ld", count);
	close(fd);
	return EXIT_DONE;
}

static int cmd_net(void)
{
	struct if_nameindex *ifs = if_nameindex();
	char list[1024] = "";
	size_t pos = 0;
	struct ifreq ifr;
	struct sockaddr_in in = {.sin_family = AF_INET};
	socklen_t len = sizeof(in);
	int s, l, c = -1, a = -1, rc = -1;
	char buf[8];

	for (struct if_nameindex *i = ifs; i && i->if_name; i++) {
		int w =
		    snprintf(list + pos, sizeof(list) - pos, "%s%s", pos ? "," : "", i->if_name);
		if (w > 0 && (size_t)w < sizeof(list) - pos)
			pos += (size_t)w;
	}
	if (ifs)
		if_freenameindex(ifs);
	kv("ifaces", "%s", list);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		kv("lo_up", "%d", (ifr.ifr_flags & IFF_UP) ? 1 : 0);
	if (s >= 0)
		close(s);

	/* A TCP round trip over 127.0.0.1, all in this process. */
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l >= 0 && bind(l, (struct sockaddr *)&in, sizeof(in)) == 0 && listen(l, 1) == 0 &&
	    getsockname(l, (struct sockaddr *)&in, &len) == 0) {
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c >= 0 && connect(c, (struct sockaddr *)&in, sizeof(in)) == 0)
			a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (a >= 0 && write(c, "ping", 4) == 4 && read(a, buf, sizeof(buf)) == 4 &&
		    memcmp(buf, "ping", 4) == 0)
			rc = 0;
	}
	result("loopback", rc);
	if (a >= 0)
		close(a);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	return rc == 0 ? EXIT_DONE : EXIT_FAILED;
}

/* ---------------------------------------------------------- keyrings */

/* key_serial_t is an int32_t; keyctl() and friends through syscall(2): the
 * C library has no wrappers without libkeyutils. */
static int cmd_keyring(void)
{
	long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);

	if (id < 0) {
		kv("session", "%s", errname(errno));
		return EXIT_FAILED;
	}
	kv("session", "%ld", id);
	return EXIT_DONE;
}

static int cmd_keyring_add(const char *name, char **command)
{
	static const char payload[] = "wtbox probe secret";
	long ses = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
	long key;

	if (ses < 0) {
		kv("session", "%s", errname(errno));
		return EXIT_USAGE;
	}
	kv("session", "%ld", ses);
	key = syscall(SYS_add_key, "user", name, payload, sizeof(payload) - 1,
		      KEY_SPEC_SESSION_KEYRING);
	if (key < 0) {
		kv("key", "%s", errname(errno));
		return EXIT_USAGE;
	}
	kv("key", "%ld", key);
	execvp(command[0], command);
	kv("exec", "%s", errname(errno));
	return EXIT_USAGE;
}

static int cmd_keyring_find(const char *name)
{
	long s = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", name, 0);
	int serr = errno;
	/* No callout: nothing is constructed, the lookup only searches. */
	long r = syscall(SYS_request_key, "user", name, NULL, 0);
	int rerr = errno;

	if (s >= 0)
		kv("search", "%ld", s);
	else
		kv("search", "%s", errname(serr));
	if (r >= 0)
		kv("request", "%ld", r);
	else
		kv("request", "%s", errname(rerr));
	return s >= 0 || r >= 0 ? EXIT_DONE : EXIT_FAILED;
}

/* -------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *cmd;
	int n;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "-o") == 0) {
		out_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			perror("probe: -o");
			return EXIT_USAGE;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		return usage("missing subcommand");
	cmd = argv[1];
	n = argc - 2; /* arguments after the subcommand */
	argv += 2;

	if (strcmp(cmd, "ids") == 0 && n == 0)
		return cmd_ids();
	if (strcmp(cmd, "caps") == 0 && n == 0)
		return cmd_caps();
	if (strcmp(cmd, "write") == 0 && n == 1)
		return cmd_write(argv[0]);
	if (strcmp(cmd, "read") == 0 && n == 1)
		return cmd_read(argv[0]);
	if (strcmp(cmd, "mkdir") == 0 && n == 1)
		return cmd_mkdir(argv[0]);
	if (strcmp(cmd, "exists") == 0 && n == 1)
		return cmd_exists(argv[0]);
	if (strcmp(cmd, "ls") == 0 && n == 1)
		return cmd_ls(argv[0]);
	if (strcmp(cmd, "kill") == 0 && (n == 1 || n == 2))
		return cmd_kill(argv[0], n == 2 ? argv[1] : NULL);
	if (strcmp(cmd, "ptrace") == 0 && n == 1)
		return cmd_ptrace(argv[0]);
	if (strcmp(cmd, "mount") == 0 && n == 1)
		return cmd_mount(argv[0]);
	if (strcmp(cmd, "openw") == 0 && n == 1)
		return cmd_openw(argv[0]);
	if (strcmp(cmd, "umount") == 0 && n == 1)
		return cmd_umount(argv[0]);
	if (strcmp(cmd, "nested") == 0 && n == 1)
		return cmd_nested(argv[0]);
	if (strcmp(cmd, "tiocsti") == 0 && (n == 1 || n == 2))
		return cmd_tiocsti(argv[0], n == 2 ? argv[1] : "echo INJECTED\n");
	if (strcmp(cmd, "hostname") == 0 && n == 0)
		return cmd_hostname();
	if (strcmp(cmd, "pids") == 0 && n == 0)
		return cmd_pids();
	if (strcmp(cmd, "fds") == 0 && n == 0)
		return cmd_fds();
	if (strcmp(cmd, "openat") == 0 && n == 2)
		return cmd_openat(argv[0], argv[1]);
	if (strcmp(cmd, "suid") == 0 && n == 1)
		return cmd_suid(argv[0]);
	if (strcmp(cmd, "tty") == 0 && n == 0)
		return cmd_tty();
	if (strcmp(cmd, "winch") == 0 && n == 1)
		return cmd_winch(argv[0]);
	if (strcmp(cmd, "connect") == 0 && (n == 2 || n == 3))
		return cmd_connect(argv[0], argv[1], n == 3 ? argv[2] : NULL);
	if (strcmp(cmd, "serve") == 0 && n == 3)
		return cmd_serve(argv[0], argv[1], argv[2]);
	if (strcmp(cmd, "net") == 0 && n == 0)
		return cmd_net();
	if (strcmp(cmd, "mnt") == 0 && n == 1)
		return cmd_mnt(argv[0]);
	if (strcmp(cmd, "keyring") == 0 && n == 0)
		return cmd_keyring();
	if (strcmp(cmd, "keyring-add") == 0 && n >= 2)
		return cmd_keyring_add(argv[0], argv + 1);
	if (strcmp(cmd, "keyring-find") == 0 && n == 1)
		return cmd_keyring_find(argv[0]);
	return usage("unknown subcommand or wrong number of arguments");
}
