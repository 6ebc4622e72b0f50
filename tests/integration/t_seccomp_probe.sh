# t_seccomp_probe.sh: the shipped policies as the command sees them. The
# probe (tests/helpers/sysprobe.c) makes each call with harmless bad
# arguments: under a policy that denies it, it gets the policy's errno;
# with --policy=none the kernel's own, different error.

SYSPROBE=$WTBOX_HELPERS/sysprobe

# The calls default.json refuses with EPERM, and what the kernel answers
# them without a filter.
DENIED=(keyctl add_key request_key perf_event_open mount umount2 unshare setns
    clone_newuser clone_newns clock_settime settimeofday personality_norandom
    ioctl_tiocsti ioctl_tiocsti_high ioctl_tioclinux socket_vsock
    i386_keyctl i386_unshare i386_mount)
UNFILTERED=(keyctl=EOPNOTSUPP add_key=EFAULT request_key=EFAULT perf_event_open=EFAULT
    mount=EFAULT umount2=EFAULT unshare=EINVAL setns=EBADF clone_newuser=EINVAL
    clone_newns=EINVAL clock_settime=EFAULT settimeofday=EFAULT personality_norandom=ok
    ioctl_tiocsti=EBADF ioctl_tiocsti_high=EBADF ioctl_tioclinux=EBADF i386_keyctl=EOPNOTSUPP
    i386_unshare=EINVAL i386_mount=EFAULT)

need_sysprobe() {
    need_sandbox
    [[ -x $SYSPROBE ]] || fail "no sysprobe at '$SYSPROBE' (make check builds it)"
    [[ $(uname -m) == x86_64 ]] || skip "the probe's i386/x32 calls are for x86_64"
    # The 32-bit entry point may be off (ia32_emulation=0).
    [[ $("$SYSPROBE" i386_getpid) == i386_getpid=ok ]] || skip "no i386 emulation in this kernel"
}

# sysprobe_run KEY POLICY CALLS...: one sandbox, the probe's report in $O/KEY.
sysprobe_run() {
    local key=$1 policy=$2
    shift 2
    batch_sh "$key" "$(printf '%q ' "$SYSPROBE" "$@")"
    batch_run 0 --name "p$key" --policy="$policy"
}

assert_lines() { # FILE LINE...
    local f=$1 line
    shift
    for line in "$@"; do
        grep -qxF -- "$line" "$f" || fail "expected the line '$line' in $(_lib_show "$f")"
    done
}

test_default_denies_with_eperm() {
    need_sysprobe
    make_repo repo
    cd repo
    sysprobe_run def default "${DENIED[@]}" clone3 ioctl_tcgets getpid i386_getpid \
        personality_query personality_linux32 socket_unix socket_inet6 socket_netlink ptrace \
        x32_getpid x32_keyctl x32_unshare
    local c
    for c in "${DENIED[@]}"; do assert_lines "$O/def" "$c=EPERM"; done
    # x32: the policy's answers where the kernel runs x32 calls; else the
    # filter refuses them all, as the kernel would.
    if kernel_runs_x32; then
        assert_lines "$O/def" x32_getpid=ok x32_keyctl=EPERM x32_unshare=EPERM
    else
        assert_lines "$O/def" x32_getpid=ENOSYS x32_keyctl=ENOSYS x32_unshare=ENOSYS
    fi
    # clone3 keeps its flags in memory: ENOSYS, so libc falls back to clone.
    assert_lines "$O/def" clone3=ENOSYS ioctl_tcgets=EBADF getpid=ok i386_getpid=ok \
        personality_query=ok personality_linux32=ok socket_unix=ok socket_inet6=ok \
        socket_netlink=ok ptrace=ESRCH
}

test_none_fails_differently() {
    need_sysprobe
    make_repo repo
    cd repo
    sysprobe_run none none "${DENIED[@]}" clone3 x32_keyctl
    assert_lines "$O/none" "${UNFILTERED[@]}" clone3=EINVAL
    # x32 may be compiled out (ENOSYS) or there (EOPNOTSUPP/EINVAL): never EPERM.
    assert_not_contains "$O/none" x32_keyctl=EPERM
    assert_not_contains "$O/none" =EPERM
    assert_contains "$ERR" "wtbox: warning: --policy=none: the command runs without a seccomp filter"
}

test_strict_no_ptrace_few_socket_families() {
    need_sysprobe
    make_repo repo
    cd repo
    sysprobe_run strict strict ptrace socket_unix socket_inet6 socket_netlink socket_vsock keyctl
    assert_lines "$O/strict" ptrace=EPERM socket_unix=ok socket_inet6=ok \
        socket_netlink=EAFNOSUPPORT socket_vsock=EAFNOSUPPORT keyctl=EPERM
}

test_nested_allows_user_namespaces() {
    need_sysprobe
    command -v unshare >/dev/null || skip "unshare is not installed"
    make_repo repo
    cd repo
    batch_sh nested_u 'unshare -U true && echo worked'
    batch_sh nested_probe "$(printf '%q ' "$SYSPROBE" unshare mount clone_newuser keyctl)"
    # unshare -Ur maps root to the caller; when the caller is the host's
    # root, the kernel wants CAP_SETFCAP for that (Linux 5.12+), which
    # nothing inside has: -r only as an unprivileged user.
    (($(id -u) == 0)) || batch_sh nested_ur 'unshare -Ur true && echo worked'
    batch_run 0 --name nested --policy nested
    assert_probe nested_u 0 worked
    (($(id -u) == 0)) || assert_probe nested_ur 0 worked
    assert_lines "$O/nested_probe" unshare=EINVAL mount=EFAULT clone_newuser=EINVAL keyctl=EPERM

    batch_sh default_u 'unshare -U true'
    batch_run 0 --name nested --policy default
    assert_eq 1 "$(cat "$O/default_u.rc")" "unshare -U under default"
    assert_contains "$O/default_u" "Operation not permitted"
}

test_bubblewrap_inside_nested() {
    need_sysprobe
    command -v bwrap >/dev/null || skip "bubblewrap is not installed"
    make_repo repo
    cd repo
    # No --proc: a fresh procfs needs a fully visible /proc, and the
    # sandbox masks parts of its own.
    batch_sh bwrap 'bwrap --unshare-user --unshare-pid --ro-bind / / --dev /dev true && echo worked'
    batch_run 0 --name bw --policy nested
    batch_sh bwrap_default 'bwrap --unshare-user --ro-bind / / true'
    batch_run 0 --name bw --policy default
    assert_eq 1 "$(cat "$O/bwrap_default.rc")" "bwrap under default"
    assert_contains "$O/bwrap_default" "No permissions to create new namespace"
    if (($(id -u) == 0)); then
        # bwrap maps the caller to itself: for the host's root the kernel
        # wants CAP_SETFCAP (Linux 5.12+), which nothing inside has. The
        # namespace itself was made: the uid map is what fails.
        assert_eq 1 "$(cat "$O/bwrap.rc")" "bwrap under nested as root"
        assert_contains "$O/bwrap" "bwrap: setting up uid map: Operation not permitted"
    else
        assert_probe bwrap 0 worked
    fi
}

test_dry_run_names_the_policy() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --dry-run --name d -- true
    local arches="X86_64 X86"
    kernel_runs_x32 && arches+=" X32"
    assert_match "$OUT" "^  seccomp   /.*/policies/default.json: default SCMP_ACT_ERRNO\\(ENOSYS\\), [0-9]+ rules, arches $arches(,|$)"
    expect_exit 0 wtbox run --dry-run --policy strict --name d -- true
    assert_match "$OUT" '^  seccomp   /.*/policies/strict.json: '
    expect_exit 0 wtbox run --dry-run --policy=none --name d -- true
    assert_contains "$OUT" "  seccomp   none (--policy=none: no filter)"
    assert_no_agents .
}

test_docker_default_is_enforced() {
    need_sysprobe
    local f=${WTBOX_TESTDATA:-}/seccomp/docker-default.json
    [[ -n ${WTBOX_TESTDATA:-} && -f $f ]] || skip "no docker-default.json (../shared/testdata)"
    make_repo repo
    cd repo
    cp "$f" "$T/docker-default.json"
    batch_sh dd "$(printf '%q ' "$SYSPROBE" keyctl unshare mount clone_newuser i386_keyctl getpid)"
    batch_sh dd_work 'printf "int main(void){return 7;}\n" >t.c && cc -o t t.c && { ./t; echo "status=$?"; } &&
        python3 -c "import threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join()"'
    batch_run 0 --name dd --policy "$T/docker-default.json"
    # Docker's default action is EPERM (defaultErrnoRet 1).
    assert_lines "$O/dd" keyctl=EPERM unshare=EPERM mount=EPERM clone_newuser=EPERM \
        i386_keyctl=EPERM getpid=ok
    assert_probe dd_work 0 status=7 thread
}
