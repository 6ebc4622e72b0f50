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

# Every architecture of the OCI spec that this libseccomp supports, as a
# portable profile lists them.
ALL_ARCHES='"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64"'

# Regression (exploratory testing): a policy naming S390X or a MIPS
# architecture failed the check on x86_64 with "Numerical argument out of
# domain" (libseccomp refuses an ABI of the other byte order). The filter
# covers what runs here; the check names the rest on a line of its own.
test_check_foreign_arches_left_out() {
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ['"$ALL_ARCHES"']}' >"$T/p.json"
    expect_exit 0 wtbox policy check "$T/p.json"
    case $(uname -m) in
    x86_64)
        if kernel_runs_x32; then
            assert_match "$OUT" '^architectures: X86_64 X86 X32$'
            assert_match "$OUT" '^architectures not on this machine \(left out\): AARCH64 ARM MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 PPC64LE S390 S390X RISCV64$'
        else
            assert_match "$OUT" '^architectures: X86_64 X86$'
            assert_match "$OUT" '^architectures not on this machine \(left out\): X32 AARCH64 ARM MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 PPC64LE S390 S390X RISCV64$'
        fi
        ;;
    aarch64)
        assert_match "$OUT" '^architectures: AARCH64 ARM$'
        assert_match "$OUT" '^architectures not on this machine \(left out\): X86_64 X86 X32 MIPS '
        ;;
    *)
        assert_match "$OUT" '^architectures not on this machine \(left out\): '
        ;;
    esac
    # Only the native one: nothing left out, no line for it.
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW"}' >"$T/q.json"
    expect_exit 0 wtbox policy check "$T/q.json"
    assert_not_contains "$OUT" "left out"
}

# Regression (exploratory testing): architectures of x86_64's byte order
# that never run on it went into its filter without a word, and the check
# listed them ("architectures: X86_64 AARCH64 ARM X86 RISCV64").
test_check_same_byte_order_arches_left_out() {
    [[ $(uname -m) == x86_64 ]] || skip "the architectures named are x86_64's byte order"
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_RISCV64"]}' >"$T/p.json"
    expect_exit 0 wtbox policy check "$T/p.json"
    assert_match "$OUT" '^architectures: X86_64 X86( X32)?$'
    assert_match "$OUT" '^architectures not on this machine \(left out\): AARCH64 ARM RISCV64$'
}

# Regression: a run with such a policy failed as the check did; it has
# the policy's rules.
test_run_portable_policy() {
    need_sandbox
    make_repo repo
    cd repo
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ['"$ALL_ARCHES"'], "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >"$T/p.json"
    expect_exit 0 wtbox run --name port --policy "$T/p.json" --ro "$WTBOX_HELPERS" -- \
        "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
}

# A name that is no architecture stays an error naming the file and where.
test_check_unknown_arch_is_an_error() {
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_S390X", "SCMP_ARCH_Z80"]}' >"$T/p.json"
    expect_exit 125 wtbox policy check "$T/p.json"
    assert_eq "wtbox: $T/p.json: architectures[1]: unknown architecture 'SCMP_ARCH_Z80'" "$(cat "$ERR")"
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_S390", "x86"]}]}' >"$T/p.json"
    expect_exit 125 wtbox policy check "$T/p.json"
    assert_eq "wtbox: $T/p.json: archMap[0].subArchitectures[1]: unknown architecture 'x86'" "$(cat "$ERR")"
}

# Regression (exploratory testing): list read the policies only, check
# compiles them too: a policy check refused (two actions for the same
# call and arguments, which libseccomp refuses) was listed as valid, and
# one check failed on architectures (S390X) was listed as valid too.
# Now list marks invalid exactly what check refuses, with check's reason.
test_list_agrees_with_check() {
    local name line want
    mkdir "$T/pd"
    printf '%s' '{"description": "d-conflict", "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}, {"names": ["keyctl"], "action": "SCMP_ACT_KILL", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' >"$T/pd/conflict.json"
    printf '%s' '{"description": "d-badarch", "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}' >"$T/pd/badarch.json"
    printf '%s' '{"description": "d-portable", "defaultAction": "SCMP_ACT_ALLOW", "architectures": ['"$ALL_ARCHES"']}' >"$T/pd/portable.json"
    printf '%s' '{"description": "d-good", "defaultAction": "SCMP_ACT_ALLOW"}' >"$T/pd/good.json"
    export WTBOX_POLICY_DIR=$T/pd
    expect_exit 0 wtbox policy list
    cp "$OUT" "$T/list"
    for name in conflict badarch portable good; do
        line=$(grep -E "^$name " "$T/list") || fail "no line for '$name' in $(cat "$T/list")"
        if wtbox policy check "$name" >/dev/null 2>"$T/check.err"; then
            assert_eq "$(printf '%-10s %s' "$name" "d-$name")" "$line" "list line of valid '$name'"
        else
            want=$(sed 's/^wtbox: //' "$T/check.err")
            assert_eq "$(printf '%-10s (invalid: %s)' "$name" "$want")" "$line" "list line of '$name', which check refuses"
        fi
    done
    assert_match "$T/list" "^conflict +\(invalid: $T/pd/conflict.json: syscalls\[1\]: cannot add a rule for 'keyctl': File exists\)$"
    assert_match "$T/list" "^badarch +\(invalid: $T/pd/badarch.json: architectures\[0\]: unknown architecture 'SCMP_ARCH_Z80'\)$"
    assert_match "$T/list" '^portable +d-portable$'
    assert_match "$T/list" '^good +d-good$'
}

# Regression (exploratory testing): a file whose name is no policy NAME
# (MyPolicy.json: upper case; a.json.json, whose NAME would be read as the
# file ./a.json) was left out of the list without a word; --policy NAME
# cannot find it. Now listed as invalid, with the file and why.
test_list_names_lookup_cannot_find() {
    mkdir "$T/pd"
    printf '%s' '{"description": "mine", "defaultAction": "SCMP_ACT_ALLOW"}' >"$T/pd/MyPolicy.json"
    cp "$T/pd/MyPolicy.json" "$T/pd/a.json.json"
    cp "$T/pd/MyPolicy.json" "$T/pd/ok.json"
    # An editor's hidden file is not listed; control characters in a
    # file name or a description reach the terminal escaped.
    ln -s nobody@host.1234 "$T/pd/.#ok.json"
    cp "$T/pd/MyPolicy.json" "$T/pd/"$'bad\e[2Jname.json'
    printf '%s' '{"description": "red\u001b[31m text", "defaultAction": "SCMP_ACT_ALLOW"}' >"$T/pd/esc.json"
    export WTBOX_POLICY_DIR=$T/pd
    expect_exit 0 wtbox policy list
    assert_not_contains "$OUT" ".#ok"
    assert_not_contains "$OUT" $'\e'
    assert_contains "$OUT" "bad\x1b[2Jname (invalid: $T/pd/bad\x1b[2Jname.json: invalid policy name"
    assert_match "$OUT" '^esc +red\\x1b\[31m text$'
    expect_exit 0 wtbox policy check esc
    assert_contains "$OUT" 'description: red\x1b[31m text'
    assert_not_contains "$OUT" $'\e'
    expect_exit 0 wtbox policy check "$T/pd/"$'bad\e[2Jname.json'
    assert_contains "$OUT" "policy: $T/pd/bad\x1b[2Jname.json"
    assert_not_contains "$OUT" $'\e'
    rm "$T/pd/esc.json" "$T/pd/"$'bad\e[2Jname.json'
    expect_exit 0 wtbox policy list
    assert_contains "$OUT" "MyPolicy   (invalid: $T/pd/MyPolicy.json: invalid policy name 'MyPolicy': expected lowercase letters, digits, '-', '_', '.' (at most 64), or a file path)"
    assert_contains "$OUT" "a.json     (invalid: $T/pd/a.json.json: invalid policy name 'a.json': a name ending in '.json' is read as a file path)"
    assert_match "$OUT" '^ok +mine$'
    # Lookup agrees: not by NAME, by its path.
    expect_exit 125 wtbox policy check MyPolicy
    assert_wtbox_error "invalid policy name 'MyPolicy'"
    expect_exit 0 wtbox policy check "$T/pd/MyPolicy.json"
    expect_exit 0 wtbox policy check ok
}
