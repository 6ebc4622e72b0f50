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
        [[ $(git -C "$(agent_gitdir killed)" log -1 --format=%s wtbox/killed 2>/dev/null) == *killed-work* ]] && break
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

# A repository moved (or deleted) after its agents ran: git keeps working
# in it (the admin dirs name their repository as "../.."), `ls --all`
# marks the agents' old path as gone, and `wtbox -C OLD-PATH rm` finds
# them: refused without --force (nothing can tell what they hold), moved
# to the trash with it, also a running one, and finished after a crash.
test_agents_of_a_gone_repository() {
    need_sandbox
    need_jq
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault build at '$WTBOX_FAULTS_BIN'"
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n kept -- sh -c '
        echo w >w.txt && git add w.txt && git commit -q -m w && echo u >u.txt'
    expect_exit 0 wtbox run -n idle -k -- true
    assert_eq "../.." "$(cat "$(common_dir .)/worktrees/wtbox-kept/commondir")" "commondir"
    # An agent made by an older wtbox (libgit2's absolute commondir): its
    # next run writes "../..".
    common_dir . >"$(common_dir .)/worktrees/wtbox-idle/commondir"
    expect_exit 0 wtbox run -n idle -k -- true
    assert_eq "../.." "$(cat "$(common_dir .)/worktrees/wtbox-idle/commondir")" "commondir"
    local old=$PWD tip wt state
    tip=$(git rev-parse wtbox/kept)
    wt=$(agent_worktrees kept)
    state=$(agent_records kept)
    start_agent busy -- sh -c 'echo b >b.txt && git add b.txt && git commit -q -m busy-work && sleep 600'
    local i busy_git
    busy_git=$(agent_gitdir busy)
    for ((i = 0; i < 200; i++)); do
        [[ $(git --git-dir="$busy_git" log -1 --format=%s wtbox/busy 2>/dev/null) == busy-work ]] && break
        sleep 0.05
    done
    cd "$T"
    mv repo moved
    # git in the moved repository.
    expect_exit 0 git -C moved worktree list
    expect_exit 0 git -C moved branch --list 'wtbox/*'
    assert_contains "$OUT" "wtbox/kept"
    # ls in the moved repository says where its agents are.
    expect_exit 0 wtbox -C moved ls
    assert_eq "NAME  STATUS  BRANCH  PORTS  SINCE  CHANGES" "$(cat "$OUT")" "ls"
    assert_wtbox_error "3 agents of this repository are listed under the path it had, '$old' ('wtbox ls --all'): move the repository back to go on with them, or remove one with 'wtbox -C $old rm --force NAME'"
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" "^$old \(gone\) +kept +exited 0 +wtbox/kept "
    assert_match "$OUT" "^$old \(gone\) +busy +running "
    expect_exit 0 wtbox ls --all --json
    assert_eq "true true true" "$(jq -r '[.[].repo_gone] | map(tostring) | join(" ")' "$OUT")" \
        "repo_gone"
    # Without --force: refused, nothing touched.
    expect_exit 125 wtbox -C "$old" rm kept
    assert_wtbox_error "cannot remove agent 'kept': its repository '$old' is gone (deleted, or moved or renamed), so nothing can tell what its worktree and git directory hold; nothing was removed (--force moves them to the trash)"
    assert_file "$wt/u.txt"
    assert_file "$state/record.json"
    expect_exit 125 wtbox -C "$old" rm busy
    assert_contains "$ERR" "cannot remove agent 'busy': it is running (pid $AGENT_PID), and its repository '$old' is gone; nothing was removed"
    # Another name, another path: as before.
    expect_exit 125 wtbox -C "$old" rm nosuch
    assert_wtbox_error "cannot use directory '$old': No such file or directory"
    expect_exit 125 wtbox -C "$T/other" rm kept
    assert_wtbox_error "cannot use directory '$T/other': No such file or directory"
    # The path as it was given: relative, through "..", with a trailing
    # slash, through a link to a parent.
    ln -s "$T" "$T/link"
    local p
    for p in repo ./repo/ "moved/../repo" "$T/link/repo"; do
        expect_exit 125 wtbox -C "$p" rm kept
        assert_wtbox_error "cannot remove agent 'kept': its repository '$old' is gone"
    done
    # With --force, by a relative path: to the trash.
    expect_exit 0 wtbox -C repo rm --force kept
    assert_contains "$OUT" "wtbox: removed agent 'kept' of '$old', a repository that is gone"
    assert_contains "$OUT" "worktree '$wt' moved to the trash"
    assert_contains "$OUT" "branch wtbox/kept not touched: it stays in the repository; commits made since the agent's last import are only in '$(trash_entries)/state/git'"
    assert_missing "$wt"
    assert_missing "$state"
    local entry
    entry=$(trash_entries)
    assert_eq "u" "$(cat "$entry/worktree/u.txt")" "the untracked file in the trash"
    assert_file "$entry/state/record.json"
    assert_eq "$tip" "$(git -C moved rev-parse wtbox/kept)" "the branch in the moved repository"
    # A running one is stopped first.
    local busy_wt
    busy_wt=$(agent_worktrees busy)
    expect_exit 0 wtbox -C "$old" rm --force busy
    assert_contains "$ERR" "wtbox: agent 'busy' is running (pid $AGENT_PID): stopping it"
    assert_contains "$OUT" "wtbox: removed agent 'busy' of '$old'"
    wait_pid_gone "$AGENT_PID" 10
    assert_eq "" "$(agent_records busy)" "busy's record"
    # Its commit, never imported (the repository was gone when its run
    # ended), is in the trash as the output says.
    local busy_entry
    busy_entry=$(grep '\.busy\.' <<<"$(trash_entries)")
    assert_contains "$OUT" "only in '$busy_entry/state/git'"
    assert_eq busy-work "$(git --git-dir="$busy_entry/state/git" cat-file -p wtbox/busy | tail -n 1)" \
        "the commit in the trash"
    assert_eq 1 "$(git -C moved rev-list --count "$(git -C moved rev-parse wtbox/busy)..wtbox/kept")" \
        "wtbox/busy in the moved repository: as before the run"
    # The repository back while rm waits for the lock: nothing removed.
    wt=$(agent_worktrees idle)
    WTBOX_FAULT=rm-stranded-found:stop "$WTBOX_FAULTS_BIN" -C "$old" rm --force idle \
        >"$T/race.out" 2>"$T/race.err" </dev/null &
    local racer=$!
    track_pid "$racer"
    for ((i = 0; i < 400; i++)); do
        [[ $(awk '{print $3}' "/proc/$racer/stat" 2>/dev/null) == T ]] && break
        sleep 0.05
    done
    [[ $(awk '{print $3}' "/proc/$racer/stat") == T ]] || fail "rm did not stop at rm-stranded-found"
    mv moved repo
    kill -CONT "$racer"
    local rc=0
    wait "$racer" || rc=$?
    assert_eq 125 "$rc" "rm's exit status"
    assert_eq "wtbox: agent 'idle' of '$old' changed while rm waited for it (its repository is back, or its record was replaced); nothing was removed" \
        "$(cat "$T/race.err")" "rm's error"
    assert_dir "$wt"
    assert_file "$(agent_records idle)/record.json"
    mv repo moved
    # Killed half-way (the worktree in the trash, the state not yet): the
    # agent says "removing", and a plain rm finishes the removal.
    wt=$(agent_worktrees idle)
    WTBOX_FAULT=rm-stranded-worktree:crash expect_exit 137 "$WTBOX_FAULTS_BIN" -C "$old" rm --force idle
    assert_missing "$wt"
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" "^$old \(gone\) +idle +removing "
    expect_exit 0 wtbox -C "$old" rm idle
    assert_contains "$OUT" "wtbox: removed agent 'idle' of '$old'"
    assert_eq "" "$(agent_records idle)" "idle's record"
    expect_exit 0 wtbox ls --all
    assert_eq "REPO  NAME  STATUS  BRANCH  PORTS  SINCE  CHANGES" "$(cat "$OUT")" "ls --all"
    expect_exit 0 wtbox -C moved ls
    assert_eq "" "$(cat "$ERR")" "ls once they are gone"
    # git forgets the worktrees that went (busy's still locked by its
    # run, which could not reach the repository); the branches stay.
    assert_contains "$(wt_block moved "$busy_wt")" "locked"
    expect_exit 0 git -C moved worktree unlock "$busy_wt"
    expect_exit 0 git -C moved worktree prune
    assert_eq "" "$(git -C moved worktree list --porcelain | grep '^worktree .*/wtbox/' || true)" \
        "wtbox's worktrees in git"
    assert_eq "$tip" "$(git -C moved rev-parse wtbox/kept)" "the branch after prune"
    assert_fsck moved
    # A repository deleted, not moved: the same.
    make_repo deleted
    expect_exit 0 wtbox -C deleted run -n del -- sh -c 'echo d >d.txt'
    wt=$(agent_worktrees del)
    rm -rf deleted
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" "^$T/deleted \(gone\) +del +exited 0 "
    expect_exit 0 wtbox -C "$T/deleted" rm --force del
    assert_contains "$OUT" "wtbox: removed agent 'del' of '$T/deleted', a repository that is gone"
    assert_missing "$wt"
    assert_eq "" "$(agent_records del)" "del's record"
}
