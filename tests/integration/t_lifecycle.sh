# t_lifecycle.sh: create, run, keep or remove, reuse; the git CLI is the
# referee of what wtbox did to the repository.

# While the command runs, git sees a locked worktree on wtbox/NAME with a
# clean status, and the command runs in it with the documented environment.
test_git_sees_locked_worktree_during_run() {
    make_repo repo
    cd repo
    local head
    head=$(git rev-parse HEAD)
    mkdir -p "$O"
    # The sandbox hides $T: the script is granted read-only, $O read-write.
    cat >"$T/inside.sh" <<'EOF'
o=$1
git worktree list --porcelain >"$o/wtlist"
git -C "$WTBOX_WORKTREE" status --porcelain >"$o/status"
git rev-parse --abbrev-ref HEAD >"$o/branch"
git rev-parse HEAD >"$o/head"
pwd -P >"$o/pwd"
printf '%s\n' "$WTBOX_NAME" "$WTBOX_BRANCH" "$WTBOX_WORKTREE" "$MARKER" >"$o/env"
touch "$o/looked"
# Stay until the host has looked at the running agent (bounded).
i=0
while [ ! -e "$o/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
EOF
    local pid
    MARKER="caller env" "$WTBOX" run --name probe --env MARKER --ro "$T/inside.sh" --rw "$O" \
        --report "$T/report.json" -- sh "$T/inside.sh" "$O" >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    track_pid "$pid"
    wait_for_file "$O/looked"
    # The record exists while it runs.
    ls "$XDG_STATE_HOME"/wtbox/*/probe/record.json >"$T/record" 2>&1 || true
    git worktree list --porcelain >"$T/wtlist.host"
    touch "$O/go"
    wait_exit "$pid" 30
    assert_eq 0 "$RC" "exit status (stderr: $(cat "$ERR"))"

    local wt
    wt=$(sed -n 3p "$O/env")
    assert_eq "probe" "$(sed -n 1p "$O/env")" "WTBOX_NAME"
    assert_eq "wtbox/probe" "$(sed -n 2p "$O/env")" "WTBOX_BRANCH"
    assert_eq "caller env" "$(sed -n 4p "$O/env")" "a variable passed with --env"
    assert_match "$wt" "^$XDG_DATA_HOME/wtbox/repo-[0-9a-f]{12}/probe\$"
    assert_eq "$wt" "$(cat "$O/pwd")" "cwd of the command"

    # The git CLI's view from the host during the run. Inside, git works
    # in the agent's own git directory, which knows no other worktree (git
    # names its main worktree after the git directory).
    assert_match "$(head -n1 "$O/wtlist")" "^worktree $XDG_STATE_HOME/wtbox/repo-[0-9a-f]{12}/probe/git\$"
    assert_eq 1 "$(grep -c '^worktree ' "$O/wtlist")" "worktrees seen inside"
    assert_contains "$T/wtlist.host" "worktree $wt"
    awk -v p="worktree $wt" '$0 == p { on = 1 } on && $0 == "" { exit } on' "$T/wtlist.host" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/probe"
    assert_contains "$T/block" "HEAD $head"
    assert_contains "$T/block" "locked wtbox: in use by agent 'probe' (pid $pid)"
    assert_eq "" "$(cat "$O/status")" "git status --porcelain in the new worktree"
    assert_eq "wtbox/probe" "$(cat "$O/branch")" "checked-out branch"
    assert_eq "$head" "$(cat "$O/head")" "HEAD in the worktree"
    assert_match "$T/record" "^$XDG_STATE_HOME/wtbox/repo-[0-9a-f]{12}/probe/record.json\$"

    # Nothing changed: removed; the main checkout is untouched.
    assert_contains "$ERR" "wtbox: agent 'probe' changed nothing; removed"
    assert_nothing_left . probe
    assert_eq "main" "$(git rev-parse --abbrev-ref HEAD)" "main checkout's branch"
    assert_eq "$head" "$(git rev-parse HEAD)" "main checkout's HEAD"
    assert_eq "" "$(git status --porcelain)" "main checkout status"
    assert_fsck .
}

# A commit made with the git CLI inside keeps the worktree and the branch.
test_commit_inside_is_kept() {
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run --name c --report "$T/report.json" -- \
        sh -c 'echo new >new.txt && git add new.txt && git commit -q -m "agent work"'

    local wt tip
    wt=$(jget "$T/report.json" .worktree)
    tip=$(git rev-parse wtbox/c)
    assert_ne "$base" "$tip" "tip of wtbox/c"
    assert_eq "$base" "$(git rev-parse wtbox/c~1)" "parent of the agent's commit"
    assert_eq "agent work" "$(git log -1 --format=%s wtbox/c)" "commit subject"
    assert_report '.name == "c" and .branch == "wtbox/c" and .action == "kept" and .changed == true'
    assert_report ".commits_ahead == 1 and .base == \"$base\" and .head == \"$tip\""
    assert_report '.staged == [] and .modified == [] and .deleted == [] and .untracked == []'
    assert_report '.ignored == [] and .processes_left == 0 and .exit_status == 0 and .trash == null'
    assert_report ".repo | rtrimstr(\"/\") == \"$(common_dir .)\""

    assert_contains "$ERR" "wtbox: agent 'c' kept:"
    assert_contains "$ERR" "$wt"
    assert_contains "$ERR" "wtbox/c"
    assert_contains "$ERR" "${base:0:7}"

    # Kept, registered, no longer locked, clean, and its record is there.
    assert_dir "$wt"
    assert_file "$wt/new.txt"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/c"
    assert_contains "$T/block" "HEAD $tip"
    assert_not_contains "$T/block" "locked"
    assert_not_contains "$T/block" "prunable"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "status of the kept worktree"
    assert_eq "$wt" "$(agent_worktrees c)" "worktree dir"
    assert_file "$(agent_records c)/record.json"
    jq -e . "$(agent_records c)/record.json" >/dev/null || fail "record.json is not JSON"
    assert_eq "main" "$(git rev-parse --abbrev-ref HEAD)" "main checkout's branch"
    assert_eq "$base" "$(git rev-parse main)" "main"
    assert_fsck .
}

# A removed agent goes to the trash: gone for git, one trash entry.
test_removed_goes_to_trash() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name n --report "$T/report.json" -- true
    assert_contains "$ERR" "wtbox: agent 'n' changed nothing; removed"
    assert_report '.action == "removed" and .changed == false and .commits_ahead == 0'
    assert_report '(.trash | type) == "string"'

    assert_nothing_left . n
    assert_eq "" "$(git branch --list 'wtbox/*')" "wtbox branches"
    assert_eq 1 "$(git worktree list --porcelain | grep -c '^worktree ')" "number of worktrees"
    assert_fsck .

    local trash
    trash=$(jget "$T/report.json" .trash)
    assert_eq "$trash" "$(trash_entries)" "trash entries"
    assert_dir "$trash"
    assert_match "${trash##*/}" '^repo-[0-9a-f]{12}\.n\.[0-9]+\.[0-9]+$'
}

test_trash_grace_zero_empties_trash() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name one -- true
    assert_eq 1 "$(trash_entries | wc -l)" "trash entries after the first removal"
    WTBOX_TRASH_GRACE=0 expect_exit 0 wtbox run --name two -- true
    assert_contains "$ERR" "wtbox: agent 'two' changed nothing; removed"
    assert_eq "" "$(trash_entries)" "trash entries with WTBOX_TRASH_GRACE=0"
    assert_nothing_left . one
    assert_nothing_left . two
}

test_keep_flag_keeps_unchanged_worktree() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --keep --name k --report "$T/report.json" -- true
    assert_contains "$ERR" "wtbox: agent 'k' kept:"
    assert_report '.action == "kept" and .changed == false and .trash == null'
    local wt
    wt=$(jget "$T/report.json" .worktree)
    assert_dir "$wt"
    assert_eq "$(git rev-parse HEAD)" "$(git rev-parse wtbox/k)" "wtbox/k"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/k"
    assert_not_contains "$T/block" "locked"
    assert_eq "" "$(trash_entries)" "trash"

    # The next run without --keep that changes nothing removes it.
    expect_exit 0 wtbox run --name k -- true
    assert_contains "$ERR" "wtbox: agent 'k' changed nothing; removed"
    assert_nothing_left . k
}

# A second run with the same name finds the first run's files and commits.
test_reuse_sees_files_and_commits() {
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run --name a --report "$T/r1.json" -- sh -c \
        'echo one >committed.txt && git add committed.txt && git commit -q -m "first run" && echo draft >draft.txt'
    assert_report '.action == "kept"' "$T/r1.json"
    local tip
    tip=$(git rev-parse wtbox/a)

    # Moving main must not move the agent: it keeps its branch and base.
    git commit -q --allow-empty -m "main moves on"

    mkdir -p "$O"
    cat >"$T/second.sh" <<'EOF'
cat draft.txt >"$1/draft"
git log --format=%s -1 >"$1/subject"
git rev-parse HEAD >"$1/head"
pwd -P >"$1/pwd"
EOF
    expect_exit 0 wtbox run --name a --ro "$T/second.sh" --rw "$O" --report "$T/r2.json" -- \
        sh "$T/second.sh" "$O"
    assert_eq "draft" "$(cat "$O/draft")" "untracked file from the first run"
    assert_eq "first run" "$(cat "$O/subject")" "last commit seen by the second run"
    assert_eq "$tip" "$(cat "$O/head")" "HEAD seen by the second run"
    assert_eq "$(jget "$T/r1.json" .worktree)" "$(cat "$O/pwd")" "worktree of the second run"
    assert_report ".base == \"$base\" and .head == \"$tip\" and .commits_ahead == 1" "$T/r2.json"
    assert_report '.action == "kept" and .untracked == ["draft.txt"]' "$T/r2.json"
    assert_eq 2 "$(git worktree list --porcelain | grep -c '^worktree ')" "number of worktrees"
    assert_fsck .
}

test_reuse_with_different_base_fails() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name a -- sh -c 'echo x >keep.txt'
    local tip
    tip=$(git rev-parse wtbox/a)
    mkdir -p "$O"
    expect_exit 125 wtbox run --name a --base HEAD~2 --rw "$O" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_match "$ERR" '^wtbox: '
    assert_contains "$ERR" "base"
    assert_missing "$O/ran"
    # The agent is untouched.
    assert_eq "$tip" "$(git rev-parse wtbox/a)" "wtbox/a"
    assert_file "$(agent_worktrees a)/keep.txt"
    wt_block . "$(agent_worktrees a)" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/a"
    assert_not_contains "$T/block" "locked"
}

test_explicit_base() {
    make_repo repo
    cd repo
    local b
    b=$(git rev-parse HEAD~1)
    mkdir -p "$O"
    expect_exit 0 wtbox run --name b --base HEAD~1 --rw "$O" --report "$T/report.json" -- \
        sh -c 'git rev-parse HEAD >"$1/head"; test ! -e src/util.c' sh "$O"
    assert_eq "$b" "$(cat "$O/head")" "HEAD inside with --base HEAD~1"
    assert_report ".base == \"$b\" and .head == \"$b\" and .action == \"removed\""
    assert_nothing_left . b
    # A full sha and a branch name work too.
    git branch side HEAD~2
    expect_exit 0 wtbox run --name s --base side --keep --report "$T/report.json" -- true
    assert_eq "$(git rev-parse side)" "$(git rev-parse wtbox/s)" "wtbox/s with --base side"
    expect_exit 0 wtbox run --name f --base "$b" --keep -- true
    assert_eq "$b" "$(git rev-parse wtbox/f)" "wtbox/f with --base <sha>"
}

test_generated_names() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    expect_exit 0 wtbox run --rw "$O" --report "$T/r1.json" -- \
        sh -c 'echo "$WTBOX_NAME" >"$1/n1"; echo x >f' sh "$O"
    cp "$ERR" "$T/err1"
    expect_exit 0 wtbox run --rw "$O" --report "$T/r2.json" -- \
        sh -c 'echo "$WTBOX_NAME" >"$1/n2"; echo x >f' sh "$O"
    local n1 n2 wt1
    n1=$(cat "$O/n1")
    n2=$(cat "$O/n2")
    assert_match "$n1" "$NAME_RE"
    assert_match "$n2" "$NAME_RE"
    assert_ne "$n1" "$n2" "second generated name"
    assert_eq "$n1" "$(jget "$T/r1.json" .name)" "name in the report"
    assert_eq "$n2" "$(jget "$T/r2.json" .name)" "name in the report"
    wt1=$(jget "$T/r1.json" .worktree)
    assert_contains "$T/err1" "wtbox: agent '$n1' on branch 'wtbox/$n1' at '$wt1'"
    assert_eq "$(git rev-parse HEAD)" "$(git rev-parse "wtbox/$n1")" "generated branch"
    assert_eq 2 "$(git branch --list 'wtbox/*' | wc -l)" "number of wtbox branches"
}

test_stdio_is_inherited() {
    make_repo repo
    cd repo
    local rc=0
    echo "from stdin" | wtbox run -- sh -c 'cat; echo "to stderr" >&2' >"$OUT" 2>"$ERR" || rc=$?
    assert_eq 0 "$rc" "exit status"
    assert_eq "from stdin" "$(cat "$OUT")" "stdout"
    assert_contains "$ERR" "to stderr"
}

# --report is relative to the caller's cwd, not to the worktree.
test_report_path_relative_to_caller() {
    make_repo repo
    mkdir repo/sub
    cd repo/sub
    expect_exit 0 wtbox run --name r --report ../../rel.json -- true
    assert_file "$T/rel.json"
    assert_report '.name == "r" and .action == "removed"' "$T/rel.json"
}

# SIGTERM sent to wtbox reaches the command; wtbox still finishes the run.
test_sigterm_to_wtbox_reaches_command() {
    make_repo repo
    cd repo
    mkdir -p "$O"
    "$WTBOX" run --name t --rw "$O" --report "$T/report.json" -- sh -c '
        trap "echo term >\"\$1/got\"; exit 7" TERM
        touch "$1/started"
        i=0
        while [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done' sh "$O" \
        >"$OUT" 2>"$ERR" </dev/null &
    local pid=$!
    track_pid "$pid"
    wait_for_file "$O/started"
    kill -TERM "$pid"
    wait_exit "$pid" 30
    assert_eq 7 "$RC" "exit status of wtbox (stderr: $(cat "$ERR"))"
    assert_file "$O/got"
    assert_report '.exit_status == 7 and .action == "removed"'
    assert_nothing_left . t
}

# SIGINT while the sandbox is still being made: the command never starts.
test_sigint_before_command_starts() {
    need_sandbox
    make_repo repo
    cd repo
    interrupt_start early
    assert_nothing_left . early
    # An agent of an earlier run stays as that run left it.
    expect_exit 0 wtbox run -k --name early -- sh -c 'echo mine >"$HOME/note"'
    interrupt_start early
    assert_contains "$ERR" "wtbox: agent 'early' kept as it was: the command did not start"
    expect_exit 0 wtbox run --name early -- sh -c 'cat "$HOME/note"'
    assert_eq mine "$(cat "$OUT")" "home of the earlier run"
    assert_nothing_left . early
}

# Trash entries older than the grace period go at the end of a run.
test_trash_sweeps_old_entries() {
    make_repo repo
    cd repo
    local old="$XDG_DATA_HOME/wtbox/trash/repo-0123456789ab.old.1000.1"
    mkdir -p "$old/worktree"
    echo x >"$old/worktree/file"
    touch -d @1000 "$old" "$old/worktree" "$old/worktree/file"
    expect_exit 0 wtbox run --name n --report "$T/report.json" -- true
    assert_missing "$old"
    assert_eq "$(jget "$T/report.json" .trash)" "$(trash_entries)" "trash entries"
}
