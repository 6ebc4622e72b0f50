# t_rollback.sh: with the fault-injection build, a failure at each step of
# creating an agent rolls back everything that run created.

POINTS="after-branch after-worktree after-lock after-record publish"

need_faults() {
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault-injection binary at $WTBOX_FAULTS_BIN (make check builds it)"
}

# fault_at POINT: a new agent fails at POINT and leaves nothing.
fault_at() {
    need_faults
    make_repo repo
    cd repo
    local head
    head=$(git rev-parse HEAD)
    mkdir -p "$O"
    WTBOX_FAULT=$1 expect_exit 125 "$WTBOX_FAULTS_BIN" run --name rb --rw "$O" --report "$T/report.json" -- \
        sh -c 'touch "$1/ran"' sh "$O"
    assert_contains "$ERR" "injected fault"
    assert_match "$ERR" '^wtbox: '
    assert_missing "$O/ran"
    assert_nothing_left . rb
    assert_no_agents .
    assert_eq "" "$(trash_entries)" "trash"
    assert_eq "$head" "$(git rev-parse HEAD)" "HEAD"
    assert_eq "" "$(git status --porcelain)" "status of the main checkout"
    assert_fsck .
    # The same name works afterwards.
    expect_exit 0 "$WTBOX" run --name rb -- sh -c 'echo ok >f'
    assert_contains "$ERR" "wtbox: agent 'rb' kept:"
}

test_fault_after_branch() { fault_at after-branch; }
test_fault_after_worktree() { fault_at after-worktree; }
test_fault_after_lock() { fault_at after-lock; }
test_fault_after_record() { fault_at after-record; }

# crash_at POINT [complete]: wtbox is SIGKILLed at POINT while creating an
# agent (no rollback can run). The next run of that name finishes the
# cleanup and creates the agent anew; nothing of the dead run is left. With
# "complete" the agent was whole when wtbox died (its record says so): the
# next run takes it over instead.
crash_at() {
    need_faults
    make_repo repo
    cd repo
    mkdir -p "$O"
    WTBOX_FAULT=$1:crash expect_exit 137 "$WTBOX_FAULTS_BIN" run --name cr --rw "$O" -- \
        sh -c 'touch "$1/ran"' sh "$O"
    assert_missing "$O/ran"
    expect_exit 0 "$WTBOX" run --name cr --report "$T/report.json" -- sh -c 'echo ok >f'
    if [[ ${2:-} == complete ]]; then
        assert_not_contains "$ERR" "cleaning up"
    else
        assert_contains "$ERR" "wtbox: agent 'cr': cleaning up a creation that was interrupted"
    fi
    assert_contains "$ERR" "wtbox: agent 'cr' kept:"
    assert_report '.untracked == ["f"] and .commits_ahead == 0'
    assert_eq "$(git rev-parse HEAD)" "$(git rev-parse wtbox/cr)" "wtbox/cr starts at HEAD"
    assert_eq 1 "$(git worktree list --porcelain | grep -c '^worktree .*/cr$')" "worktrees of cr"
    assert_fsck .
}

test_crash_after_branch() { crash_at after-branch; }
test_crash_after_worktree() { crash_at after-worktree; }
test_crash_after_lock() { crash_at after-lock; }
test_crash_after_record() { crash_at after-record complete; }

# Without WTBOX_FAULT the fault build behaves like wtbox.
test_fault_build_without_fault() {
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 "$WTBOX_FAULTS_BIN" run --name ok -- sh -c 'echo x >f'
    assert_contains "$ERR" "wtbox: agent 'ok' kept:"
    expect_exit 0 "$WTBOX_FAULTS_BIN" run --name ok2 -- true
    assert_contains "$ERR" "wtbox: agent 'ok2' changed nothing; removed"
}

# A fault while reusing a kept agent must not destroy that agent: rollback
# undoes only what the failing run created.
test_fault_on_reuse_keeps_existing_agent() {
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name old -- sh -c \
        'echo one >c.txt && git add c.txt && git commit -q -m work && echo draft >draft.txt'
    local tip wt p rc
    tip=$(git rev-parse wtbox/old)
    wt=$(agent_worktrees old)
    for p in $POINTS; do
        rc=0
        WTBOX_FAULT=$p "$WTBOX_FAULTS_BIN" run --name old -- true >"$OUT" 2>"$ERR" </dev/null || rc=$?
        [[ $rc == 0 || $rc == 125 ]] || fail "fault $p on reuse: exit $rc: $(cat "$ERR")"
        [[ $rc == 0 ]] || assert_contains "$ERR" "injected fault"
        assert_eq "$tip" "$(git rev-parse wtbox/old)" "wtbox/old after fault $p"
        assert_eq "draft" "$(cat "$wt/draft.txt")" "draft.txt after fault $p"
        assert_file "$(agent_records old)/record.json"
        wt_block . "$wt" >"$T/block"
        assert_contains "$T/block" "branch refs/heads/wtbox/old"
        assert_not_contains "$T/block" "locked"
    done
    # And it is still a wtbox agent.
    mkdir -p "$O"
    expect_exit 0 wtbox run --name old --rw "$O" -- sh -c 'cat draft.txt >"$1/seen"' sh "$O"
    assert_eq "draft" "$(cat "$O/seen")" "draft.txt seen by a later run"
    assert_fsck .
}

# A reused agent's supervisor killed while it publishes its record (init
# is building the sandbox; the repository lock is held): the sandbox dies
# with it, nothing of the agent's work is touched, and the next run takes
# the agent over (the record still names the earlier, dead supervisor;
# git's worktree lock, this run's, is replaced). Init builds the sandbox
# while the record is published, so the command may have started before
# the crash: what it wrote stays, and none of its processes outlives the
# supervisor.
test_crash_at_publish_keeps_agent() {
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name pub -- sh -c 'echo draft >draft.txt'
    local wt m ran=absent rc=0
    wt=$(agent_worktrees pub)
    m=$(new_marker)
    WTBOX_FAULT=publish:crash "$WTBOX_FAULTS_BIN" run --name pub -- \
        sh -c 'echo ran >ran.txt; exec sleep "$1"' sh "$m" >"$OUT" 2>"$ERR" </dev/null || rc=$?
    assert_eq 137 "$rc" "exit status of the supervisor killed at 'publish'"
    wait_marker_gone "$m" 10
    if [[ -e $wt/ran.txt ]]; then
        ran=$(cat "$wt/ran.txt")
    fi
    assert_eq "draft" "$(cat "$wt/draft.txt")" "draft.txt after the crash"
    mkdir -p "$O"
    expect_exit 0 wtbox run --name pub --rw "$O" -- sh -c 'cat draft.txt >"$1/seen"' sh "$O"
    assert_eq "draft" "$(cat "$O/seen")" "draft.txt seen by the next run"
    if [[ $ran != absent ]]; then
        assert_eq "$ran" "$(cat "$wt/ran.txt")" "ran.txt, written before the crash, after the next run"
    fi
    wt_block . "$wt" >"$T/block"
    assert_not_contains "$T/block" "locked"
    assert_fsck .
}

# The same crash leaves git's lock on the worktree, this run's (its record
# still names the earlier run, which exited): `git worktree remove` and
# `prune` refused the worktree until the next run of that agent. gc
# removes it, and leaves a lock the user set.
test_crash_at_publish_lock_is_removed_by_gc() {
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name pl --keep -- true
    local wt m rc=0
    wt=$(agent_worktrees pl)
    m=$(new_marker)
    WTBOX_FAULT=publish:crash "$WTBOX_FAULTS_BIN" run --name pl -- sleep "$m" >"$OUT" 2>"$ERR" </dev/null || rc=$?
    assert_eq 137 "$rc" "exit status of the supervisor killed at 'publish'"
    wait_marker_gone "$m" 10
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "locked wtbox: in use by agent 'pl' (pid "
    expect_exit 0 wtbox gc --dry-run
    assert_contains "$OUT" "gc: lock 'pl': unlock its worktree (locked by a wtbox that was killed as it started): $wt"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "locked"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: lock 'pl': unlock its worktree"
    wt_block . "$wt" >"$T/block"
    assert_not_contains "$T/block" "locked"
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "a second gc"
    # The user's own lock is theirs.
    git worktree lock --reason "mine" "$wt"
    expect_exit 0 wtbox gc
    assert_eq "gc: nothing to do" "$(cat "$OUT")" "gc with the user's lock"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "locked mine"
    git worktree unlock "$wt"
    expect_exit 0 wtbox run --name pl -- sh -c 'echo ok >f'
    assert_contains "$ERR" "wtbox: agent 'pl' kept:"
}

# ------------------------------------------------ removals that are killed

# The end of a run that changed nothing is SIGKILLed as its removal
# starts: the record says "removing" (not: a branch and a worktree with no
# record, which blocked the name for ever). `run` of that name says how to
# finish; gc finishes it; the name works again.
test_crash_at_removal_start_is_finished_by_gc() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    WTBOX_FAULT=remove-start:crash expect_exit 137 "$WTBOX_FAULTS_BIN" run --name rs -- true
    expect_exit 0 wtbox ls
    assert_match "$OUT" '^rs +removing '
    expect_exit 125 wtbox run --name rs -- true
    assert_wtbox_error "agent 'rs' was being removed when its wtbox was killed; 'wtbox rm rs' finishes the removal"
    # wait says the same, not "orphaned".
    expect_exit 125 wtbox wait rs
    assert_wtbox_error "agent 'rs' has no exit status: it was being removed when its wtbox (pid "
    assert_contains "$ERR" ") was killed; 'wtbox rm rs' finishes the removal"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: removing 'rs': finish a removal that was interrupted"
    assert_contains "$OUT" "branch wtbox/rs deleted"
    assert_nothing_left . rs
    assert_fsck .
    expect_exit 0 wtbox run --name rs -- sh -c 'echo ok >f'
    assert_contains "$ERR" "wtbox: agent 'rs' kept:"
}

# `rm --force` is SIGKILLed after its worktree went to the trash (git's
# admin data pruned): plain `rm` refuses while the branches hold commits
# found nowhere else (so does gc), `rm --force` finishes, and every step
# it had done is not done twice.
test_crash_in_rm_is_finished_by_rm() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name rr -- sh -c 'echo a >a.txt && git add a.txt && git commit -q -m one'
    local tip
    tip=$(git rev-parse wtbox/rr)
    WTBOX_FAULT=rm-worktree:crash expect_exit 137 "$WTBOX_FAULTS_BIN" rm --force rr
    assert_missing "$(agent_worktrees rr)"
    expect_exit 125 wtbox rm rr
    assert_wtbox_error "cannot finish removing agent 'rr': 1 commit on its branches not in any other branch, tag or remote (--force removes it anyway)"
    expect_exit 125 wtbox gc
    assert_contains "$ERR" "gc: removing 'rr': its branches hold 1 commit found nowhere else; 'wtbox rm --force rr' finishes the removal"
    assert_eq "$tip" "$(git rev-parse wtbox/rr)" "wtbox/rr before rm --force"
    expect_exit 0 wtbox rm --force rr
    assert_contains "$OUT" "wtbox: agent 'rr': finishing its removal, which was interrupted"
    assert_contains "$OUT" "branch wtbox/rr deleted (was $tip"
    assert_nothing_left . rr
    assert_fsck .
    expect_exit 0 wtbox run --name rr -- true
    assert_contains "$ERR" "wtbox: agent 'rr' changed nothing; removed"
}

# Killed after the branches went, before the state: plain `rm` finishes
# (nothing of value is left to ask about).
test_crash_in_rm_after_branches_is_finished_by_rm() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name rb2 -- sh -c 'echo u >u.txt'
    WTBOX_FAULT=rm-branches:crash expect_exit 137 "$WTBOX_FAULTS_BIN" rm --force rb2
    expect_exit 0 wtbox rm rb2
    assert_contains "$OUT" "wtbox: agent 'rb2': finishing its removal, which was interrupted"
    assert_nothing_left . rb2
    assert_fsck .
}
