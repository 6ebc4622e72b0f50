# t_gc.sh: wtbox gc cleans up after crashes without losing anything.

# The state of everything gc could touch: the agents' directories, the
# trash and the repository's git directory.
gc_snapshot() { # FILE
    tree_snapshot "$XDG_STATE_HOME" "$XDG_DATA_HOME" "$(common_dir .)" >"$1"
}

# An agent whose wtbox was SIGKILLed (its sandbox dies with it): gc imports
# its commit, unlocks and keeps its worktree with the uncommitted file, and
# marks it exited. --dry-run before changes nothing at all.
test_gc_orphan_imports_and_keeps() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local base sandbox wt
    base=$(git rev-parse HEAD)
    start_agent orphan -- sh -c \
        'echo n >c.txt && git add c.txt && git commit -q -m orphan-work && echo dirty >d.txt && exec sleep 60'
    sandbox=$(jq -r .sandbox_pid "$AGENT_REC")
    wt=$(agent_worktrees orphan)
    wait_for_file "$wt/d.txt"
    kill -KILL "$AGENT_PID"
    wait_pid_gone "$sandbox" 5
    assert_eq "$base" "$(git rev-parse wtbox/orphan)" "branch before gc"

    gc_snapshot "$T/before"
    expect_exit 0 wtbox gc --dry-run
    gc_snapshot "$T/after"
    cmp -s "$T/before" "$T/after" || fail "gc --dry-run changed something: $(diff "$T/before" "$T/after")"
    assert_eq "gc: dry run: nothing is changed" "$(sed -n 1p "$OUT")" "first line"
    assert_contains "$OUT" "gc: orphan 'orphan': import its git work, unlock its worktree, mark it exited (worktree kept): $wt"
    expect_exit 0 wtbox gc --dry-run --json
    jq -e 'length == 1 and .[0].kind == "orphan" and .[0].name == "orphan" and .[0].done == false' "$OUT" >/dev/null ||
        fail "unexpected JSON: $(cat "$OUT")"
    gc_snapshot "$T/after"
    cmp -s "$T/before" "$T/after" || fail "gc --dry-run --json changed something"

    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: orphan 'orphan': import its git work"
    assert_contains "$ERR" "wtbox: agent 'orphan': imported wtbox/orphan"
    assert_eq "orphan-work" "$(git log -1 --format=%s wtbox/orphan)" "imported commit"
    assert_eq "$base" "$(git rev-parse wtbox/orphan~1)" "its parent"
    assert_file "$wt/d.txt"
    assert_file "$wt/c.txt"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/orphan"
    assert_not_contains "$T/block" "locked"
    jq -e '.state == "exited" and .exit_status == 137 and .sandbox_pid == 0' "$AGENT_REC" >/dev/null ||
        fail "record after gc: $(cat "$AGENT_REC")"
    assert_fsck .
    # Done once: nothing left to do.
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "second gc"
}

# gc leaves a running agent alone.
test_gc_leaves_running_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    start_agent live -- sleep 60
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "gc output"
    pid_alive "$AGENT_PID" || fail "gc ended a running agent"
    wt_block . "$(agent_worktrees live)" >"$T/block"
    assert_contains "$T/block" "locked"
}

# A worktree directory deleted by hand: git's admin data is pruned (git
# worktree list no longer shows it), the record and state go to the trash,
# the branch with its commit stays.
test_gc_prunes_vanished_worktree() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local wt tip state
    expect_exit 0 wtbox run -n gone -- sh -c 'echo n >g.txt && git add g.txt && git commit -q -m gone-work'
    tip=$(git rev-parse wtbox/gone)
    wt=$(agent_worktrees gone)
    state=$(agent_records gone)
    rm -rf "$wt"
    gc_snapshot "$T/before"
    expect_exit 0 wtbox gc --dry-run
    gc_snapshot "$T/after"
    cmp -s "$T/before" "$T/after" || fail "gc --dry-run changed something"
    assert_contains "$OUT" "gc: vanished 'gone': "
    expect_exit 0 wtbox gc --json
    jq -e 'length == 1 and .[0].kind == "vanished" and .[0].name == "gone" and .[0].done == true and (.[0].path | type) == "string" and (.[0].action | type) == "string"' "$OUT" >/dev/null ||
        fail "unexpected JSON: $(cat "$OUT")"
    assert_not_contains "$(git worktree list --porcelain)" "$wt"
    assert_missing "$(common_dir .)/worktrees/wtbox-gone"
    assert_missing "$state"
    assert_eq "$tip" "$(git rev-parse wtbox/gone)" "branch kept"
    assert_file "$(trash_entries)/state/record.json"
    expect_exit 0 wtbox gc --json
    assert_eq "[]" "$(cat "$OUT")" "JSON when there is nothing to do"
}

# Admin data of an agent's worktree without a record (the record directory
# went too) is pruned as well.
test_gc_prunes_admin_without_record() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n norec -k -- true
    rm -rf "$(agent_worktrees norec)" "$(agent_records norec)"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: vanished 'norec': prune git's admin data of a worktree whose directory is gone"
    assert_missing "$(common_dir .)/worktrees/wtbox-norec"
    assert_eq 1 "$(git worktree list --porcelain | grep -c '^worktree ')" "worktrees"
}

# Trash entries past the grace period are deleted; younger ones stay.
test_gc_empties_old_trash() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n tr -- true
    local entry
    entry=$(trash_entries)
    assert_dir "$entry"
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "gc inside the grace period"
    assert_dir "$entry"
    WTBOX_TRASH_GRACE=0 expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: trash '${entry##*/}': delete (past the grace period): $entry"
    assert_dir "$entry"
    WTBOX_TRASH_GRACE=0 expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: trash '${entry##*/}': delete"
    assert_missing "$entry"
}

test_gc_bad_usage() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox gc extra
    assert_contains "$ERR" "unexpected argument 'extra'"
    expect_exit 125 wtbox gc --bogus
    assert_contains "$ERR" "unknown option '--bogus'"
    cd "$T"
    expect_exit 125 wtbox gc
    assert_match "$ERR" "^wtbox: "
}

# A creation that died half-way: gc removes its pieces.
test_gc_interrupted_creation() {
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault build at '$WTBOX_FAULTS_BIN'"
    make_repo repo
    cd repo
    WTBOX_FAULT=after-lock:crash expect_exit 137 "$WTBOX_FAULTS_BIN" run --name half -- true
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: interrupted 'half': remove the pieces of a creation that died half-way"
    assert_dir "$(agent_worktrees half)"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: interrupted 'half': "
    assert_nothing_left . half
}

# The ports of an agent's last run stay in its record (its next run
# prefers them): gc leaves them. A sandbox pid left in a record that is
# not running (an older wtbox wrote such records) is cleared, and the
# record's `updated` is not touched (regression, audit: `ls` showed SINCE
# from the gc, not from the end of the run).
test_gc_run_fields_keep_ports_and_since() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local rec updated ports dead
    expect_exit 0 wtbox run --name pt --keep -p 3000 -- true
    rec=$(agent_records pt)/record.json
    jq -e '.state == "exited" and (.ports | length) == 2' "$rec" >/dev/null ||
        fail "setup: expected an exited record with two ports: $(cat "$rec")"
    ports=$(jq -c .ports "$rec")
    expect_exit 0 wtbox gc
    assert_not_contains "$OUT" "'pt'"
    assert_eq "$ports" "$(jq -c .ports "$rec")" "the record's ports after gc"
    expect_exit 0 wtbox run --name pt --keep -p 3000 -- true
    assert_eq "$ports" "$(jq -c .ports "$rec")" "the ports of the next run"
    # As if the run had ended an hour ago, its sandbox pid left behind.
    sh -c 'exit 0' &
    dead=$!
    wait "$dead"
    jq --argjson p "$dead" '.updated -= 3600 | .sandbox_pid = $p' "$rec" >"$T/rec" && cp "$T/rec" "$rec"
    updated=$(jq .updated "$rec")
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: run 'pt': clear the sandbox pid of a run that is over"
    jq -e '(.sandbox_pid // 0) == 0' "$rec" >/dev/null || fail "sandbox pid not cleared: $(cat "$rec")"
    assert_eq "$ports" "$(jq -c .ports "$rec")" "the record's ports after gc"
    assert_eq "$updated" "$(jq .updated "$rec")" "the record's updated after gc"
    expect_exit 0 wtbox ls --json
    jq -e '.[0].name == "pt" and .[0].since >= 3600' "$OUT" >/dev/null ||
        fail "ls --json: expected since >= 3600: $(cat "$OUT")"
    expect_exit 0 wtbox ls
    assert_match "$OUT" '^pt +exited 0 +wtbox/pt +- +(1h|60m)'
}

# A deletion of a trash entry whose wtbox was killed half-way (the entry
# renamed .deleting.<pid>.<entry>, its files not all gone) was never
# retried: gc finishes it once that pid is gone, and leaves one whose
# process still runs.
test_gc_finishes_a_killed_trash_deletion() {
    need_sandbox
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault build at '$WTBOX_FAULTS_BIN'"
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n td -- true
    local entry dir name
    entry=$(trash_entries)
    assert_dir "$entry"
    dir=${entry%/*} name=${entry##*/}
    WTBOX_TRASH_GRACE=0 WTBOX_FAULT=trash-claimed:crash expect_exit 137 "$WTBOX_FAULTS_BIN" gc
    local half
    half=$(find "$dir" -maxdepth 1 -name ".deleting.*.$name")
    [[ -n $half ]] || fail "no half-done deletion of $name in $dir: $(ls -A "$dir")"
    assert_missing "$entry"
    # One whose process lives is not touched (this shell's pid).
    mkdir "$dir/.deleting.$$.$name"
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: trash '${half##*/}': finish its deletion (its wtbox was killed half-way): $half"
    assert_not_contains "$OUT" ".deleting.$$."
    assert_dir "$half"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: trash '${half##*/}': finish its deletion"
    assert_missing "$half"
    assert_dir "$dir/.deleting.$$.$name"
    rmdir "$dir/.deleting.$$.$name"
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "gc once all is done"
}

# Compiled filters (one file per policy file and mode) that no run used
# for 30 days are deleted, with the temp files a killed writer left; the
# next run compiles its filter again. Other files there are not wtbox's.
test_gc_deletes_filters_unused_for_30_days() {
    need_sandbox
    make_repo repo
    cd repo
    local cache=$XDG_STATE_HOME/wtbox/filters old new
    expect_exit 0 wtbox run -n f1 -- true
    old=$(find "$cache" -name '*.bpf' | head -n1)
    [[ -n $old ]] || fail "no compiled filter in $cache after a run"
    printf 'x' >"$cache/${old##*/}.tmp.99999"
    printf 'x' >"$cache/notes"
    touch -d '31 days ago' "$old" "$cache/${old##*/}.tmp.99999" "$cache/notes"
    printf '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$T/p.json"
    expect_exit 0 wtbox run -n f2 --policy "$T/p.json" -- true
    new=$(find "$cache" -name '*.bpf' -newer "$old" | head -n1)
    [[ -n $new && $new != "$old" ]] || fail "no second compiled filter: $(ls -A "$cache")"
    touch -d '29 days ago' "$new"
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: filters '${old##*/}': delete (a compiled filter no run used for 30 days): $old"
    assert_contains "$OUT" "gc: filters '${old##*/}.tmp.99999': delete"
    assert_not_contains "$OUT" "'${new##*/}'"
    assert_not_contains "$OUT" "'notes'"
    assert_file "$old"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: filters '${old##*/}': delete"
    assert_missing "$old"
    assert_missing "$cache/${old##*/}.tmp.99999"
    assert_file "$new"
    assert_file "$cache/notes"
    # Still in use: the next run compiles it again.
    expect_exit 0 wtbox run -n f1 -- true
    assert_file "$old"
}

# An import writes a pack in objects/wtbox-incoming-<its wtbox's pid> and
# its wtbox deletes what a killed import left; when that wtbox was killed
# too, gc deletes it once the pid is gone (a live pid keeps it).
test_gc_deletes_stage_of_killed_import() {
    make_repo repo
    cd repo
    local objects dead
    objects=$(common_dir .)/objects
    sh -c 'exit 0' &
    dead=$!
    wait "$dead"
    mkdir "$objects/wtbox-incoming-$dead" "$objects/wtbox-incoming-$$"
    printf 'PACK' >"$objects/wtbox-incoming-$dead/pack_git2_0123456789abcdef"
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: stage 'wtbox-incoming-$dead': delete (half a pack of an import whose wtbox was killed): $objects/wtbox-incoming-$dead"
    assert_not_contains "$OUT" "wtbox-incoming-$$"
    assert_dir "$objects/wtbox-incoming-$dead"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: stage 'wtbox-incoming-$dead'"
    assert_missing "$objects/wtbox-incoming-$dead"
    assert_dir "$objects/wtbox-incoming-$$"
    rmdir "$objects/wtbox-incoming-$$"
    assert_fsck .
}

# The keep file an import puts beside its pack until its refs are updated,
# left when its wtbox was killed with it: gc deletes it once the pid is
# gone (or is of another boot), and the pack too when that has no index
# (git never reads it). The user's keeps, a live wtbox's and those of
# another host or pid namespace stay.
test_gc_deletes_keep_of_killed_import() {
    make_repo repo
    cd repo
    local dir dead whole half boot live user other ns p
    dir=$(common_dir .)/objects/pack
    sh -c 'exit 0' &
    dead=$!
    wait "$dead"
    git repack -a -d -q
    whole=$(find "$dir" -name 'pack-*.pack')
    whole=${whole%.pack}
    keep_text "$dead" >"$whole.keep"
    half=$dir/pack-1111111111111111111111111111111111111111
    boot=$dir/pack-5555555555555555555555555555555555555555
    live=$dir/pack-2222222222222222222222222222222222222222
    user=$dir/pack-3333333333333333333333333333333333333333
    other=$dir/pack-4444444444444444444444444444444444444444
    ns=$dir/pack-6666666666666666666666666666666666666666
    for p in "$half" "$boot" "$live" "$user" "$other" "$ns"; do printf 'PACK' >"$p.pack"; done
    keep_text "$dead" >"$half.keep"
    keep_text $$ 00000000-0000-0000-0000-000000000000 >"$boot.keep"
    keep_text $$ >"$live.keep"
    keep_text "$dead" | sed 's/ on / on x/' >"$other.keep"
    keep_text "$dead" | sed 's/pid namespace /&1/' >"$ns.keep"
    printf 'mine\n' >"$user.keep"
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: stage '${half##*/}.keep': delete it and its pack, which has no index (an import whose wtbox was killed): $half.keep"
    assert_contains "$OUT" "gc: stage '${boot##*/}.keep': delete it and its pack, which has no index (an import whose wtbox was killed): $boot.keep"
    assert_contains "$OUT" "gc: stage '${whole##*/}.keep': delete (the keep of an import whose wtbox was killed): $whole.keep"
    assert_eq 3 "$(grep -c "gc: stage 'pack-" "$OUT")" "keeps gc would delete"
    assert_file "$half.pack"
    assert_file "$half.keep"
    expect_exit 0 wtbox gc
    assert_eq 3 "$(grep -c "gc: stage 'pack-" "$OUT")" "keeps gc deleted"
    for p in "$half" "$boot"; do
        assert_missing "$p.pack"
        assert_missing "$p.keep"
    done
    assert_missing "$whole.keep"
    assert_file "$whole.pack"
    assert_file "$whole.idx"
    for p in "$live" "$user" "$other" "$ns"; do
        assert_file "$p.pack"
        assert_file "$p.keep"
        rm "$p.pack" "$p.keep"
    done
    # A FIFO by a keep's name is not read (it would block).
    mkfifo "$dir/pack-7777777777777777777777777777777777777777.keep"
    expect_exit 0 timeout 20 "$WTBOX" gc
    rm "$dir/pack-7777777777777777777777777777777777777777.keep"
    assert_fsck .
}
