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

# Regression (audit): --ro /tmp made the agent's own /tmp (its TMPDIR)
# read-only; --rw /tmp put the host's /tmp, shared with every process
# there, in its place. Refused, however the path is given; a directory
# below /tmp can still be granted (tests/unit/test_mount_plan.c).
test_grant_of_tmp_is_refused() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    ln -s /tmp "$T/tmplink"
    local opt path
    for opt in --ro --rw; do
        for path in /tmp /tmp/ /tmp/. "$T/tmplink"; do
            expect_exit 125 wtbox run --name g --rw "$O" "$opt" "$path" -- sh -c 'touch "$1/ran"' sh "$O"
            assert_wtbox_error "cannot grant $opt '$path': the sandbox has its own '/tmp'"
            assert_missing "$O/ran"
            assert_nothing_left . g
        done
    done
    assert_no_agents .
    assert_eq "" "$(trash_entries)" "trash"
}

# Regression (audit): the agent's own worktree granted --ro made it
# read-only inside (--rw did nothing), and its .git granted put the host's
# file, which names admin data the sandbox does not show, in place of
# wtbox's. Refused before anything is touched: the agent stays as it was.
test_grant_of_own_worktree_is_refused() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    expect_exit 0 wtbox run --name own --keep -- true
    local wt opt
    wt=$(agent_worktrees own)
    [[ -d $wt ]] || fail "no worktree for agent 'own'"
    tree_snapshot "$XDG_STATE_HOME" "$XDG_DATA_HOME" "$(common_dir .)" >"$T/before"
    for opt in --ro --rw; do
        expect_exit 125 wtbox run --name own --rw "$O" "$opt" "$wt" -- sh -c 'touch "$1/ran"' sh "$O"
        assert_wtbox_error "cannot grant $opt '$wt': it is the agent's worktree, which the sandbox shows read-write"
        expect_exit 125 wtbox run --name own --rw "$O" "$opt" "$wt/.git" -- sh -c 'touch "$1/ran"' sh "$O"
        assert_wtbox_error "cannot grant $opt '$wt/.git': the sandbox puts its own .git there, naming the agent's git directory"
        assert_missing "$O/ran"
    done
    tree_snapshot "$XDG_STATE_HOME" "$XDG_DATA_HOME" "$(common_dir .)" >"$T/after"
    assert_same_file "$T/before" "$T/after" "the agent's files and the repository"
    # A directory in it may be granted (read-only there).
    expect_exit 0 wtbox run --name own --keep --ro "$wt/src" -- sh -c 'touch src/new 2>/dev/null && echo written || echo refused'
    assert_eq refused "$(cat "$OUT")" "a write under the --ro grant"
}

# Regression (audit): with --net=private the sandbox binds its own
# resolv.conf after the grants: a grant of the host's was hidden without a
# word. With --net=none there is none of wtbox's, and the grant stands.
test_grant_of_resolv_conf_with_private_net_is_refused() {
    command -v slirp4netns >/dev/null || command -v pasta >/dev/null ||
        skip "neither slirp4netns nor pasta is installed"
    [[ -e /etc/resolv.conf ]] || skip "no /etc/resolv.conf"
    make_repo repo
    cd repo
    mkdir -p "$O"
    local rc
    rc=$(realpath /etc/resolv.conf)
    expect_exit 125 wtbox run --name g --net private --rw "$O" --ro "$rc" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_wtbox_error "cannot grant --ro '$rc': the sandbox puts its own resolv.conf there (--net=private)"
    assert_missing "$O/ran"
    assert_nothing_left . g
    expect_exit 0 wtbox run --dry-run --name g --net none --ro "$rc" -- true
    assert_contains "$OUT" "  bind-ro   $rc"
    assert_nothing_left . g
}
