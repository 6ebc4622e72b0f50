# t_changes.sh: the "changed nothing" rule. Every kind of change keeps the
# worktree and the branch and is listed in the report; a run that changed
# nothing is removed.

# change NAME SCRIPT [OPTIONS...]: runs `sh -c SCRIPT` as agent NAME.
change() {
    local name=$1 script=$2
    shift 2
    expect_exit 0 wtbox run --name "$name" --report "$T/report.json" "$@" -- sh -c "$script"
}

assert_kept() { # NAME
    local wt
    assert_contains "$ERR" "wtbox: agent '$1' kept:"
    assert_not_contains "$ERR" "removed"
    assert_report '.action == "kept" and .changed == true and .trash == null'
    wt=$(jget "$T/report.json" .worktree)
    assert_eq "$wt" "$(agent_worktrees "$1")" "worktree dir"
    git rev-parse -q --verify "refs/heads/wtbox/$1" >/dev/null || fail "branch wtbox/$1 is gone"
    wt_block . "$wt" >"$T/block"
    assert_contains "$T/block" "branch refs/heads/wtbox/$1"
    assert_not_contains "$T/block" "locked"
    assert_file "$(agent_records "$1")/record.json"
}

assert_removed() { # NAME
    assert_contains "$ERR" "wtbox: agent '$1' changed nothing; removed"
    assert_not_contains "$ERR" "kept"
    assert_report '.action == "removed" and .changed == false and .commits_ahead == 0'
    assert_report '.staged == [] and .modified == [] and .deleted == [] and .untracked == []'
    assert_report '.ignored == [] and .processes_left == 0'
    assert_nothing_left . "$1"
}

# The report lists exactly these changes (jq arrays) and nothing else.
assert_changes() { # STAGED MODIFIED DELETED UNTRACKED IGNORED
    assert_report ".staged == $1 and .modified == $2 and .deleted == $3"
    assert_report ".untracked == $4 and .ignored == $5"
}

# --------------------------------------------------------- kept: changes

test_commit_kept() {
    make_repo repo
    cd repo
    change x 'echo a >a.txt && git add a.txt && git commit -q -m one'
    assert_kept x
    assert_report '.commits_ahead == 1 and .processes_left == 0'
    assert_changes '[]' '[]' '[]' '[]' '[]'
    assert_eq "one" "$(git log -1 --format=%s wtbox/x)" "commit on wtbox/x"
}

test_empty_commit_kept() {
    make_repo repo
    cd repo
    change x 'git commit -q --allow-empty -m nothing'
    assert_kept x
    assert_report '.commits_ahead == 1'
    assert_changes '[]' '[]' '[]' '[]' '[]'
}

test_modified_file_kept() {
    make_repo repo
    cd repo
    change x 'echo edit >>src/main.c'
    assert_kept x
    assert_report '.commits_ahead == 0'
    assert_changes '[]' '["src/main.c"]' '[]' '[]' '[]'
    assert_eq " M src/main.c" "$(git -C "$(agent_worktrees x)" status --porcelain)" "git status"
}

test_mode_change_kept() {
    make_repo repo
    cd repo
    change x 'chmod +x src/main.c'
    assert_kept x
    assert_changes '[]' '["src/main.c"]' '[]' '[]' '[]'
}

test_staged_change_kept() {
    make_repo repo
    cd repo
    change x 'echo edit >>README.md && git add README.md'
    assert_kept x
    assert_changes '["README.md"]' '[]' '[]' '[]' '[]'
    assert_eq "M  README.md" "$(git -C "$(agent_worktrees x)" status --porcelain)" "git status"
}

test_staged_new_file_kept() {
    make_repo repo
    cd repo
    change x 'echo new >new.txt && git add new.txt'
    assert_kept x
    assert_changes '["new.txt"]' '[]' '[]' '[]' '[]'
}

# Staged, then changed again: listed as staged and as modified.
test_staged_and_modified_same_file_kept() {
    make_repo repo
    cd repo
    change x 'echo one >>README.md && git add README.md && echo two >>README.md'
    assert_kept x
    assert_changes '["README.md"]' '["README.md"]' '[]' '[]' '[]'
    assert_eq "MM README.md" "$(git -C "$(agent_worktrees x)" status --porcelain)" "git status"
}

# Paths are reported as they are, in valid JSON: non-ASCII, spaces, quotes.
test_unusual_file_names_in_report() {
    make_repo repo
    cd repo
    change x 'echo 1 >"été notes.txt" && echo 2 >"say \"hi\".txt" && echo 3 >"back\\slash"'
    assert_kept x
    assert_report '.untracked | sort == (["été notes.txt", "say \"hi\".txt", "back\\slash"] | sort)'
}

test_deleted_file_kept() {
    make_repo repo
    cd repo
    change x 'rm src/util.c'
    assert_kept x
    assert_changes '[]' '[]' '["src/util.c"]' '[]' '[]'
}

test_untracked_file_kept() {
    make_repo repo
    cd repo
    change x 'echo notes >notes.txt'
    assert_kept x
    assert_changes '[]' '[]' '[]' '["notes.txt"]' '[]'
    assert_eq "notes" "$(cat "$(agent_worktrees x)/notes.txt")" "the kept file"
}

test_untracked_file_in_new_dir_kept() {
    make_repo repo
    cd repo
    change x 'mkdir -p newdir/sub && echo deep >newdir/sub/file.txt'
    assert_kept x
    assert_changes '[]' '[]' '[]' '["newdir/sub/file.txt"]' '[]'
}

test_ignored_env_file_kept() {
    make_repo repo
    cd repo
    change x 'echo SECRET=1 >.env.local'
    assert_kept x
    assert_changes '[]' '[]' '[]' '[]' '[".env.local"]'
    git -C "$(agent_worktrees x)" check-ignore -q .env.local || fail "git does not ignore .env.local"
}

test_ignored_log_file_kept() {
    make_repo repo
    cd repo
    change x 'echo trace >debug.log'
    assert_kept x
    assert_changes '[]' '[]' '[]' '[]' '["debug.log"]'
}

# A disposable directory does not hide other ignored files.
test_disposable_and_ignored_kept() {
    make_repo repo
    cd repo
    change x 'mkdir -p node_modules/x && echo 1 >node_modules/x/y.js && echo S=1 >.env.local'
    assert_kept x
    assert_changes '[]' '[]' '[]' '[]' '[".env.local"]'
}

# A disposable pattern only forgives files git ignores: build/ is not in
# .gitignore here, so build/out.o is an untracked file.
test_disposable_but_not_ignored_kept() {
    make_repo repo
    cd repo
    change x 'mkdir build && echo obj >build/out.o'
    assert_kept x
    assert_changes '[]' '[]' '[]' '["build/out.o"]' '[]'
}

# A process the command leaves running is killed when the command ends: it
# does not keep the worktree (processes_left is 0).
test_background_process_killed_not_kept() {
    make_repo repo
    cd repo
    local m
    m=$(new_marker)
    change x "sleep $m </dev/null >/dev/null 2>&1 &"
    wait_marker_gone "$m" 2
    assert_removed x
}

test_nonzero_exit_with_change_kept() {
    make_repo repo
    cd repo
    local rc=0
    wtbox run --name x --report "$T/report.json" -- sh -c 'echo a >a.txt; exit 7' \
        >"$OUT" 2>"$ERR" || rc=$?
    assert_eq 7 "$rc" "exit status"
    assert_kept x
    assert_report '.exit_status == 7 and .untracked == ["a.txt"]'
}

# ------------------------------------------------------ removed: no change

test_noop_removed() {
    make_repo repo
    cd repo
    change x 'true'
    assert_removed x
    assert_report '.exit_status == 0'
}

test_node_modules_removed() {
    make_repo repo
    cd repo
    change x 'mkdir -p node_modules/x && echo 1 >node_modules/x/y.js'
    assert_removed x
}

# Every default disposable pattern, when git ignores it.
test_default_disposable_patterns_removed() {
    make_repo repo
    cd repo
    printf '%s\n' target/ __pycache__/ .venv/ venv/ .pytest_cache/ .mypy_cache/ .tox/ \
        dist/ build/ .next/ .cache/ .gradle/ '*.pyc' '*.o' >>.gitignore
    git commit -q -am "ignore build output"
    change x '
        for d in target __pycache__ .venv venv .pytest_cache .mypy_cache .tox dist build \
                 .next .cache .gradle; do
            mkdir -p "$d/sub" && echo x >"$d/sub/file"
        done
        echo x >src/util.pyc && echo x >src/util.o'
    assert_removed x
}

test_modify_then_revert_removed() {
    make_repo repo
    cd repo
    change x 'cp README.md /tmp/saved && echo edit >>README.md && cp /tmp/saved README.md'
    assert_removed x
}

test_commit_then_reset_removed() {
    make_repo repo
    cd repo
    change x 'echo a >a.txt && git add a.txt && git commit -q -m one && git reset -q --hard HEAD~1'
    assert_removed x
}

test_nonzero_exit_without_change_removed() {
    make_repo repo
    cd repo
    local rc=0
    wtbox run --name x --report "$T/report.json" -- sh -c 'exit 4' >"$OUT" 2>"$ERR" || rc=$?
    assert_eq 4 "$rc" "exit status"
    assert_removed x
    assert_report '.exit_status == 4'
}

# ------------------------------------------------- configured disposables

test_repo_config_disposable_removed() {
    make_repo repo
    cd repo
    printf '{"disposable": ["*.log"]}\n' >.wtbox.json
    change x 'echo trace >debug.log'
    assert_removed x
    # Other ignored files still count.
    change y 'echo trace >debug.log && echo S=1 >.env.local'
    assert_kept y
    assert_changes '[]' '[]' '[]' '[]' '[".env.local"]'
}

test_user_config_disposable_removed() {
    make_repo repo
    cd repo
    mkdir -p "$XDG_CONFIG_HOME/wtbox"
    printf '{"disposable": ["*.log"]}\n' >"$XDG_CONFIG_HOME/wtbox/config.json"
    change x 'mkdir -p logs && echo trace >logs/debug.log'
    assert_removed x
}

# ------------------------------------------------- the index's stat cache

# The worktree's files and its index, set to one old second: every entry's
# recorded stat data is then stale, and libgit2 has to read and hash each
# file to find it unchanged. The status of a run's end saves what it found
# (as `git status` does), so the next run does not hash them again.
stale_index() { # WORKTREE: prints the path of its index
    local idx
    idx=$(git -C "$1" rev-parse --path-format=absolute --git-path index)
    touch -d @978307200 "$1/README.md" "$1/src/main.c" "$idx"
    printf '%s\n' "$idx"
}

index_mtime() { # WORKTREE PATH: the mtime the index records for PATH
    git -C "$1" ls-files --debug -- "$2" | awk '$1 == "mtime:" { print $2; exit }'
}

test_stale_index_refreshed() {
    local wt idx
    make_repo repo
    cd repo
    change x 'echo new >notes.txt'
    assert_kept x
    wt=$(agent_worktrees x)
    idx=$(stale_index "$wt")
    change x 'true'
    assert_kept x
    assert_changes '[]' '[]' '[]' '["notes.txt"]' '[]'
    assert_eq "978307200:0" "$(index_mtime "$wt" README.md)" "README.md's mtime in the index"
    assert_eq "978307200:0" "$(index_mtime "$wt" src/main.c)" "src/main.c's mtime in the index"
    [[ $(stat -c %Y "$idx") -gt 978307200 ]] || fail "the index was not written"
    git -C "$wt" diff --quiet || fail "the worktree shows changes: $(git -C "$wt" diff --stat)"
}

# A git of the user's holding the index's lock: the status is read without
# saving anything, the run ends as usual and the lock stays.
test_locked_index_left_alone() {
    local wt idx
    make_repo repo
    cd repo
    change x 'echo new >notes.txt'
    wt=$(agent_worktrees x)
    idx=$(stale_index "$wt")
    : >"$idx.lock"
    change x 'true'
    assert_kept x
    assert_changes '[]' '[]' '[]' '["notes.txt"]' '[]'
    assert_file "$idx.lock"
    assert_eq 0 "$(stat -c %Y "$idx" | awk '{ print ($1 > 978307200) }')" "index untouched"
    [[ $(index_mtime "$wt" README.md) != 978307200:0 ]] || fail "the index was written"
    rm "$idx.lock"
}

# The worktree's .git file must name its admin directory when the run
# ends (the sandbox cannot change it; the host can). Named through another
# path (a symlink to it, or relative to the worktree): intact. Naming
# another directory: reported, and the agent is kept.
# git's own record of the worktree (the admin directory's gitdir file, in
# the shared repository) naming another directory: the status is not taken
# of that directory, the run ends with 125 and the agent, its worktree and
# its work stay.
test_admin_gitdir_naming_another_dir_keeps_agent() {
    local wt admin
    make_repo repo
    cd repo
    change g 'echo kept >notes.txt'
    wt=$(agent_worktrees g)
    admin="$(common_dir .)/worktrees/wtbox-g"
    mkdir -p "$T/other"
    printf '%s\n' "$T/other/.git" >"$admin/gitdir"
    expect_exit 125 wtbox run --name g -- sh -c 'echo more >>notes.txt'
    assert_contains "$ERR" "wtbox: agent 'g' kept: git's record of worktree '$wt' names '$T/other/' instead"
    assert_eq "$(cat "$wt/notes.txt")" "$(printf 'kept\nmore')" "the agent's file"
    git rev-parse -q --verify refs/heads/wtbox/g >/dev/null || fail "branch wtbox/g is gone"
    assert_file "$(agent_records g)/record.json"
    # Put right, the next run reports the agent's work as always.
    printf '%s\n' "$wt/.git" >"$admin/gitdir"
    change g 'true'
    assert_kept g
    assert_report '.untracked == ["notes.txt"]'
}

test_gitfile_naming_another_dir_reported() {
    local wt admin
    make_repo repo
    cd repo
    change g 'echo new >notes.txt'
    assert_report '.gitfile_changed == false'
    wt=$(agent_worktrees g)
    admin="$(common_dir .)/worktrees/wtbox-g"
    ln -s "$admin" "$T/alias"
    printf 'gitdir: %s\n' "$T/alias" >"$wt/.git"
    change g 'true'
    assert_kept g
    assert_report '.gitfile_changed == false'
    # A relative path is relative to the worktree (git worktree repair
    # can write one).
    printf 'gitdir: %s\n' "$(realpath --relative-to="$wt" "$admin")" >"$wt/.git"
    change g 'true'
    assert_kept g
    assert_report '.gitfile_changed == false'
    mkdir "$T/elsewhere"
    printf 'gitdir: %s\n' "$T/elsewhere" >"$wt/.git"
    change g 'true'
    assert_kept g
    assert_report '.gitfile_changed == true'
}

# A FIFO named .gitattributes, which the status reads and whose read never
# ends: the verdict gives up after WTBOX_STATUS_TIMEOUT seconds, the agent
# is kept with everything in it, and the repository is not left locked:
# rm refuses (it cannot tell what the agent holds), rm --force removes it.
# README.md keeps its size, so the status has to read it, through the
# filters its attributes name: the attributes are always read.
test_fifo_read_by_the_status_does_not_hang() {
    need_sandbox
    make_repo repo
    cd repo
    local wt
    batch_sh make 'tr a-z A-Z <README.md >upper && cat upper >README.md && rm upper &&
        mkfifo .gitattributes'
    WTBOX_STATUS_TIMEOUT=2 batch_run_within 40 125 --name fifo
    assert_probe make 0
    assert_contains "$ERR" "cannot read the status of"
    assert_contains "$ERR" "it took more than 2 s (WTBOX_STATUS_TIMEOUT); a file git reads may be a FIFO"
    assert_not_contains "$ERR" "timed out"
    assert_contains "$ERR" "agent 'fifo' kept"
    wt=$(agent_worktrees fifo)
    assert_eq "MORE TEXT" "$(tail -n1 "$wt/README.md")" "the change"
    [[ -p $wt/.gitattributes ]] || fail "the FIFO is gone"
    WTBOX_STATUS_TIMEOUT=2 expect_exit 125 timeout -k 5 40 "$WTBOX" rm fifo
    assert_contains "$ERR" "cannot tell what agent 'fifo' holds"
    WTBOX_STATUS_TIMEOUT=2 expect_exit 0 timeout -k 5 40 "$WTBOX" rm --force fifo
    assert_no_agents
}

# A file that a filter reads whole (ident), sparse and larger than the
# status may take in memory: no verdict, the agent is kept.
test_huge_filtered_file_does_not_exhaust_memory() {
    need_sandbox
    make_repo repo
    cd repo
    echo '*.big ident' >.gitattributes
    git add .gitattributes
    git commit -q -m attributes
    # In the index without its stat data (no hashing of 3 GB inside): the
    # status has to read the file to compare it.
    batch_sh make 'echo small >huge.big && git add huge.big && truncate -s 3G huge.big &&
        touch -r .gitattributes huge.big'
    batch_run_within 120 125 --name huge
    assert_probe make 0
    assert_contains "$ERR" "cannot read the status of"
    assert_contains "$ERR" "agent 'huge' kept"
    assert_file "$(agent_worktrees huge)/huge.big"
}
