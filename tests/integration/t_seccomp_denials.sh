# t_seccomp_denials.sh: --log-denials. The command's filter sends what the
# policy fails to wtbox, which answers with the policy's errno and prints
# one line per distinct denied call: `wtbox: denied keyctl (NAME, pid N)`.

SYSPROBE=$WTBOX_HELPERS/sysprobe
DENIED_RE='^wtbox: denied '

need_sysprobe() {
    need_sandbox
    [[ -x $SYSPROBE ]] || fail "no sysprobe at '$SYSPROBE' (make check builds it)"
}

need_i386() {
    [[ $(uname -m) == x86_64 ]] || skip "the probe's i386/x32 calls are for x86_64"
    [[ $("$SYSPROBE" i386_getpid) == i386_getpid=ok ]] || skip "no i386 emulation in this kernel"
}

# denied_lines: the denial lines of the last run's stderr.
denied_lines() { grep -E "$DENIED_RE" "$ERR" || true; }

assert_denied_count() { # N
    local n
    n=$(denied_lines | wc -l)
    [[ $n == "$1" ]] || fail "expected $1 denial lines, got $n in $(_lib_show "$ERR")"
}

test_keyctl_reported_once_and_still_eperm() {
    need_sysprobe
    make_repo repo
    cd repo
    # The shell's pid is the probe's after exec: the pid inside.
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        sh -c 'echo "pid=$$"; exec "$1" "keyctl*5" keyctl "keyctl*3"' sh "$SYSPROBE"
    assert_contains "$OUT" "keyctl*5=EPERM"
    assert_contains "$OUT" "keyctl=EPERM"
    assert_contains "$OUT" "keyctl*3=EPERM"
    local pid
    pid=$(kv "$OUT" pid)
    [[ $pid =~ ^[0-9]+$ ]] || fail "no pid in $(_lib_show "$OUT")"
    assert_denied_count 1
    assert_eq "wtbox: denied keyctl (sysprobe, pid $pid)" "$(denied_lines)" "the denial line"
    assert_nothing_left . d
}

test_allowed_program_prints_nothing() {
    need_sysprobe
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        "$SYSPROBE" getpid "getpid*100" personality_query ioctl_tcgets socket_unix
    assert_contains "$OUT" "getpid*100=ok"
    assert_contains "$OUT" "ioctl_tcgets=EBADF"
    assert_denied_count 0
}

test_enosys_denial_reported_and_still_enosys() {
    need_sysprobe
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        "$SYSPROBE" "clone3*4" mount unshare
    assert_contains "$OUT" "clone3*4=ENOSYS"
    assert_contains "$OUT" "mount=EPERM"
    assert_contains "$OUT" "unshare=EPERM"
    assert_denied_count 3
    assert_match "$ERR" '^wtbox: denied clone3 \(sysprobe, pid [0-9]+\)$'
    assert_match "$ERR" '^wtbox: denied mount \(sysprobe, pid [0-9]+\)$'
    assert_match "$ERR" '^wtbox: denied unshare \(sysprobe, pid [0-9]+\)$'
}

test_other_abis_reported_with_their_name() {
    need_sysprobe
    need_i386
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        "$SYSPROBE" i386_keyctl i386_keyctl x32_keyctl keyctl i386_getpid
    assert_contains "$OUT" "i386_keyctl=EPERM"
    assert_contains "$OUT" "keyctl=EPERM"
    assert_contains "$OUT" "i386_getpid=ok"
    assert_match "$ERR" '^wtbox: denied keyctl \[x86\] \(sysprobe, pid [0-9]+\)$'
    assert_match "$ERR" '^wtbox: denied keyctl \(sysprobe, pid [0-9]+\)$'
    if kernel_runs_x32; then
        assert_contains "$OUT" "x32_keyctl=EPERM"
        assert_denied_count 3
        assert_match "$ERR" '^wtbox: denied keyctl \[x32\] \(sysprobe, pid [0-9]+\)$'
    else
        # Without x32 in the kernel, the filter has no x32 rules: its
        # calls get ENOSYS, as from the kernel, and are no denial.
        assert_contains "$OUT" "x32_keyctl=ENOSYS"
        assert_denied_count 2
    fi
}

test_without_the_option_no_lines() {
    need_sysprobe
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" -- "$SYSPROBE" keyctl clone3
    assert_contains "$OUT" "keyctl=EPERM"
    assert_contains "$OUT" "clone3=ENOSYS"
    assert_denied_count 0
}

# The process names itself (here through the name of the file it runs):
# escape sequences in it reach the terminal escaped, printable UTF-8 as it is.
test_process_name_escaped() {
    need_sysprobe
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        sh -c 'ln -s "$1" "${TMPDIR:-/tmp}/$2" && exec "${TMPDIR:-/tmp}/$2" keyctl' sh \
        "$SYSPROBE" $'\e[2J\xc2\x9bp\xc3\xa9\x9b'
    assert_contains "$OUT" "keyctl=EPERM"
    assert_denied_count 1
    assert_match "$ERR" '^wtbox: denied keyctl \(\\x1b\[2J\\xc2\\x9bp'$'\xc3\xa9''\\x9b, pid [0-9]+\)$'
    ! LC_ALL=C grep -q $'[\x1b\x9b]' "$ERR" || fail "a raw ESC or CSI in $(cat -v "$ERR")"
}

test_strict_policy_and_file_policy() {
    need_sysprobe
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --policy strict --log-denials -- \
        "$SYSPROBE" ptrace socket_vsock socket_unix
    assert_contains "$OUT" "ptrace=EPERM"
    assert_contains "$OUT" "socket_vsock=EAFNOSUPPORT"
    assert_contains "$OUT" "socket_unix=ok"
    assert_match "$ERR" '^wtbox: denied ptrace \(sysprobe, pid [0-9]+\)$'
    assert_match "$ERR" '^wtbox: denied socket \(sysprobe, pid [0-9]+\)$'
    # A policy's own errno and its NOTIFY action (ENOSYS).
    cat >"$T/p.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
  {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}
EOF
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --policy "$T/p.json" --log-denials -- \
        "$SYSPROBE" keyctl mount getpid
    assert_contains "$OUT" "keyctl=EACCES"
    assert_contains "$OUT" "mount=ENOSYS"
    assert_contains "$OUT" "getpid=ok"
    assert_denied_count 2
}

test_children_share_the_reports() {
    need_sysprobe
    make_repo repo
    cd repo
    # Two processes, the second after the first was reported: still one
    # line per call, naming the first.
    expect_exit 0 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        sh -c '"$1" keyctl; "$1" keyctl "mount*2"' sh "$SYSPROBE"
    assert_denied_count 2
    assert_match "$ERR" '^wtbox: denied keyctl \(sysprobe, pid [0-9]+\)$'
}

test_busy_denial_loop_and_timeout() {
    need_sysprobe
    make_repo repo
    cd repo
    # Denied calls as fast as the probe can make them, until the timeout.
    expect_exit 124 wtbox run --name d "${PROBE_RO[@]}" --log-denials --timeout 1 -- \
        "$SYSPROBE" "keyctl*1000000000"
    assert_contains "$ERR" "wtbox: timeout of 1 s reached; stopping the sandbox"
    assert_denied_count 1
}

test_busy_denial_loop_and_signal() {
    need_sysprobe
    make_repo repo
    cd repo
    "$WTBOX" run --name d "${PROBE_RO[@]}" --log-denials -- \
        "$SYSPROBE" "keyctl*1000000000" >"$OUT" 2>"$ERR" </dev/null &
    local pid=$! i
    track_pid "$pid"
    # The loop has started once its first denial is reported.
    for ((i = 0; i < 400; i++)); do
        grep -q "^wtbox: denied keyctl" "$ERR" && break
        sleep 0.05
    done
    grep -q "^wtbox: denied keyctl" "$ERR" || fail "no denial reported: $(_lib_show "$ERR")"
    kill -TERM "$pid"
    wait_exit "$pid" 30
    assert_eq 143 "$RC" "exit status after SIGTERM (stderr: $(cat "$ERR"))"
    assert_denied_count 1
}

test_dying_callers_do_not_stop_the_run() {
    need_sysprobe
    make_repo repo
    cd repo
    # Callers waiting for an answer are killed when the command ends.
    expect_exit 3 wtbox run --name d "${PROBE_RO[@]}" --log-denials -- \
        sh -c '"$1" "keyctl*1000000000" & "$1" "unshare*1000000000" &
            "$1" keyctl >/dev/null; exit 3' sh "$SYSPROBE"
    assert_match "$ERR" '^wtbox: denied keyctl \(sysprobe, pid [0-9]+\)$'
    assert_nothing_left . d
}

test_dry_run_says_so() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --dry-run --log-denials --name d -- true
    assert_contains "$OUT" "  denials   reported on stderr (--log-denials)"
    expect_exit 0 wtbox run --dry-run --name d -- true
    assert_not_contains "$OUT" "denials"
}

test_policy_denying_sendmsg_is_refused() {
    need_sandbox
    make_repo repo
    cd repo
    cat >"$T/nosend.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["sendmsg"], "action": "SCMP_ACT_ERRNO"}]}
EOF
    expect_exit 125 wtbox run --name d --policy "$T/nosend.json" --log-denials -- true
    assert_eq "wtbox: policy '$T/nosend.json': cannot report denials: the policy denies sendmsg, with which the command hands its listener to wtbox" \
        "$(cat "$ERR")" "the error"
    assert_no_agents .
    # Without --log-denials the same policy runs.
    expect_exit 0 wtbox run --name d --policy "$T/nosend.json" -- true
}
