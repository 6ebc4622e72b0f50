# t_concurrency.sh: many wtbox runs on one repository at once; a name that
# is in use.

# start_many N ARGS...: starts N `wtbox run` in the background, all at once;
# in ARGS, @ is replaced by the index. Waits for all of them (by pid) and
# leaves each exit status in $T/rc.<i>, stderr in $T/err.<i>.
start_many() {
    local n=$1 i a
    shift
    local -a pids args
    for ((i = 1; i <= n; i++)); do
        args=()
        for a in "$@"; do args+=("${a//@/$i}"); done
        "$WTBOX" run "${args[@]}" >"$T/out.$i" 2>"$T/err.$i" </dev/null &
        pids[i]=$!
    done
    for ((i = 1; i <= n; i++)); do
        local rc=0
        wait "${pids[i]}" || rc=$?
        echo "$rc" >"$T/rc.$i"
    done
}

assert_all_ok() { # N
    local i
    for ((i = 1; i <= $1; i++)); do
        [[ $(cat "$T/rc.$i") == 0 ]] ||
            fail "run $i exited $(cat "$T/rc.$i"): $(cat "$T/err.$i")"
        ! grep -qi lock "$T/err.$i" || fail "run $i mentions a lock: $(cat "$T/err.$i")"
    done
}

test_sixteen_named_at_once() {
    make_repo repo
    cd repo
    start_many 16 --name c@ -- sh -c 'echo @ >f@'
    assert_all_ok 16
    local i wt
    git worktree list --porcelain >"$T/wtlist"
    for ((i = 1; i <= 16; i++)); do
        assert_contains "$T/err.$i" "wtbox: agent 'c$i' kept:"
        wt=$(agent_worktrees "c$i")
        assert_eq "$i" "$(cat "$wt/f$i")" "f$i in the worktree of c$i"
        assert_contains "$T/wtlist" "worktree $wt"
        assert_contains "$T/wtlist" "branch refs/heads/wtbox/c$i"
        assert_eq "?? f$i" "$(git -C "$wt" status --porcelain)" "status of c$i"
    done
    assert_eq 16 "$(git branch --list 'wtbox/c*' | wc -l)" "wtbox branches"
    assert_eq 16 "$(grep '^branch refs/heads/wtbox/c' "$T/wtlist" | sort -u | wc -l)" "worktrees"
    assert_eq 17 "$(grep -c '^worktree ' "$T/wtlist")" "all worktrees"
    assert_eq 0 "$(grep -c '^locked' "$T/wtlist")" "locked worktrees"
    assert_fsck .
}

test_sixteen_generated_at_once() {
    make_repo repo
    cd repo
    start_many 16 --report "$T/r@.json" -- sh -c 'echo x >f'
    assert_all_ok 16
    local i name
    for ((i = 1; i <= 16; i++)); do
        assert_report '.action == "kept" and .untracked == ["f"]' "$T/r$i.json"
        name=$(jget "$T/r$i.json" .name)
        assert_match "$name" "$NAME_RE"
        echo "$name" >>"$T/names"
    done
    assert_eq 16 "$(sort -u "$T/names" | wc -l)" "distinct generated names"
    assert_eq 16 "$(git branch --list 'wtbox/*' | wc -l)" "wtbox branches"
    assert_eq 17 "$(git worktree list --porcelain | grep -c '^worktree ')" "worktrees"
    while read -r name; do
        git rev-parse -q --verify "refs/heads/wtbox/$name" >/dev/null || fail "no branch wtbox/$name"
    done <"$T/names"
    assert_fsck .
}

# Runs that remove their worktree at the same time as others create theirs.
test_sixteen_removing_at_once() {
    make_repo repo
    cd repo
    start_many 16 --name r@ -- true
    assert_all_ok 16
    local i
    for ((i = 1; i <= 16; i++)); do
        assert_contains "$T/err.$i" "wtbox: agent 'r$i' changed nothing; removed"
        assert_nothing_left . "r$i"
    done
    assert_eq 16 "$(trash_entries | wc -l)" "trash entries"
    assert_fsck .
}

# A name whose wtbox is still running cannot be used by another run.
test_name_in_use_is_running() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    "$WTBOX" run --name busy --rw "$O" -- sh -c '
        touch "$1/started"
        i=0
        while [ ! -e "$1/go" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done' sh "$O" \
        >"$T/out.a" 2>"$T/err.a" </dev/null &
    local pid=$! rc=0
    track_pid "$pid"
    wait_for_file "$O/started"
    expect_exit 125 wtbox run --name busy --rw "$O" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_wtbox_error "is running"
    assert_contains "$ERR" "busy"
    assert_missing "$O/ran"
    # A dry run refuses what the run refuses.
    expect_exit 125 wtbox run --dry-run --name busy -- true
    assert_eq "wtbox: agent 'busy' is running (pid $pid)" "$(cat "$ERR")" "the dry run's error"
    # The running agent is intact.
    local wt
    wt=$(agent_worktrees busy)
    assert_dir "$wt"
    assert_contains "$(wt_block . "$wt")" "locked wtbox: in use by agent 'busy' (pid $pid)"
    touch "$O/go"
    wait "$pid" || rc=$?
    assert_eq 0 "$rc" "exit status of the first run ($(cat "$T/err.a"))"
    assert_contains "$T/err.a" "wtbox: agent 'busy' changed nothing; removed"
    assert_nothing_left . busy
}

# A record whose supervisor is dead (killed with SIGKILL) is not "running":
# the name can be used again and the worktree is reused. (The sandbox dies
# with its supervisor.)
test_dead_supervisor_is_not_running() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    local m
    m=$(new_marker)
    "$WTBOX" run --name stale --rw "$O" -- \
        sh -c 'echo "$WTBOX_WORKTREE" >"$1/wt"; exec sleep "1000.$2"' sh "$O" "${m#1000.}" \
        >"$T/out.a" 2>"$T/err.a" </dev/null &
    local pid=$! rc=0
    track_pid "$pid"
    wait_for_file "$O/wt"
    wait_marker_appears "$m"
    kill -KILL "$pid"
    wait "$pid" || rc=$?
    assert_eq 137 "$rc" "status of the killed wtbox"
    wait_marker_gone "$m" 2

    expect_exit 0 wtbox run --name stale --rw "$O" -- sh -c 'echo "$WTBOX_WORKTREE" >"$1/wt2"' sh "$O"
    assert_eq "$(cat "$O/wt")" "$(cat "$O/wt2")" "worktree of the second run"
    assert_contains "$ERR" "wtbox: agent 'stale' changed nothing; removed"
    assert_nothing_left . stale
}
