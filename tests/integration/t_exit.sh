# t_exit.sh: wtbox exits with the command's status; 126 / 127 when it cannot
# be run, 128+N when it is killed by signal N.

test_exit_status_passed_through() {
    make_repo repo
    cd repo
    expect_exit 3 wtbox run --name e --report "$T/report.json" -- sh -c 'exit 3'
    assert_report '.exit_status == 3 and .action == "removed"'
    expect_exit 0 wtbox run --name e -- true
    expect_exit 1 wtbox run --name e -- false
    expect_exit 255 wtbox run --name e -- sh -c 'exit 255'
    assert_nothing_left . e
}

test_command_not_found_127() {
    make_repo repo
    cd repo
    expect_exit 127 wtbox run --name nf --report "$T/report.json" -- no-such-command-wtbox arg
    assert_contains "$ERR" "no-such-command-wtbox"
    assert_report '.exit_status == 127 and .action == "removed"'
    assert_nothing_left . nf
    # A path that does not exist, too.
    expect_exit 127 wtbox run --name nf -- ./no/such/file
    assert_contains "$ERR" "./no/such/file"
    assert_nothing_left . nf
}

# A rerun of an agent from an earlier run whose command never starts (127,
# 126) leaves the agent as that run left it: its home and cache stay, it is
# not thrown away as "changed nothing". A rerun whose command runs and
# changes nothing removes it as before.
test_rerun_not_started_keeps_agent() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -k --name st -- sh -c 'echo mine >"$HOME/note"; echo c >"$XDG_CACHE_HOME/c"'
    expect_exit 127 wtbox run --name st --report "$T/report.json" -- no-such-command-wtbox
    assert_contains "$ERR" "wtbox: agent 'st' kept as it was: the command did not start"
    assert_report '.exit_status == 127 and .action == "kept"'
    expect_exit 0 wtbox ls
    assert_match "$OUT" "^st +exited 127 "
    mkdir "$T/bin"
    printf 'echo x\n' >"$T/bin/script"
    chmod 0644 "$T/bin/script"
    expect_exit 126 wtbox run --name st --ro "$T/bin" -- "$T/bin/script"
    assert_contains "$ERR" "wtbox: agent 'st' kept as it was: the command did not start"
    expect_exit 0 wtbox run --name st -- sh -c 'cat "$HOME/note" "$XDG_CACHE_HOME/c"'
    assert_eq "mine
c" "$(cat "$OUT")" "home and cache of the earlier run"
    assert_contains "$ERR" "wtbox: agent 'st' changed nothing; removed"
    assert_nothing_left . st
}

# The script is granted read-only (the sandbox hides $T); had it run, its
# file in the worktree would keep the agent.
test_not_executable_126() {
    make_repo repo
    cd repo
    mkdir "$T/bin"
    printf '#!/bin/sh\necho ran >ran.txt\n' >"$T/bin/script"
    chmod 0644 "$T/bin/script"
    expect_exit 126 wtbox run --name ne --ro "$T/bin" --report "$T/report.json" -- "$T/bin/script"
    assert_contains "$ERR" "$T/bin/script"
    assert_report '.exit_status == 126 and .action == "removed"'
    assert_nothing_left . ne
    # A directory is not executable either.
    expect_exit 126 wtbox run --name ne --ro "$T/bin" -- "$T/bin"
    assert_nothing_left . ne
}

test_killed_by_signal_128_plus_n() {
    make_repo repo
    cd repo
    expect_exit 143 wtbox run --name k --report "$T/report.json" -- sh -c 'kill -TERM $$'
    assert_report '.exit_status == 143 and .action == "removed"'
    expect_exit 137 wtbox run --name k -- sh -c 'kill -KILL $$'
    expect_exit 134 wtbox run --name k -- sh -c 'ulimit -c 0; kill -ABRT $$'
    assert_nothing_left . k
}

# A command killed by a signal after changing something: kept, status 143.
test_killed_after_change_kept() {
    make_repo repo
    cd repo
    expect_exit 143 wtbox run --name k --report "$T/report.json" -- sh -c 'echo x >wip.txt; kill -TERM $$'
    assert_contains "$ERR" "wtbox: agent 'k' kept:"
    assert_report '.exit_status == 143 and .action == "kept" and .untracked == ["wip.txt"]'
}
