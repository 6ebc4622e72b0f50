# t_sandbox_errors.sh: the sandbox cannot be made, or a grant is wrong: exit
# 125, one line naming the cause, and nothing left behind.

# bad_grant OPTION: --ro/--rw with a path that does not exist.
bad_grant() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    expect_exit 125 wtbox run --name g --rw "$O" "$1" "$T/no/such/path" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_wtbox_error "does not exist"
    assert_contains "$ERR" "$T/no/such/path"
    assert_missing "$O/ran"
    assert_missing "$T/no"
    assert_no_agents .
    assert_nothing_left . g
    assert_eq "" "$(trash_entries)" "trash"
}

test_ro_missing_path() { bad_grant --ro; }
test_rw_missing_path() { bad_grant --rw; }

# User namespaces unavailable (user.max_user_namespaces = 0 in a user
# namespace of the test's own, where the caller is uid 0).
test_userns_unavailable() {
    need_sandbox
    make_repo repo
    cd repo
    local rc=0
    unshare --user --map-root-user sh -c '
        echo 0 >/proc/sys/user/max_user_namespaces || exit 99
        exec "$@"' sh "$WTBOX" run --name nouserns -- sh -c 'echo ran >ran.txt' \
        >"$OUT" 2>"$ERR" </dev/null || rc=$?
    [[ $rc != 99 ]] || skip "cannot set user.max_user_namespaces in a user namespace: $(cat "$ERR")"
    assert_eq 125 "$rc" "exit status ($(cat "$ERR"))"
    assert_no_agents .
    assert_nothing_left . nouserns
    assert_eq "" "$(trash_entries)" "trash"
    assert_eq "" "$(git status --porcelain)" "status of the main checkout"
    assert_missing ran.txt
    assert_wtbox_error "user.max_user_namespaces"
}
