# t_cli.sh: the command line: --version, help, usage errors.

test_version() {
    expect_exit 0 wtbox --version
    assert_eq "wtbox 0.1.0" "$(cat "$OUT")" "--version output"
    assert_eq "" "$(cat "$ERR")" "--version stderr"
}

test_help_on_stdout() {
    expect_exit 0 wtbox --help
    assert_match "$OUT" '[Uu]sage'
    assert_contains "$OUT" "run"
    assert_eq "" "$(cat "$ERR")" "--help stderr"
    cp "$OUT" "$T/help"

    expect_exit 0 wtbox -h
    assert_eq "$(cat "$T/help")" "$(cat "$OUT")" "-h output compared to --help"
    expect_exit 0 wtbox help
    assert_eq "$(cat "$T/help")" "$(cat "$OUT")" "'help' output compared to --help"
}

test_run_help() {
    expect_exit 0 wtbox run --help
    assert_match "$OUT" '[Uu]sage'
    local opt
    for opt in --name --base --keep --report; do
        assert_contains "$OUT" "$opt"
    done
    assert_eq "" "$(cat "$ERR")" "run --help stderr"
    expect_exit 0 wtbox help run
    assert_contains "$OUT" "--name"
}

# `run --help` works outside a repository and creates nothing.
test_run_help_outside_repo() {
    mkdir plain
    cd plain
    expect_exit 0 wtbox run --help
    assert_contains "$OUT" "--report"
    # Every option run takes is in its help.
    local opt
    for opt in --name --base --keep --report --ro --rw --env --root --timeout --policy \
        --log-denials --net --publish --port-range --allow-host-port --dry-run --detach; do
        assert_contains "$OUT" "$opt"
    done
    assert_no_agents
}

test_unknown_command() {
    expect_exit 125 wtbox frob
    assert_eq "wtbox: unknown command 'frob' (see 'wtbox --help')" "$(cat "$ERR")" "the error, one line"
    assert_eq "" "$(cat "$OUT")" "stdout"
}

test_unknown_run_option() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    expect_exit 125 wtbox run --rw "$O" --frob -- sh -c 'touch "$1/ran"' sh "$O"
    assert_eq "wtbox run: unknown option '--frob' (see 'wtbox run --help')" "$(cat "$ERR")" "the error, one line"
    assert_missing "$O/ran"
    assert_no_agents .
}

test_unknown_global_option() {
    expect_exit 125 wtbox --frob
    assert_match "$ERR" "^wtbox: .*unknown option '--frob'"
    assert_eq 1 "$(wc -l <"$ERR")" "lines on stderr"
    # Every command's usage errors are one line too.
    local args
    for args in "" "-C" "rm" "ls x" "policy bogus" "run" "gc --bogus" "logs" "stop -t x y"; do
        # shellcheck disable=SC2086 # word splitting wanted
        expect_exit 125 wtbox $args
        assert_eq 1 "$(wc -l <"$ERR")" "lines on stderr of 'wtbox $args': $(cat "$ERR")"
        assert_match "$ERR" "^wtbox"
    done
}

test_run_without_command() {
    make_repo repo
    cd repo
    local args
    for args in "" "--name x" "--name x --" "--keep --"; do
        # shellcheck disable=SC2086 # word splitting wanted
        expect_exit 125 wtbox run $args
        assert_match "$ERR" '^wtbox( run)?: .*command'
    done
    assert_no_agents .
}

test_run_option_missing_argument() {
    make_repo repo
    cd repo
    # The message names the option as it was typed.
    expect_exit 125 wtbox run --name
    assert_match "$ERR" "^wtbox run: .*'--name'"
    expect_exit 125 wtbox run --report
    assert_match "$ERR" "^wtbox run: .*'--report'"
    expect_exit 125 wtbox run -n
    assert_match "$ERR" "^wtbox run: .*'-n'"
    assert_no_agents .
}

# Everything after `--` belongs to the command, even things that look like
# wtbox options.
test_options_after_dashdash_go_to_command() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -- printf '%s|' --keep --name x "a b" ""
    assert_eq "--keep|--name|x|a b||" "$(cat "$OUT")" "command arguments"
    # Not kept: --keep was the command's argument, not wtbox's.
    assert_contains "$ERR" "changed nothing; removed"
    assert_no_agents .
}
