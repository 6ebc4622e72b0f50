# t_seccomp_errors.sh: a bad policy fails the run before anything exists
# (exit 125, one line naming the file and the line:column or the rule and
# field); unknown system call names are skipped, not an error.

# bad_policy TEXT MESSAGE: `wtbox run --policy FILE` with TEXT in FILE fails
# with exactly "wtbox: FILE<MESSAGE>" and leaves nothing behind.
bad_policy() {
    make_repo repo
    cd repo
    printf '%s' "$1" >"$T/p.json"
    expect_exit 125 wtbox run --name bad --policy "$T/p.json" -- sh -c 'echo ran >"$1"' sh "$T/ran"
    assert_eq "wtbox: $T/p.json$2" "$(cat "$ERR")" "the error"
    assert_missing "$T/ran"
    assert_no_agents .
    assert_eq "" "$(trash_entries)" "trash"
}

H='{"defaultAction": "SCMP_ACT_ERRNO", '

test_truncated_json() {
    bad_policy $'{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [\n    {"names": ["read"]' \
        ':4:23: JSON syntax error: unexpected end of input'
}

test_json_syntax_error_line_and_column() {
    bad_policy $'{"defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [,]}' \
        ":2:16: JSON syntax error: unexpected ','"
}

test_wrong_types() {
    bad_policy "$H"'"syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}' \
        ': syscalls[0].names: expected an array of strings, got a string'
}

test_unknown_action() {
    bad_policy "$H"'"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["write"], "action": "SCMP_ACT_FOO"}]}' \
        ": syscalls[1].action: unknown action 'SCMP_ACT_FOO'"
}

test_unknown_op() {
    bad_policy "$H"'"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}' \
        ": syscalls[0].args[0].op: unknown op 'SCMP_CMP_ABOUT'"
}

test_arg_index_6() {
    bad_policy "$H"'"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' \
        ': syscalls[0].args[0].index: argument index 6 is out of range (0-5)'
}

test_empty_names() {
    bad_policy "$H"'"syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}' \
        ': syscalls[0].names: empty list'
}

test_unknown_architecture() {
    bad_policy "$H"'"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}' \
        ": architectures[1]: unknown architecture 'SCMP_ARCH_Z80'"
}

# Regression (audit): cJSON ends a string at \u0000, so "ptrace\u0000x"
# was a rule for ptrace.
test_nul_in_name() {
    bad_policy "$H"'"syscalls": [{"names": ["ptrace\u0000x"], "action": "SCMP_ACT_ALLOW"}]}' \
        ':1:68: \u0000 in a string: a string cannot hold a NUL'
}

# A raw control byte in a string is not JSON (cJSON took it; a raw NUL
# cut the name as \u0000 did: tests/unit/test_policy.c).
test_raw_control_byte_in_name() {
    bad_policy "$H"'"syscalls": [{"names": ["ptrace'$'\001''x"], "action": "SCMP_ACT_ALLOW"}]}' \
        ':1:68: JSON syntax error: unexpected byte 0x01'
}

# Regression (audit): a key given twice was taken, the first one winning
# without a word (here: the rule would have allowed ptrace).
test_duplicate_key() {
    bad_policy "$H"'"syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "action": "SCMP_ACT_ERRNO"}]}' \
        ': syscalls[0].action: duplicate key'
}

test_duplicate_top_level_key() {
    bad_policy $'{"defaultAction": "SCMP_ACT_ALLOW",\n "defaultAction": "SCMP_ACT_ERRNO"}' \
        ': defaultAction: duplicate key'
}

test_missing_policy_and_bad_name() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox run --name bad --policy nosuchpolicy -- true
    assert_wtbox_error "cannot find policy 'nosuchpolicy' (looked in "
    expect_exit 125 wtbox run --name bad --policy 'Bad!' -- true
    assert_wtbox_error "invalid policy name 'Bad!'"
    expect_exit 125 wtbox run --name bad --policy "$T/none.json" -- true
    assert_wtbox_error "cannot read policy '$T/none.json'"
    assert_no_agents .
}

test_unknown_syscall_names_are_skipped() {
    need_sandbox
    make_repo repo
    cd repo
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl", "no_such_syscall_2099"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >"$T/p.json"
    expect_exit 0 env WTBOX_DEBUG=1 "$WTBOX" run --name skip --policy "$T/p.json" --ro "$WTBOX_HELPERS" -- \
        "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
    assert_contains "$ERR" "wtbox: debug: policy '$T/p.json': syscalls[0]: unknown system call 'no_such_syscall_2099' skipped"
    expect_exit 0 wtbox run --name skip --policy "$T/p.json" -- true
    assert_not_contains "$ERR" "no_such_syscall_2099"
}

# Regression for the cache of compiled filters (src/filtercache.c): the
# second run loads what the first compiled; a policy edited in between is
# the one the next run loads; a cache file damaged on disk is not loaded;
# the cache is not visible inside the sandbox.
test_edited_policy_applies_on_next_run() {
    need_sandbox
    make_repo repo
    cd repo
    local p=$T/edit.json cache=$XDG_STATE_HOME/wtbox/filters f
    local probe=("$WTBOX_HELPERS/sysprobe" keyctl)
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >"$p"
    # The files there before (not by time: the run can write its file
    # within the clock tick that stamped the policy).
    if [[ -d $cache ]]; then find "$cache" -name '*.bpf'; fi | sort >"$T/before"
    expect_exit 0 env WTBOX_DEBUG=1 "$WTBOX" run --name ed --policy "$p" --ro "$WTBOX_HELPERS" -- "${probe[@]}"
    assert_contains "$OUT" keyctl=EACCES
    assert_contains "$ERR" "wtbox: debug: policy '$p': filter compiled"
    assert_eq 700 "$(stat -c %a "$cache")" "mode of the cache directory"
    f=$(find "$cache" -name '*.bpf' | sort | comm -13 "$T/before" -)
    [[ -n $f && $(wc -l <<<"$f") == 1 ]] || fail "expected one new cache file in $cache: $(ls -l "$cache")"
    assert_eq 600 "$(stat -c %a "$f")" "mode of the cache file"
    expect_exit 0 env WTBOX_DEBUG=1 "$WTBOX" run --name ed --policy "$p" --ro "$WTBOX_HELPERS" -- "${probe[@]}"
    assert_contains "$OUT" keyctl=EACCES
    assert_contains "$ERR" "wtbox: debug: policy '$p': filter from the cache"
    # Edited in place: the next run has the new errno.
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22}]}' >"$p"
    expect_exit 0 env WTBOX_DEBUG=1 "$WTBOX" run --name ed --policy "$p" --ro "$WTBOX_HELPERS" -- "${probe[@]}"
    assert_contains "$OUT" keyctl=EINVAL
    assert_contains "$ERR" "wtbox: debug: policy '$p': filter compiled"
    # Damaged on disk (a byte of the program changed): compiled again.
    printf '\377' | dd of="$f" bs=1 seek=200 conv=notrunc status=none
    expect_exit 0 env WTBOX_DEBUG=1 "$WTBOX" run --name ed --policy "$p" --ro "$WTBOX_HELPERS" -- "${probe[@]}"
    assert_contains "$OUT" keyctl=EINVAL
    assert_contains "$ERR" "wtbox: debug: policy '$p': filter compiled"
    # The sandbox cannot see (or replace) the cache.
    expect_exit 0 "$WTBOX" run --name ed --policy "$p" -- \
        sh -c 'if ls "$1" 2>/dev/null; then echo visible; else echo hidden; fi' _ "$cache"
    assert_contains "$OUT" hidden
}

test_policy_from_policy_dir() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir "$T/pd"
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22}]}' >"$T/pd/mine.json"
    expect_exit 0 env WTBOX_POLICY_DIR="$T/pd" "$WTBOX" run --name pd --policy mine --ro "$WTBOX_HELPERS" -- \
        "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EINVAL
}
