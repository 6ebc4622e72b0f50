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

# Regression (audit): an option that takes one value, given twice, took
# the last one without a word (`--name a --name b` ran agent b). Now it is
# a usage error, whichever forms were typed, and nothing is made. The
# options that add up (--ro, --rw, --env, -p, --allow-host-port) still do.
test_single_valued_option_given_twice() {
    make_repo repo
    cd repo
    mkdir -p "$O" "$T/g1" "$T/g2"
    local pair long
    for pair in "--name a --name b" "-n a --name=a" "--base HEAD --base HEAD~1" \
        "-b HEAD -b HEAD" "--report $T/r1 --report $T/r2" "-r $T/r1 -r $T/r1" \
        "--timeout 5 --timeout 6" "-t 5 --timeout=5" "--policy default --policy strict" \
        "--policy=none --policy none" "--net none --net=private" \
        "--port-range 20000-20010 --port-range 20000-20010"; do
        long=${pair%% *}
        long=${long%%=*}
        case $long in
        -n) long=--name ;;
        -b) long=--base ;;
        -r) long=--report ;;
        -t) long=--timeout ;;
        esac
        # shellcheck disable=SC2086 # word splitting wanted
        expect_exit 125 wtbox run $pair --rw "$O" -- sh -c 'touch "$1/ran"' sh "$O"
        assert_eq "wtbox run: option '$long' given twice (see 'wtbox run --help')" "$(cat "$ERR")" \
            "the error for $pair"
        assert_missing "$O/ran"
    done
    assert_missing "$T/r1"
    assert_missing "$T/r2"
    expect_exit 125 wtbox stop -t 1 --time 2 x
    assert_eq "wtbox stop: option '--time' given twice (see 'wtbox stop --help')" "$(cat "$ERR")" "stop"
    expect_exit 125 wtbox -C . -C .. ls
    assert_eq "wtbox: option '-C' given twice (see 'wtbox --help')" "$(cat "$ERR")" "-C"
    assert_no_agents .
    # Repeatable options add up.
    expect_exit 0 wtbox run --dry-run --net none --name rep --ro "$T/g1" --ro "$T/g2" --rw "$T/g1" \
        --rw "$T/g2" --env A=1 --env B=2 -p 3000 -p 3001 --allow-host-port 5432 \
        --allow-host-port 6379 -k -k -- true
    assert_match "$OUT" "^  bind-ro +$T/g1\$"
    assert_match "$OUT" "^  bind-rw +$T/g2\$"
    assert_match "$OUT" '^  A=1$'
    assert_match "$OUT" '^  B=2$'
    assert_match "$OUT" "^  ports     .* -> :3000, 127\.0\.0\.1:[0-9]+ -> :3001\$"
    assert_contains "$OUT" "localhost:5432"
    assert_contains "$OUT" "localhost:6379"
    assert_no_agents .
}
