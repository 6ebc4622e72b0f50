# t_nested.sh: git repositories an agent makes inside its worktree (a
# submodule, a nested `git init`, a gitfile, a `.git` symlink) are moved out
# of the worktree once its sandbox is gone, so that no git of the user's
# obeys their config (a core.fsmonitor would run on the host), and put back
# for its next run. Nothing of them is ever deleted.

# The agent's repository `sub`: a commit, staged in the worktree as a
# gitlink, and a core.fsmonitor that leaves a file on the host when the
# host's git obeys it (set after the commit, so git inside never runs it).
nested_sub_code() { # PWNED-FILE
    printf '%s' "git init -q sub && git -C sub commit -q --allow-empty -m sub-work &&
        git add sub 2>/dev/null && git -C sub config core.fsmonitor 'touch $1'"
}

# stored_paths NAME: the paths the agent's store records, sorted.
stored_paths() {
    local d
    for d in "$(agent_records "$1")"/nested/*/; do
        if [[ -f $d/path ]]; then
            cat "$d/path"
            echo
        fi
    done | sort
}

# A submodule, a nested repository deep in an untracked directory, a
# gitfile and a `.git` symlink: after the run none of them is in the
# worktree, the report lists them, the agent is kept, the host's `git
# status` (in the worktree and in `sub`) runs nothing of the agent's. The
# next run finds them all where it left them, and they go out again after.
test_nested_repositories_moved_out_and_back() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local wt pw=$T/pwned
    batch_sh make "$(nested_sub_code "$pw") &&
        mkdir -p deep/er && git init -q deep/er/x && echo keep >deep/er/x/f &&
        mkdir g && printf 'gitdir: /nowhere\n' >g/.git &&
        mkdir l && ln -s /etc l/.git"
    batch_run 0 --name nest --report "$T/report.json"
    assert_probe make 0
    wt=$(agent_worktrees nest)
    for p in sub/.git deep/er/x/.git g/.git l/.git; do
        assert_missing "$wt/$p"
    done
    assert_file "$wt/deep/er/x/f"
    assert_report '.nested == ["deep/er/x/.git", "g/.git", "l/.git", "sub/.git"]'
    assert_report '.nested_stuck == [] and .action == "kept"'
    assert_report ".nested_store == \"$(agent_records nest)/nested\""
    assert_contains "$ERR" "  nested    deep/er/x/.git, g/.git, l/.git, sub/.git"
    assert_eq "deep/er/x/.git
g/.git
l/.git
sub/.git" "$(stored_paths nest)" "what the store records"
    assert_eq "/etc" "$(find "$(agent_records nest)/nested" -mindepth 2 -maxdepth 2 -name git -type l \
        -exec readlink {} \;)" "the symlink, moved as a symlink"
    # The host's git: nothing of the agent's config runs.
    git -C "$wt" status >/dev/null
    git -C "$wt/sub" status >/dev/null 2>&1 || true
    git -C "$wt" diff >/dev/null
    assert_missing "$pw"
    assert_contains "$(git -C "$wt" status --porcelain)" "A  sub"

    # Back for the next run, as they were; out again after it.
    batch_sh seen 'git -C sub log --format=%s && cat g/.git && readlink l/.git &&
        git -C deep/er/x rev-parse --git-dir'
    batch_run 0 --name nest --report "$T/report.json"
    assert_probe seen 0 "sub-work" "gitdir: /nowhere" "/etc" ".git"
    for p in sub/.git deep/er/x/.git g/.git l/.git; do
        assert_missing "$wt/$p"
    done
    assert_report '.nested == ["deep/er/x/.git", "g/.git", "l/.git", "sub/.git"]'
    assert_eq 4 "$(stored_paths nest | wc -l)" "slots after the second run"
    git -C "$wt" status >/dev/null
    assert_missing "$pw"
}

# Without the move the host's `git status` would run the agent's
# fsmonitor: the test's own check that the attack is real. A nested
# repository made by the user on the host, with the same config, runs it.
test_fsmonitor_attack_is_real_on_a_plain_checkout() {
    make_repo repo
    cd repo
    local pw=$T/pwned
    sh -c "$(nested_sub_code "$pw")"
    git status >/dev/null
    assert_file "$pw"
}

# The agent made its directories read-only (and the `.git` in them): the
# move still happens, and the modes are as the agent left them.
test_nested_repository_in_read_only_directory() {
    need_sandbox
    make_repo repo
    cd repo
    local wt
    batch_sh make 'mkdir ro && git init -q ro/x && chmod 555 ro/x/.git ro/x ro'
    batch_run 0 --name rodir --report "$T/report.json"
    assert_probe make 0
    wt=$(agent_worktrees rodir)
    assert_missing "$wt/ro/x/.git"
    assert_eq 555 "$(stat -c %a "$wt/ro")" "mode of ro"
    assert_eq 555 "$(stat -c %a "$wt/ro/x")" "mode of ro/x"
    assert_eq 555 "$(stat -c %a "$(agent_records rodir)"/nested/1/git)" "mode of the moved .git"
    assert_report '.nested == ["ro/x/.git"] and .nested_stuck == []'
    # And back in for the next run, modes kept.
    batch_sh back 'git -C ro/x rev-parse --git-dir && stat -c %a ro ro/x ro/x/.git'
    batch_run 0 --name rodir
    assert_probe back 0 ".git" 555 555 555
    assert_missing "$wt/ro/x/.git"
    chmod -R u+w "$wt/ro" "$(agent_records rodir)/nested"
}

# Something the user put at the place since (here a file) stays, and so
# does the agent's repository, in the store; the run goes on and says so.
test_nested_restore_never_replaces() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local wt
    batch_sh make 'git init -q sub'
    batch_run 0 --name keepit
    assert_probe make 0
    wt=$(agent_worktrees keepit)
    echo "the user's" >"$wt/sub/.git"
    batch_sh look 'cat sub/.git'
    batch_run 0 --name keepit --report "$T/report.json"
    assert_probe look 0 "the user's"
    assert_contains "$ERR" "wtbox: agent 'keepit': the git repository 'sub/.git' stays in '$(agent_records keepit)/nested/1/git': something else is at its place now"
    assert_dir "$(agent_records keepit)/nested/1/git"
    # The user's file was moved out by the end of this run, into a slot
    # of its own: nothing is lost, nothing is overwritten.
    assert_report '.nested == ["sub/.git", "sub/.git"]'
    assert_missing "$wt/sub/.git"
}

# rm refuses an agent whose store holds repositories (they may hold
# commits found nowhere else); --force puts them in the trash with the rest.
test_rm_refuses_agent_with_nested_repositories() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh make 'mkdir -p build && git init -q build/dep'
    batch_run 0 --name rmn
    assert_probe make 0
    expect_exit 125 wtbox rm rmn
    assert_contains "$ERR" "its own git repository 'build/dep/.git' (kept in its state)"
    assert_dir "$(agent_records rmn)/nested/1/git"
    expect_exit 0 wtbox rm --force rmn
    assert_no_agents
    assert_eq 1 "$(find "$XDG_STATE_HOME" "$XDG_DATA_HOME" -path '*/trash/*/nested/1/git' -prune | wc -l)" \
        "the store in the trash"
}

# The supervisor was SIGKILLed: gc moves the repositories out as the end of
# the run would have.
test_gc_orphan_moves_nested_repositories() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local sandbox wt
    start_agent orn -- sh -c 'git init -q sub && touch sub/ready && exec sleep 60'
    sandbox=$(jq -r .sandbox_pid "$AGENT_REC")
    wt=$(agent_worktrees orn)
    wait_for_file "$wt/sub/ready"
    kill -KILL "$AGENT_PID"
    wait_pid_gone "$sandbox" 5
    assert_dir "$wt/sub/.git"
    expect_exit 0 wtbox gc
    assert_missing "$wt/sub/.git"
    assert_eq "sub/.git" "$(stored_paths orn)" "what the store records"
}

# A slot of the store whose recorded place is not a path wtbox writes (it
# climbs out with ".."): nothing is put there, the slot stays as it is.
test_nested_restore_checks_the_recorded_place() {
    need_sandbox
    make_repo repo
    cd repo
    local store
    batch_sh make 'git init -q sub'
    batch_run 0 --name place
    assert_probe make 0
    store=$(agent_records place)/nested
    mkdir "$store/7" "$store/7/git"
    printf '../../escaped/.git' >"$store/7/path"
    batch_sh look 'test -d sub/.git'
    batch_run 0 --name place
    assert_probe look 0
    assert_contains "$ERR" "wtbox: agent 'place': the git repository '?' stays in '$store/7/git': its recorded place is not valid"
    assert_dir "$store/7/git"
    assert_missing "$(dirname "$(agent_worktrees place)")/escaped"
}

# Directories the agent made unreadable (111, 000) do not hide its
# repositories: the walk opens them up, moves what is inside and gives
# them their modes back. The one in `hid` is staged as a submodule, so the
# host's `git status` at the top would go into it.
test_nested_repository_in_unreadable_directory() {
    need_sandbox
    make_repo repo
    cd repo
    local wt pw=$T/pwned
    batch_sh make "mkdir hid zero && cd hid && $(nested_sub_code "$pw") && cd .. &&
        git add hid/sub && git init -q zero/z && chmod 111 hid && chmod 000 zero"
    batch_run 0 --name unread --report "$T/report.json"
    assert_probe make 0
    wt=$(agent_worktrees unread)
    assert_eq 111 "$(stat -c %a "$wt/hid")" "mode of hid"
    assert_eq 0 "$(stat -c %a "$wt/zero")" "mode of zero"
    assert_report '.nested == ["hid/sub/.git", "zero/z/.git"] and .nested_stuck == []'
    git -C "$wt" status >/dev/null
    assert_missing "$pw"
    chmod 755 "$wt/hid" "$wt/zero"
    assert_missing "$wt/hid/sub/.git"
    assert_missing "$wt/zero/z/.git"
}

# The worktree is gone (the user deleted it) but the store holds the
# agent's repositories: gc keeps the state and says why.
test_gc_vanished_keeps_nested_repositories() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh make 'git init -q sub'
    batch_run 0 --name van
    assert_probe make 0
    rm -rf "$(agent_worktrees van)"
    expect_exit 125 wtbox gc
    assert_contains "$ERR" "nested/ holds git repositories the agent made"
    assert_dir "$(agent_records van)/nested/1/git"
}
