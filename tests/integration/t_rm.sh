# t_rm.sh: wtbox rm refuses to lose work, and removes everything otherwise.

# An agent that changed nothing (kept with -k) goes entirely: worktree
# directory, branch, git's admin dir, record and state directory.
test_rm_clean_agent_removes_everything() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local base wt state
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run -n clean -k -- true
    wt=$(agent_worktrees clean)
    state=$(agent_records clean)
    assert_dir "$wt"
    assert_file "$state/record.json"
    assert_dir "$(common_dir .)/worktrees/wtbox-clean"
    expect_exit 0 wtbox rm clean
    assert_contains "$OUT" "wtbox: removed agent 'clean'"
    assert_contains "$OUT" "branch wtbox/clean deleted (was $base"
    assert_contains "$OUT" "worktree '$wt' moved to the trash"
    assert_not_contains "$OUT" "discarded"
    assert_missing "$wt"
    assert_missing "$state"
    assert_missing "$(common_dir .)/worktrees/wtbox-clean"
    assert_eq "" "$(git branch --list 'wtbox/clean')" "branch wtbox/clean"
    assert_nothing_left . clean
    # In the trash, for the grace period: worktree, state, branch tips.
    local entry
    entry=$(trash_entries)
    assert_dir "$entry/worktree"
    assert_file "$entry/state/record.json"
    assert_eq "$base refs/heads/wtbox/clean" "$(cat "$entry/branches")" "branches file"
    assert_fsck .
}

# Each kind of unsaved work is refused with a message naming it, and
# nothing is touched.
assert_rm_refused() { # NAME TEXT
    local wt state tip
    wt=$(agent_worktrees "$1")
    state=$(agent_records "$1")
    tip=$(git rev-parse "wtbox/$1")
    expect_exit 125 wtbox rm "$1"
    assert_match "$ERR" "^wtbox: cannot remove agent '$1': "
    assert_contains "$ERR" "$2"
    assert_contains "$ERR" "nothing was removed (--force removes it anyway)"
    assert_eq "" "$(cat "$OUT")" "stdout of a refused rm"
    assert_dir "$wt"
    assert_file "$state/record.json"
    assert_dir "$(common_dir .)/worktrees/wtbox-$1"
    assert_eq "$tip" "$(git rev-parse "wtbox/$1")" "branch wtbox/$1"
    assert_eq "" "$(trash_entries)" "trash"
}

test_rm_refuses_unique_commits() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n work -- sh -c 'echo n >new.txt && git add new.txt && git commit -q -m w'
    assert_rm_refused work "1 commit on its branch not in any other branch, tag or remote"
    assert_wtbox_error "cannot remove agent 'work'"
    # A tag holds the commit: nothing is lost any more.
    git tag saved wtbox/work
    expect_exit 0 wtbox rm work
    assert_nothing_left . work
    git cat-file -e "saved^{commit}"
}

test_rm_commit_in_another_branch_is_not_lost() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n merged -- sh -c 'echo n >new.txt && git add new.txt && git commit -q -m w'
    git branch other wtbox/merged
    expect_exit 0 wtbox rm merged
    assert_nothing_left . merged
}

test_rm_refuses_uncommitted_change() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n edit -- sh -c 'echo more >>README.md'
    assert_rm_refused edit "1 uncommitted change (README.md)"
    assert_wtbox_error "cannot remove agent 'edit'"
}

test_rm_refuses_untracked_file() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n untr -- sh -c 'echo x >notes.txt; echo y >debug.log'
    # debug.log is ignored (*.log): not work, not named.
    assert_rm_refused untr "1 untracked file (notes.txt)"
    assert_not_contains "$ERR" "debug.log"
}

test_rm_refuses_running_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    start_agent run1 -- sleep 60
    assert_rm_refused run1 "it is running (pid $AGENT_PID)"
    pid_alive "$AGENT_PID" || fail "rm stopped the running agent"
}

# --force on a running agent stops it (its run imports and keeps it as
# usual), then removes it.
test_rm_force_stops_running_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local sandbox
    start_agent run2 -- sh -c 'echo x >made.txt; exec sleep 60'
    sandbox=$(jq -r .sandbox_pid "$AGENT_REC")
    expect_exit 0 wtbox rm --force run2
    assert_contains "$ERR" "wtbox: agent 'run2' is running (pid $AGENT_PID): stopping it"
    assert_contains "$OUT" "wtbox: removed agent 'run2'"
    assert_contains "$OUT" "discarded (--force): 1 untracked file (made.txt)"
    wait_pid_gone "$AGENT_PID" 5
    wait_pid_gone "$sandbox" 5
    assert_nothing_left . run2
    assert_file "$(trash_entries)/worktree/made.txt"
}

# Work left in the private git directory by a killed supervisor is
# imported first, then counts like any other commit.
test_rm_imports_work_of_killed_agent_then_refuses() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    start_agent killed -- sh -c 'echo n >k.txt && git add k.txt && git commit -q -m killed-work && exec sleep 60'
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -n $(git -C "$(agent_gitdir killed)" log -1 --format=%s wtbox/killed 2>/dev/null | grep killed-work) ]] && break
        sleep 0.05
    done
    kill -KILL "$AGENT_PID"
    wait_pid_gone "$AGENT_PID" 5
    assert_eq "$base" "$(git rev-parse wtbox/killed)" "branch before rm (not imported yet)"
    expect_exit 125 wtbox rm killed
    assert_contains "$ERR" "wtbox: agent 'killed': imported wtbox/killed"
    assert_contains "$ERR" "wtbox: cannot remove agent 'killed': 1 commit on its branch"
    assert_eq "killed-work" "$(git log -1 --format=%s wtbox/killed)" "imported commit"
    assert_dir "$(agent_worktrees killed)"
}

# A ref the import refuses (a tag made inside) stays only in the agent's git
# directory: refused.
test_rm_refuses_unimported_ref() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n tagger -- git tag inside-tag
    assert_rm_refused tagger "not imported from its git directory: ref refs/tags/inside-tag"
    expect_exit 0 wtbox rm --force tagger
    assert_contains "$OUT" "discarded (--force): not imported from its git directory"
    assert_nothing_left . tagger
}

# --force removes unsaved work, says what, and prints the tips it deleted
# so the commits can be recovered.
test_rm_force_removes_work_and_says_so() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n forced -- sh -c \
        'echo n >new.txt && git add new.txt && git commit -q -m w && git branch side && echo u >u.txt'
    local tip side
    tip=$(git rev-parse wtbox/forced)
    side=$(git rev-parse wtbox/forced@side)
    expect_exit 0 wtbox rm forced --force
    assert_contains "$OUT" "branch wtbox/forced deleted (was $tip; to restore: git branch wtbox/forced $tip)"
    assert_contains "$OUT" "branch wtbox/forced@side deleted (was $side"
    assert_contains "$OUT" "discarded (--force): 1 commit on its branches not in any other branch, tag or remote; 1 untracked file (u.txt)"
    assert_nothing_left . forced
    assert_eq "" "$(git branch --list 'wtbox/*')" "wtbox branches"
    git cat-file -e "$tip^{commit}"
    git branch restored "$tip"
    assert_eq "w" "$(git log -1 --format=%s restored)" "restored commit"
    assert_file "$(trash_entries)/worktree/u.txt"
}

test_rm_unknown_name() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox rm nope
    assert_wtbox_error "no agent 'nope' in repository '$PWD'"
}

test_rm_bad_name() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox rm ../x
    assert_wtbox_error "invalid agent name '../x'"
    expect_exit 125 wtbox rm
    assert_contains "$ERR" "no agent name given"
    expect_exit 125 wtbox rm --bogus x
    assert_contains "$ERR" "unknown option '--bogus'"
}

# A creation that died half-way (wtbox SIGKILLed while creating): rm
# removes its pieces, as the next run of that name would.
test_rm_interrupted_creation() {
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault build at '$WTBOX_FAULTS_BIN'"
    make_repo repo
    cd repo
    WTBOX_FAULT=after-worktree:crash expect_exit 137 "$WTBOX_FAULTS_BIN" run --name half -- true
    assert_file "$(agent_records half)/record.json"
    expect_exit 0 wtbox rm half
    assert_contains "$OUT" "wtbox: removed the pieces of agent 'half', whose creation was interrupted"
    assert_nothing_left . half
}

# An agent missing a piece the user took away: run names it and the way
# out, rm without --force says --force is needed, rm --force removes it.
test_agent_missing_a_piece() {
    need_sandbox
    make_repo repo
    cd repo
    local n wt
    for n in nobranch noadmin nodir; do
        expect_exit 0 wtbox run -k --name "$n" -- true
    done
    git update-ref -d refs/heads/wtbox/nobranch
    expect_exit 125 wtbox run --name nobranch -- true
    assert_wtbox_error "branch 'refs/heads/wtbox/nobranch' of agent 'nobranch' is missing ('wtbox rm --force nobranch' removes the agent)"
    expect_exit 125 wtbox rm nobranch
    assert_contains "$ERR" "wtbox: cannot remove agent 'nobranch' (--force removes it anyway): cannot tell what agent 'nobranch' holds"
    expect_exit 0 wtbox rm --force nobranch
    assert_nothing_left . nobranch
    wt=$(agent_worktrees noadmin)
    rm -rf "$wt"
    git worktree prune
    expect_exit 125 wtbox run --name noadmin -- true
    assert_wtbox_error "worktree of agent 'noadmin' is not registered in git (no 'wtbox-noadmin' in '$(common_dir .)/worktrees'; 'wtbox rm --force noadmin' removes the agent)"
    expect_exit 0 wtbox rm --force noadmin
    assert_nothing_left . noadmin
    wt=$(agent_worktrees nodir)
    rm -rf "$wt"
    expect_exit 125 wtbox run --name nodir -- true
    assert_wtbox_error "worktree directory '$wt' of agent 'nodir' is missing ('wtbox gc' tidies up after it and keeps its branch; 'wtbox rm nodir' removes the agent and its branch)"
    expect_exit 0 wtbox rm nodir
    assert_nothing_left . nodir
}
