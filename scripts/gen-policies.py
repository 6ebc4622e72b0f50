#!/usr/bin/env python3
"""Writes policies/default.json, nested.json and strict.json.

The policies are plain Docker/OCI seccomp profiles; this script only keeps
the three consistent and spells out the argument rules that a hand would
get wrong (the kernel reads ioctl's request, personality's value and
socket's domain as 32-bit ints, so a rule must look at the low 32 bits
only, and libseccomp allows one comparison per argument in a rule).

    scripts/gen-policies.py            rewrite policies/*.json
    scripts/gen-policies.py --check    exit 1 when they differ
"""
import json
import os
import sys

ENOSYS, EPERM, EAFNOSUPPORT = 38, 1, 97

# ---------------------------------------------------------------- allowed
ALLOW = {
    "files": """access faccessat faccessat2 open openat openat2 creat close close_range
        read readv pread64 preadv preadv2 write writev pwrite64 pwritev pwritev2 lseek
        _llseek stat lstat fstat newfstatat statx stat64 lstat64 fstat64 fstatat64
        oldstat oldlstat oldfstat statfs fstatfs statfs64 fstatfs64 truncate ftruncate
        truncate64 ftruncate64 fallocate fadvise64 fadvise64_64 readahead fsync fdatasync
        sync syncfs sync_file_range copy_file_range sendfile sendfile64 splice tee
        vmsplice mkdir mkdirat rmdir rename renameat renameat2 link linkat unlink
        unlinkat symlink symlinkat readlink readlinkat chmod fchmod fchmodat fchmodat2
        chown fchown lchown fchownat chown32 fchown32 lchown32 umask utime utimes
        utimensat utimensat_time64 futimesat getdents getdents64 readdir getcwd chdir
        fchdir mknod mknodat flock fcntl fcntl64 dup dup2 dup3 pipe pipe2 getxattr
        lgetxattr fgetxattr setxattr lsetxattr fsetxattr listxattr llistxattr flistxattr
        removexattr lremovexattr fremovexattr name_to_handle_at inotify_init
        inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark memfd_create
        cachestat statmount listmount getxattrat setxattrat listxattrat removexattrat
        file_getattr file_setattr""",
    "memory": """brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2
        munlock mlockall munlockall remap_file_pages pkey_alloc pkey_free pkey_mprotect
        membarrier mbind get_mempolicy set_mempolicy set_mempolicy_home_node
        migrate_pages move_pages memfd_secret mseal map_shadow_stack process_madvise
        process_mrelease""",
    "processes and threads": """fork vfork execve execveat exit exit_group wait4 waitid
        waitpid getpid getppid gettid getpgid setpgid getpgrp getsid setsid kill tkill
        tgkill set_tid_address set_robust_list get_robust_list futex futex_time64
        futex_waitv futex_wake futex_wait futex_requeue rseq arch_prctl
        set_thread_area get_thread_area modify_ldt prctl seccomp capget capset
        sched_yield sched_getaffinity sched_setaffinity sched_getparam sched_setparam
        sched_getscheduler sched_setscheduler sched_getattr sched_setattr
        sched_get_priority_max sched_get_priority_min sched_rr_get_interval
        sched_rr_get_interval_time64 getpriority setpriority nice ioprio_get ioprio_set
        getrlimit setrlimit prlimit64 ugetrlimit getrusage times pidfd_open
        pidfd_send_signal pidfd_getfd kcmp landlock_create_ruleset landlock_add_rule
        landlock_restrict_self restart_syscall""",
    "debuggers": "ptrace process_vm_readv process_vm_writev",
    "identity": """getuid geteuid getgid getegid getresuid getresgid getgroups setuid
        setgid setreuid setregid setresuid setresgid setgroups setfsuid setfsgid getuid32
        geteuid32 getgid32 getegid32 getresuid32 getresgid32 getgroups32 setuid32
        setgid32 setreuid32 setregid32 setresuid32 setresgid32 setgroups32 setfsuid32
        setfsgid32""",
    "signals": """rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigsuspend
        rt_sigtimedwait rt_sigtimedwait_time64 rt_sigqueueinfo rt_tgsigqueueinfo
        sigaltstack sigaction signal sigprocmask sigreturn sigpending sigsuspend
        signalfd signalfd4 pause alarm""",
    "time (reading it) and timers": """time gettimeofday clock_gettime clock_gettime64
        clock_getres clock_getres_time64 clock_nanosleep clock_nanosleep_time64
        nanosleep getitimer setitimer timer_create timer_delete timer_getoverrun
        timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
        timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64""",
    "events": """poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64
        epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2
        eventfd eventfd2 io_setup io_destroy io_submit io_cancel io_getevents
        io_pgetevents io_pgetevents_time64""",
    "network": """socketpair bind listen accept accept4 connect getsockname getpeername
        sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg recvmmsg_time64 shutdown
        setsockopt getsockopt""",
    "inter-process communication": """shmget shmat shmdt shmctl semget semop semctl
        semtimedop semtimedop_time64 msgget msgsnd msgrcv msgctl ipc mq_open mq_unlink
        mq_timedsend mq_timedsend_time64 mq_timedreceive mq_timedreceive_time64
        mq_notify mq_getsetattr""",
    "system information": "uname olduname oldolduname sysinfo getcpu getrandom",
}

# ------------------------------------------------------- denied with EPERM
DENY = {
    "kernel keyrings": "add_key keyctl request_key",
    "kernel attack surface: bpf, perf, userfaultfd, io_uring":
        "bpf perf_event_open userfaultfd io_uring_setup io_uring_enter io_uring_register",
    "kernel images and modules": """kexec_load kexec_file_load init_module finit_module
        delete_module create_module query_module get_kernel_syms""",
    "the mount family": """mount umount umount2 pivot_root chroot fsopen fsconfig fsmount
        fspick move_mount open_tree open_tree_attr mount_setattr fanotify_init""",
    "new namespaces": "unshare setns",
    "host names": "sethostname setdomainname",
    "swap, reboot, accounting, quotas": "swapon swapoff reboot acct quotactl quotactl_fd",
    "setting clocks and time": """settimeofday stime clock_settime clock_settime64
        adjtimex clock_adjtime clock_adjtime64""",
    "kernel log, file handles, hangup, port i/o": """syslog open_by_handle_at vhangup
        iopl ioperm lookup_dcookie nfsservctl uselib _sysctl vm86 vm86old""",
}

NS_FLAGS = {  # clone(2) flags that make new namespaces
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000, "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
NS_MASK = sum(NS_FLAGS.values())
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
LOW32 = 0xFFFFFFFF


def names(text):
    return text.split()


def rule(names_, action, comment, args=None, errno=None):
    r = {"names": names_, "action": action}
    if errno is not None:
        r["errnoRet"] = errno
    if args:
        r["args"] = args
    r["comment"] = comment
    return r


def arg(index, op, value, two=None):
    a = {"index": index, "value": value}
    if two is not None:
        a["valueTwo"] = two
    a["op"] = op
    return a


def low32_not_in(values):
    """Masked-equality cubes covering every 32-bit value but `values`
    (two values here): for each bit on which they agree, "that bit
    differs"; then the patterns of the bits where they differ that are
    neither value."""
    a, b = values
    cubes = []
    for bit in range(32):
        m = 1 << bit
        if (a & m) == (b & m):
            cubes.append((m, (a & m) ^ m))
    diff = a ^ b
    dbits = [1 << i for i in range(32) if diff & (1 << i)]
    # Every pattern of the differing bits except a's and b's.
    for p in range(1 << len(dbits)):
        v = sum(bit for i, bit in enumerate(dbits) if p & (1 << i))
        if v not in (a & diff, b & diff):
            cubes.append((diff, v))
    return cubes


def ioctl_rules():
    out = []
    for mask, value in low32_not_in((TIOCSTI, TIOCLINUX)):
        out.append(arg(1, "SCMP_CMP_MASKED_EQ", mask, value))
    rules = [rule(["ioctl"], "SCMP_ACT_ALLOW",
                  "ioctl: every request but TIOCSTI and TIOCLINUX (the kernel reads "
                  "the request as 32 bits: these match on the low 32)", [a])
             for a in out]
    rules.append(rule(["ioctl"], "SCMP_ACT_ERRNO", "ioctl TIOCSTI: typing into the terminal",
                      [arg(1, "SCMP_CMP_MASKED_EQ", LOW32, TIOCSTI)], EPERM))
    rules.append(rule(["ioctl"], "SCMP_ACT_ERRNO", "ioctl TIOCLINUX: console selection",
                      [arg(1, "SCMP_CMP_MASKED_EQ", LOW32, TIOCLINUX)], EPERM))
    return rules


def personality_rules():
    # PER_LINUX 0, PER_LINUX32 8, UNAME26 0x20000 and their sum; 0xffffffff
    # queries. A personality flag bit (ADDR_NO_RANDOMIZE and friends,
    # bits 18-27) with bit 31 clear is refused with EPERM; the rest
    # (other execution domains) falls to the default.
    rules = [rule(["personality"], "SCMP_ACT_ALLOW",
                  "personality: PER_LINUX, PER_LINUX32, UNAME26 and their sum",
                  [arg(0, "SCMP_CMP_MASKED_EQ", LOW32 & ~0x20008, 0)]),
             rule(["personality"], "SCMP_ACT_ALLOW", "personality(0xffffffff) only asks",
                  [arg(0, "SCMP_CMP_EQ", LOW32)])]
    for bit in range(18, 28):
        rules.append(rule(["personality"], "SCMP_ACT_ERRNO",
                          "personality flag 0x%x (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...)"
                          % (1 << bit),
                          [arg(0, "SCMP_CMP_MASKED_EQ", (1 << bit) | (1 << 31), 1 << bit)],
                          EPERM))
    return rules


def clone_rules(nested):
    if nested:
        return [rule(["clone"], "SCMP_ACT_ALLOW",
                     "clone, namespace flags included (nested sandboxes)"),
                rule(["clone3"], "SCMP_ACT_ERRNO",
                     "clone3 keeps its flags in memory where a filter cannot look: ENOSYS "
                     "makes the C library fall back to clone", errno=ENOSYS)]
    rules = [rule(["clone"], "SCMP_ACT_ALLOW", "clone without namespace flags "
                  "(threads, fork)", [arg(0, "SCMP_CMP_MASKED_EQ", NS_MASK, 0)])]
    for name, flag in NS_FLAGS.items():
        rules.append(rule(["clone"], "SCMP_ACT_ERRNO", "clone with %s" % name,
                          [arg(0, "SCMP_CMP_MASKED_EQ", flag, flag)], EPERM))
    rules.append(rule(["clone3"], "SCMP_ACT_ERRNO",
                      "clone3 keeps its flags in memory where a filter cannot look: ENOSYS "
                      "makes the C library fall back to clone, whose flags are checked",
                      errno=ENOSYS))
    return rules


def socket_rules(strict):
    if strict:
        r = [rule(["socket"], "SCMP_ACT_ALLOW", "socket: %s" % n,
                  [arg(0, "SCMP_CMP_EQ", v)]) for n, v in
             (("AF_UNIX", 1), ("AF_INET", 2), ("AF_INET6", 10))]
        r.append(rule(["socket"], "SCMP_ACT_ERRNO", "socket: no other family",
                      [arg(0, "SCMP_CMP_LT", 1)], EAFNOSUPPORT))
        r += [rule(["socket"], "SCMP_ACT_ERRNO", "socket: no other family",
                   [arg(0, "SCMP_CMP_EQ", v)], EAFNOSUPPORT) for v in range(3, 10)]
        r.append(rule(["socket"], "SCMP_ACT_ERRNO", "socket: no other family",
                      [arg(0, "SCMP_CMP_GT", 10)], EAFNOSUPPORT))
        r.append(rule(["socketcall"], "SCMP_ACT_ERRNO",
                      "i386 socketcall: its arguments are in memory, so the family "
                      "cannot be checked", errno=EPERM))
        return r
    r = [rule(["socket"], "SCMP_ACT_ALLOW", "socket: families below AF_VSOCK",
              [arg(0, "SCMP_CMP_LT", 40)])]
    r += [rule(["socket"], "SCMP_ACT_ALLOW", "socket: families above AF_VSOCK",
               [arg(0, "SCMP_CMP_EQ", v)]) for v in range(41, 46)]
    r.append(rule(["socket"], "SCMP_ACT_ERRNO",
                  "socket: AF_VSOCK reaches the hypervisor, past the network namespace",
                  [arg(0, "SCMP_CMP_EQ", 40)], EPERM))
    r.append(rule(["socket"], "SCMP_ACT_ERRNO", "socket: families this kernel lacks",
                  [arg(0, "SCMP_CMP_GT", 45)], EAFNOSUPPORT))
    r.append(rule(["socketcall"], "SCMP_ACT_ALLOW", "i386 sockets"))
    return r


def policy(kind):
    desc = {
        "default": "coding agents: compilers, interpreters, git, package managers, "
                   "debuggers, dev servers; dangerous calls EPERM, unknown ones ENOSYS",
        "nested": "default, plus user namespaces and mounts inside, for tools that "
                  "sandbox themselves (bubblewrap, an agent's own sandbox)",
        "strict": "default without ptrace and with sockets of the unix, inet and "
                  "inet6 families only",
    }[kind]
    allow = {k: names(v) for k, v in ALLOW.items()}
    deny = {k: names(v) for k, v in DENY.items()}
    if kind == "strict":
        allow["debuggers"] = []
        deny["debuggers (strict)"] = names(ALLOW["debuggers"])
    if kind == "nested":
        nested = ("unshare setns sethostname setdomainname mount umount umount2 "
                  "pivot_root chroot fsopen fsconfig fsmount fspick move_mount open_tree "
                  "open_tree_attr mount_setattr").split()
        allow["nested sandboxes: namespaces and mounts"] = nested
        deny = {k: [n for n in v if n not in nested] for k, v in deny.items()}
    syscalls = []
    for comment, ns in allow.items():
        if ns:
            syscalls.append(rule(sorted(set(ns)), "SCMP_ACT_ALLOW", comment))
    for comment, ns in deny.items():
        if ns:
            syscalls.append(rule(sorted(set(ns)), "SCMP_ACT_ERRNO", comment, errno=EPERM))
    syscalls += clone_rules(kind == "nested")
    syscalls += personality_rules()
    syscalls += ioctl_rules()
    syscalls += socket_rules(kind == "strict")
    return {
        "description": desc,
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": ENOSYS,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64",
                     "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": syscalls,
    }


def render(p):
    # One rule per line: diffs stay readable.
    lines = ["{"]
    for k in ("description", "defaultAction", "defaultErrnoRet", "archMap"):
        lines.append("  %s: %s," % (json.dumps(k), json.dumps(p[k])))
    lines.append('  "syscalls": [')
    rules = [json.dumps(r) for r in p["syscalls"]]
    lines.append(",\n".join("    " + r for r in rules))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "policies")
    check = "--check" in sys.argv[1:]
    differ = False
    for kind in ("default", "nested", "strict"):
        path = os.path.join(root, kind + ".json")
        text = render(policy(kind))
        json.loads(text)
        if check:
            try:
                with open(path) as f:
                    if f.read() != text:
                        print("gen-policies: %s is not what the script writes" % path)
                        differ = True
            except FileNotFoundError:
                print("gen-policies: %s is missing" % path)
                differ = True
        else:
            with open(path, "w") as f:
                f.write(text)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
