# t_policy_cli.sh: wtbox policy check, list and show.

test_check_shipped_policies() {
    local p
    for p in default nested strict; do
        expect_exit 0 wtbox policy check "$p"
        assert_match "$OUT" "^policy: /.*/policies/$p.json\$"
        assert_contains "$OUT" "default action: SCMP_ACT_ERRNO(ENOSYS)"
        assert_match "$OUT" '^rules: [0-9]+ \([0-9]+ apply here\)$'
        if kernel_runs_x32; then
            assert_contains "$OUT" "architectures: X86_64 X86 X32"
        elif [[ $(uname -m) == x86_64 ]]; then
            assert_match "$OUT" '^architectures: X86_64 X86$'
        fi
        assert_match "$OUT" '^skipped: [0-9]+'
    done
}

test_check_docker_default() {
    local f=${WTBOX_TESTDATA:-}/seccomp/docker-default.json
    [[ -n ${WTBOX_TESTDATA:-} && -f $f ]] || skip "no docker-default.json (../shared/testdata)"
    expect_exit 0 wtbox policy check "$f"
    assert_contains "$OUT" "default action: SCMP_ACT_ERRNO(EPERM)"
    assert_contains "$OUT" "rules: 33 ("
}

test_check_reports_skipped_names() {
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl", "no_such_syscall_2099"], "action": "SCMP_ACT_ERRNO"}]}' >"$T/p.json"
    expect_exit 0 wtbox policy check "$T/p.json"
    assert_contains "$OUT" "default action: SCMP_ACT_ALLOW"
    assert_contains "$OUT" "rules: 1 (1 apply here)"
    assert_contains "$OUT" "skipped: 1 (no_such_syscall_2099)"
}

test_check_bad_policy() {
    printf '{"defaultAction": "SCMP_ACT_NOPE"}' >"$T/p.json"
    expect_exit 125 wtbox policy check "$T/p.json"
    assert_eq "wtbox: $T/p.json: defaultAction: unknown action 'SCMP_ACT_NOPE'" "$(cat "$ERR")"
}

# Regression (audit): what cJSON would read otherwise than written (a
# name cut at \u0000, a key given twice) fails the check, naming the file
# and where.
test_check_nul_and_duplicate_key() {
    printf '%s' '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read\u0000"], "action": "SCMP_ACT_ALLOW"}]}' >"$T/p.json"
    expect_exit 125 wtbox policy check "$T/p.json"
    assert_eq "wtbox: $T/p.json:1:66: \u0000 in a string: a string cannot hold a NUL" "$(cat "$ERR")"
    printf '%s' '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "names": ["ptrace"], "action": "SCMP_ACT_ALLOW"}]}' >"$T/p.json"
    expect_exit 125 wtbox policy check "$T/p.json"
    assert_eq "wtbox: $T/p.json: syscalls[0].names: duplicate key" "$(cat "$ERR")"
}

# A FIFO where a policy file is expected is an error, never a wait (the
# open blocked until a writer came).
test_policy_fifo_is_an_error() {
    mkdir "$T/pd"
    mkfifo "$T/pd/fifo.json"
    expect_exit 125 timeout 20 "$WTBOX" policy check "$T/pd/fifo.json"
    assert_eq "wtbox: cannot read policy '$T/pd/fifo.json': cannot read '$T/pd/fifo.json': it is not a regular file" "$(cat "$ERR")"
    expect_exit 0 env WTBOX_POLICY_DIR="$T/pd" timeout 20 "$WTBOX" policy list
    assert_match "$OUT" "^fifo +\(invalid: .*it is not a regular file\)$"
    make_repo repo
    cd repo
    expect_exit 125 timeout 20 "$WTBOX" run --name ff --policy "$T/pd/fifo.json" -- true
    assert_contains "$ERR" "it is not a regular file"
    assert_nothing_left . ff
}

test_list() {
    expect_exit 0 wtbox policy list
    assert_match "$OUT" '^default +coding agents'
    assert_match "$OUT" '^nested +'
    assert_match "$OUT" '^strict +'
    mkdir "$T/pd"
    printf '{"description": "mine", "defaultAction": "SCMP_ACT_ALLOW"}' >"$T/pd/extra.json"
    expect_exit 0 env WTBOX_POLICY_DIR="$T/pd" "$WTBOX" policy list
    assert_match "$OUT" '^extra +mine$'
    assert_match "$OUT" '^default +'
}

test_show() {
    expect_exit 0 wtbox policy show strict
    assert_contains "$OUT" '"defaultAction": "SCMP_ACT_ERRNO"'
    expect_exit 125 wtbox policy show nosuch
    assert_wtbox_error "cannot find policy 'nosuch'"
}

test_usage_errors() {
    expect_exit 125 wtbox policy
    assert_contains "$ERR" "wtbox policy: no subcommand given"
    expect_exit 125 wtbox policy frob
    assert_contains "$ERR" "wtbox policy: unknown subcommand 'frob'"
    expect_exit 125 wtbox policy check
    assert_contains "$ERR" "'check' takes one NAME or FILE"
    expect_exit 0 wtbox policy --help
    assert_contains "$OUT" "usage: wtbox policy check NAME|FILE"
}
