# t_git_import.sh: what an agent does in git reaches the host by import
# (issue #6): at the end of a run, before the next run, on `wtbox sync`.
# The real git CLI on the host checks the result. Attacks and tricks from
# inside are in t_git_isolation.sh.

# Two commits, an uncommitted change, a staged file and an untracked file:
# the branch has both commits, `git status` in the worktree on the host
# says what it said inside, the report lists the import.
test_commits_and_index_are_imported() {
    need_sandbox
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    batch_sh work 'echo one >one.txt && git add one.txt && git commit -q -m "commit one" &&
        echo two >>one.txt && git commit -q -a -m "commit two" && git rev-parse HEAD &&
        echo change >>README.md &&
        echo staged >staged.txt && git add staged.txt &&
        echo untracked >untracked.txt'
    batch_sh status 'git status --porcelain'
    batch_run 0 --name lw --report "$T/report.json"
    assert_probe work 0
    assert_probe status 0 " M README.md" "A  staged.txt" "?? untracked.txt"
    local tip wt
    tip=$(head -n1 "$O/work")
    wt=$(agent_worktrees lw)
    assert_eq "$tip" "$(git rev-parse wtbox/lw)" "wtbox/lw"
    assert_eq "commit two
commit one
third" "$(git log -3 --format=%s wtbox/lw)" "git log wtbox/lw"
    assert_eq "$(cat "$O/status")" "$(git -C "$wt" status --porcelain)" "git status in the worktree on the host"
    assert_eq "staged" "$(git -C "$wt" show :staged.txt)" "the staged file in the host's index"
    assert_eq "$tip" "$(git -C "$wt" rev-parse HEAD)" "HEAD of the worktree on the host"
    assert_fsck .
    assert_report '.imported | length == 1'
    assert_report '.imported[0].ref == "refs/heads/wtbox/lw" and .imported[0].from == "refs/heads/wtbox/lw"'
    assert_report ".imported[0].old == \"$base\" and .imported[0].new == \"$tip\""
    assert_report '.imported[0].commits == 2 and .imported[0].forced == false'
    assert_report '.index_carried == true and .import_error == null and .not_imported == []'
    assert_report '.objects_imported > 0 and .action == "kept"'
    assert_contains "$ERR" "wtbox: agent 'lw': imported wtbox/lw -> ${tip:0:12} (2 new commits)"
}

# Amend and rebase inside, in a second run: the branch on the host has the
# rewritten history, reported as forced.
test_amend_and_rebase_are_imported_as_rewritten_history() {
    need_sandbox
    make_repo repo
    cd repo
    local base first
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run --name rw -- sh -c '
        echo a >a.txt && git add a.txt && git commit -q -m c1 &&
        echo b >b.txt && git add b.txt && git commit -q -m c2'
    first=$(git rev-parse wtbox/rw)
    assert_eq "c2 c1" "$(git log -2 --format=%s wtbox/rw | xargs)" "history after the first run"
    # Amend c2, then squash both into one commit with an interactive rebase.
    batch_sh rewrite 'git commit -q --amend -m "c2 amended" &&
        GIT_EDITOR=true GIT_SEQUENCE_EDITOR="sed -i -e 2s/^pick/squash/" git rebase -q -i HEAD~2 &&
        git log --format=%s%x00%b "$BASE..HEAD" | tr "\0\n" "  " && echo && git rev-parse HEAD'
    batch_run 0 --name rw --report "$T/report.json" --env BASE="$base"
    assert_probe rewrite 0
    local tip
    tip=$(tail -n1 "$O/rewrite")
    assert_eq "$tip" "$(git rev-parse wtbox/rw)" "wtbox/rw"
    assert_eq 1 "$(git rev-list --count "$base..wtbox/rw")" "commits on wtbox/rw above the base"
    assert_eq "$base" "$(git rev-parse wtbox/rw~1)" "parent of the squashed commit"
    assert_contains "$(git log -1 --format=%B wtbox/rw)" "c2 amended"
    ! git merge-base --is-ancestor "$first" wtbox/rw || fail "the old history is still in wtbox/rw"
    assert_report ".imported[0].ref == \"refs/heads/wtbox/rw\" and .imported[0].old == \"$first\""
    assert_report ".imported[0].new == \"$tip\" and .imported[0].forced == true"
    assert_contains "$ERR" "wtbox: agent 'rw': imported wtbox/rw -> ${tip:0:12} (1 new commit, history rewritten)"
    assert_eq "" "$(git -C "$(agent_worktrees rw)" status --porcelain)" "git status in the worktree"
    assert_fsck .
}

# A branch created inside comes to the host as wtbox/NAME@BRANCH, and the
# worktree on the host follows the agent onto it; tags are not imported.
test_created_branch_is_imported_and_tags_are_not() {
    need_sandbox
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    batch_sh work 'echo stashed >>README.md && git stash -q &&
        git checkout -q -b feat && echo f >f.txt && git add f.txt && git commit -q -m feat1 &&
        git tag v1 && git tag -a v2 -m v2 && git rev-parse HEAD'
    batch_sh status 'git status --porcelain && git stash list | wc -l'
    batch_run 0 --name cb --report "$T/report.json"
    assert_probe work 0
    local tip wt
    tip=$(head -n1 "$O/work")
    wt=$(agent_worktrees cb)
    assert_eq "$tip" "$(git rev-parse 'refs/heads/wtbox/cb@feat')" "wtbox/cb@feat"
    assert_eq "$base" "$(git rev-parse wtbox/cb)" "wtbox/cb"
    assert_eq "refs/heads/wtbox/cb@feat" "$(git -C "$wt" symbolic-ref HEAD)" "HEAD of the worktree on the host"
    assert_eq 1 "$(cat "$O/status")" "git status and the stash inside"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "git status in the worktree on the host"
    assert_eq "" "$(git tag -l)" "tags on the host"
    git rev-parse -q --verify refs/stash >/dev/null && fail "the agent's stash reached the host"
    assert_report '.imported | any(.ref == "refs/heads/wtbox/cb@feat" and .from == "refs/heads/feat" and .old == null)'
    assert_report '.not_imported | any(startswith("refs/tags/v1:"))'
    assert_report '.not_imported | any(startswith("refs/tags/v2:"))'
    assert_report '.not_imported | any(startswith("refs/stash:"))'
    assert_report '.action == "kept"'
    assert_contains "$ERR" "wtbox: agent 'cb': imported wtbox/cb@feat -> ${tip:0:12}"
    assert_contains "$ERR" "wtbox: agent 'cb': not imported: refs/tags/v1"
    assert_dir "$wt"
    assert_file "$(agent_records cb)/record.json"
    assert_fsck .
}

# Work only on a branch of its own, the worktree back on wtbox/NAME and
# clean: the agent changed something, and is kept with that branch.
test_work_only_on_created_branch_keeps_the_agent() {
    need_sandbox
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    batch_sh work 'git checkout -q -b foo && echo x >x.txt && git add x.txt &&
        git commit -q -m x && git checkout -q wtbox/nb && git rev-parse foo'
    batch_run 0 --name nb --report "$T/report.json"
    assert_probe work 0
    assert_eq "$(head -n1 "$O/work")" "$(git rev-parse 'refs/heads/wtbox/nb@foo')" "wtbox/nb@foo"
    assert_eq "$base" "$(git rev-parse wtbox/nb)" "wtbox/nb"
    assert_report '.changed == true and .action == "kept" and .branches == ["wtbox/nb@foo"]'
    assert_report '.commits_ahead == 0 and .untracked == [] and .modified == []'
    assert_contains "$ERR" "wtbox: agent 'nb' kept: "
    assert_match "$ERR" '^  branches +wtbox/nb@foo$'
    assert_dir "$(agent_worktrees nb)"
    assert_file "$(agent_records nb)/record.json"
    # rm knows it, and keeps its commit unless forced.
    expect_exit 125 wtbox rm nb
    assert_wtbox_error "cannot remove agent 'nb': 1 commit on its branches not in any other branch, tag or remote; nothing was removed (--force removes it anyway)"
}

# The user commits in the agent's worktree between two runs: the next run
# sees that commit, and builds on it.
test_host_commit_between_runs_is_seen_inside() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name hc --keep -- true
    local wt host
    wt=$(agent_worktrees hc)
    echo from-host >"$wt/host.txt"
    git -C "$wt" add host.txt
    git -C "$wt" commit -q -m "host commit"
    host=$(git rev-parse wtbox/hc)
    batch_sh seen 'git log -1 --format=%s && cat host.txt && git status --porcelain'
    batch_sh more 'echo agent >agent.txt && git add agent.txt && git commit -q -m "agent commit" && git rev-parse HEAD'
    batch_run 0 --name hc --report "$T/report.json"
    assert_probe seen 0
    assert_eq "host commit
from-host" "$(cat "$O/seen")" "git log, host.txt and git status inside"
    assert_probe more 0
    local tip
    tip=$(cat "$O/more")
    assert_eq "$tip" "$(git rev-parse wtbox/hc)" "wtbox/hc"
    assert_eq "$host" "$(git rev-parse wtbox/hc~1)" "parent of the agent's commit"
    assert_report ".imported[0].old == \"$host\" and .imported[0].forced == false and .imported[0].commits == 1"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "git status in the worktree"
    assert_fsck .
}

# Eight agents commit at the same time: every import succeeds, no lock
# error, every commit is on its branch.
test_eight_agents_commit_at_once() {
    need_sandbox
    make_repo repo
    cd repo
    local i pids=()
    for ((i = 1; i <= 8; i++)); do
        "$WTBOX" run --name "a$i" -- sh -c '
            for k in 1 2 3; do
                echo "$1 $k" >"$1.txt" && git add "$1.txt" && git commit -q -m "$1-$k" || exit 1
            done' sh "a$i" >"$T/out.$i" 2>"$T/err.$i" </dev/null &
        pids[i]=$!
    done
    for ((i = 1; i <= 8; i++)); do
        wait_exit "${pids[i]}" 60
        assert_eq 0 "$RC" "exit status of a$i (stderr: $(cat "$T/err.$i"))"
    done
    for ((i = 1; i <= 8; i++)); do
        ! grep -qi lock "$T/err.$i" || fail "a$i mentions a lock: $(cat "$T/err.$i")"
        assert_contains "$T/err.$i" "wtbox: agent 'a$i': imported wtbox/a$i"
        assert_eq "a$i-3 a$i-2 a$i-1 third" "$(git log -4 --format=%s "wtbox/a$i" | xargs)" "git log wtbox/a$i"
        assert_eq "" "$(git -C "$(agent_worktrees "a$i")" status --porcelain)" "git status of a$i"
    done
    assert_fsck .
}

# killed_after_commit NAME: runs agent NAME, whose command commits and then
# waits; SIGKILLs that wtbox (the supervisor) and waits for the sandbox to
# be gone. Leaves the commit in $COMMIT.
killed_after_commit() {
    local name=$1 m
    m=$(new_marker)
    mkdir -p "$O"
    "$WTBOX" run --name "$name" --rw "$O" --env M="$m" -- sh -c '
        echo k >k.txt && git add k.txt && git commit -q -m killed &&
        git rev-parse HEAD >"$1/commit.tmp" && mv "$1/commit.tmp" "$1/commit" && exec sleep "$M"' sh "$O" >"$T/run.out" 2>"$T/run.err" </dev/null &
    local pid=$!
    track_pid "$pid"
    wait_for_file "$O/commit" 30
    wait_marker_appears "$m" 10
    kill -KILL "$pid"
    wait_exit "$pid" 10
    wait_marker_gone "$m" 10
    COMMIT=$(cat "$O/commit")
    [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] || fail "setup: no commit id in $(_lib_show "$O/commit")"
    # Nothing imported it yet.
    assert_ne "$COMMIT" "$(git rev-parse "wtbox/$name")" "wtbox/$name before the import"
}

test_killed_supervisor_then_sync_imports() {
    need_sandbox
    make_repo repo
    cd repo
    killed_after_commit ks
    expect_exit 0 wtbox sync ks
    assert_contains "$OUT" "wtbox: agent 'ks': imported wtbox/ks -> ${COMMIT:0:12} (1 new commit)"
    assert_eq "$COMMIT" "$(git rev-parse wtbox/ks)" "wtbox/ks after sync"
    assert_eq "killed" "$(git log -1 --format=%s wtbox/ks)" "git log wtbox/ks"
    assert_eq "" "$(git -C "$(agent_worktrees ks)" status --porcelain)" "git status in the worktree"
    assert_fsck .
    # Once more: nothing left to import.
    expect_exit 0 wtbox sync ks
    assert_eq "wtbox: agent 'ks': nothing to import" "$(cat "$OUT")" "second sync"
}

test_killed_supervisor_then_next_run_imports_first() {
    need_sandbox
    make_repo repo
    cd repo
    killed_after_commit kr
    batch_sh inside 'git log -1 --format=%s'
    batch_run 0 --name kr --report "$T/report.json"
    assert_contains "$ERR" "wtbox: agent 'kr': imported wtbox/kr -> ${COMMIT:0:12} (1 new commit)"
    assert_eq "$COMMIT" "$(git rev-parse wtbox/kr)" "wtbox/kr after the next run"
    assert_probe inside 0 killed
    # Imported before the run: the run itself had nothing more.
    assert_report '.imported == [] and .import_error == null'
    assert_fsck .
}

# sync while the sandbox runs: the commit is on the host's branch before
# the run ends; the end of the run finds nothing more to import.
test_sync_while_running() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    "$WTBOX" run --name sr --rw "$O" --report "$T/report.json" -- sh -c '
        echo s >s.txt && git add s.txt && git commit -q -m synced && git rev-parse HEAD >"$1/commit.tmp" && mv "$1/commit.tmp" "$1/commit" &&
        i=0; while [ ! -e "$1/go" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
        [ -e "$1/go" ] && git log -1 --format=%s >"$1/after"' sh "$O" >"$T/run.out" 2>"$T/run.err" </dev/null &
    local pid=$!
    track_pid "$pid"
    wait_for_file "$O/commit" 30
    local commit
    commit=$(cat "$O/commit")
    expect_exit 0 wtbox sync sr
    pid_alive "$pid" || fail "setup: the run ended before the sync was done"
    assert_contains "$OUT" "wtbox: agent 'sr': imported wtbox/sr -> ${commit:0:12} (1 new commit)"
    assert_eq "$commit" "$(git rev-parse wtbox/sr)" "wtbox/sr while the sandbox runs"
    assert_eq "" "$(git -C "$(agent_worktrees sr)" status --porcelain)" "git status in the worktree"
    assert_fsck .
    touch "$O/go"
    wait_exit "$pid" 30
    assert_eq 0 "$RC" "exit status of the run (stderr: $(cat "$T/run.err"))"
    assert_eq synced "$(cat "$O/after")" "git log inside after the sync"
    assert_not_contains "$T/run.err" "imported"
    assert_report '.imported == [] and .not_imported == [] and .import_error == null'
    assert_report '.index_carried == false and .action == "kept"'
    assert_eq "$commit" "$(git rev-parse wtbox/sr)" "wtbox/sr after the run"
    assert_fsck .
}

test_sync_of_unknown_agent() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox sync nope
    assert_wtbox_error "no agent 'nope' in repository"
}

need_faults() {
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault-injection binary at $WTBOX_FAULTS_BIN (make check builds it)"
}

# Preparing the private git directory fails: for a new agent everything is
# rolled back; an existing agent is kept with its work.
test_fault_refresh_end() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    mkdir -p "$O"
    git for-each-ref --format='%(refname) %(objectname)' >"$T/refs.before"
    WTBOX_FAULT=refresh-end expect_exit 125 "$WTBOX_FAULTS_BIN" run --name rf --rw "$O" -- \
        sh -c 'touch "$1/ran"' sh "$O"
    assert_contains "$ERR" "injected fault at 'refresh-end'"
    assert_missing "$O/ran"
    assert_nothing_left . rf
    assert_no_agents .
    git for-each-ref --format='%(refname) %(objectname)' >"$T/refs.after"
    assert_same_file "$T/refs.before" "$T/refs.after" "the refs"
    assert_fsck .
    # An agent with work: kept, its work on its branch.
    expect_exit 0 wtbox run --name rf -- sh -c 'echo a >a.txt && git add a.txt && git commit -q -m kept'
    local tip
    tip=$(git rev-parse wtbox/rf)
    WTBOX_FAULT=refresh-end expect_exit 125 "$WTBOX_FAULTS_BIN" run --name rf --rw "$O" -- \
        sh -c 'touch "$1/ran"' sh "$O"
    assert_missing "$O/ran"
    assert_eq "$tip" "$(git rev-parse wtbox/rf)" "wtbox/rf"
    assert_dir "$(agent_worktrees rf)"
    expect_exit 0 wtbox run --name rf --rw "$O" -- sh -c 'git log -1 --format=%s >"$1/log"' sh "$O"
    assert_eq kept "$(cat "$O/log")" "git log inside afterwards"
    assert_fsck .
}

# The import fails at its end (after moving the refs): the agent is kept,
# the report says so, and the next real run finishes the job.
test_fault_import_end() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    WTBOX_FAULT=import-end expect_exit 0 "$WTBOX_FAULTS_BIN" run --name if --report "$T/report.json" -- \
        sh -c 'echo a >a.txt && git add a.txt && git commit -q -m one && echo b >b.txt && git add b.txt'
    assert_contains "$ERR" "injected fault at 'import-end'"
    assert_report '.import_error != null and (.import_error | contains("import-end"))'
    assert_report '.action == "kept"'
    local wt
    wt=$(agent_worktrees if)
    assert_dir "$wt"
    assert_eq one "$(git log -1 --format=%s wtbox/if)" "wtbox/if"
    assert_fsck .
    mkdir -p "$O"
    expect_exit 0 wtbox run --name if --rw "$O" --report "$T/report2.json" -- \
        sh -c 'git status --porcelain >"$1/status"; echo c >c.txt && git add c.txt && git commit -q -m two' sh "$O"
    assert_not_contains "$ERR" "cannot import"
    assert_report '.import_error == null and .imported[0].commits == 1' "$T/report2.json"
    assert_eq "two one" "$(git log -2 --format=%s wtbox/if | xargs)" "git log wtbox/if"
    assert_eq "A  b.txt" "$(cat "$O/status")" "git status inside the second run"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "git status in the worktree"
    assert_fsck .
}

# The worktree on the host followed the agent onto wtbox/NAME@feat; the user
# commits there. The next run sees that commit on feat (as for the agent's
# own branch), and the agent's commit on top is imported as a fast-forward.
test_host_commit_on_created_branch_is_seen_inside() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name hf -- sh -c \
        'git checkout -q -b feat && echo f >f.txt && git add f.txt && git commit -q -m feat1'
    local wt host
    wt=$(agent_worktrees hf)
    assert_eq "refs/heads/wtbox/hf@feat" "$(git -C "$wt" symbolic-ref HEAD)" "HEAD of the worktree on the host"
    echo from-host >"$wt/host.txt"
    git -C "$wt" add host.txt
    git -C "$wt" commit -q -m "host on feat"
    host=$(git rev-parse 'wtbox/hf@feat')
    batch_sh seen 'git log -1 --format=%s && git status --porcelain'
    batch_sh more 'echo agent >agent.txt && git add agent.txt && git commit -q -m "agent on feat" && git rev-parse HEAD'
    batch_run 0 --name hf --report "$T/report.json"
    assert_probe seen 0
    assert_eq "host on feat" "$(cat "$O/seen")" "git log and git status inside"
    assert_probe more 0
    assert_report '.not_imported == [] and .import_error == null'
    assert_eq "$(cat "$O/more")" "$(git rev-parse 'wtbox/hf@feat')" "wtbox/hf@feat"
    assert_eq "$host" "$(git rev-parse 'wtbox/hf@feat~1')" "parent of the agent's commit"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "git status in the worktree"
    assert_fsck .
}

# The import runs in a child: when it dies half-way (SIGKILLed here while
# it copies objects; a pack the agent truncates under sync's mapping would
# SIGBUS it the same way), the run ends as usual, the agent and its commit
# are kept, and the next run imports them.
test_import_that_dies_keeps_the_work() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    WTBOX_FAULT=import-copy:crash expect_exit 0 "$WTBOX_FAULTS_BIN" run --name id \
        --report "$T/report.json" -- sh -c 'echo a >a.txt && git add a.txt && git commit -q -m one'
    assert_contains "$ERR" "wtbox: cannot import from agent 'id': it was killed by signal 9"
    assert_report '.import_error != null and (.import_error | contains("killed by signal 9"))'
    assert_report '.action == "kept" and .imported == []'
    assert_eq "$base" "$(git rev-parse wtbox/id)" "wtbox/id after the import died"
    assert_dir "$(agent_worktrees id)"
    expect_exit 0 wtbox run --name id -- true
    assert_contains "$ERR" "wtbox: agent 'id': imported wtbox/id"
    assert_eq one "$(git log -1 --format=%s wtbox/id)" "wtbox/id after the next run"
    assert_fsck .
}

# The same under sync, which imports from a snapshot of hard links: it
# fails with one line, and no snapshot is left behind.
test_sync_whose_import_dies_leaves_nothing() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    killed_after_commit sd
    WTBOX_FAULT=import-copy:crash expect_exit 125 "$WTBOX_FAULTS_BIN" sync sd
    assert_wtbox_error "cannot import from agent 'sd': it was killed by signal 9 (Killed)"
    assert_ne "$COMMIT" "$(git rev-parse wtbox/sd)" "wtbox/sd after the failed sync"
    local state left
    state=$(agent_records sd)
    left=$(find "$state" -maxdepth 1 -name 'git.import-*' | wc -l)
    assert_eq 0 "$left" "snapshots left in $state"
    expect_exit 0 wtbox sync sd
    assert_eq "$COMMIT" "$(git rev-parse wtbox/sd)" "wtbox/sd after the next sync"
    assert_fsck .
}

# An object of 3 GiB (a blob of zeros, 3 MB on disk) would be read whole:
# the import's heap is capped, so the branch that holds it is refused and
# stays in the agent's git directory instead of costing the host 3 GiB.
test_huge_object_is_refused_not_read_whole() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$T/big"
    python3 - "$T/big" <<'PY'
import os, struct, sys, zlib
size = 3 << 30
oid = "1077662767e8de998abc7dbe3649b8df9a2baf72"  # git hash-object of 3 GiB of zeros
chunk = bytes(1 << 24)
hdr = b"blob %d\0" % size
c = zlib.compressobj(9)
head = c.compress(hdr) + c.flush(zlib.Z_FULL_FLUSH)
# After a full flush the stream does not look back: every chunk of zeros
# compresses to the same bytes.
blk = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
adler = zlib.adler32(hdr)
for _ in range(size // len(chunk)):
    adler = zlib.adler32(chunk, adler)
os.makedirs(os.path.join(sys.argv[1], oid[:2]))
with open(os.path.join(sys.argv[1], oid[:2], oid[2:]), "wb") as f:
    f.write(head)
    for _ in range(size // len(chunk)):
        f.write(blk)
    f.write(b"\x03\x00" + struct.pack(">I", adler))  # empty final block, checksum
PY
    local base oid=1077662767e8de998abc7dbe3649b8df9a2baf72
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run --name huge --ro "$T/big" --report "$T/report.json" -- sh -c '
        objects=$(git rev-parse --git-path objects) && cp -r "$1/${2%"${2#??}"}" "$objects/" &&
        git cat-file -s "$2" && git update-index --add --cacheinfo "100644,$2,zeros.bin" &&
        git commit -q -m huge' sh "$T/big" "$oid"
    assert_contains "$OUT" "3221225472"
    assert_contains "$ERR" "wtbox: agent 'huge': not imported: refs/heads/wtbox/huge: cannot read object $oid"
    assert_report '.action == "kept" and .imported == []'
    assert_report '(.not_imported | length) == 2 and .index_carried == false'
    assert_eq "$base" "$(git rev-parse wtbox/huge)" "wtbox/huge"
    git cat-file -e "$oid" 2>/dev/null && fail "the 3 GiB object was copied into the shared store"
    # Nor does the worktree's index name it (git could not commit there).
    local wt
    wt=$(agent_worktrees huge)
    assert_not_contains <(git -C "$wt" ls-files -s) "$oid"
    expect_exit 0 git -C "$wt" write-tree
    assert_fsck .
}

# Every ref imported is a ref on the host: at most 1000 at a time. The
# rest are refused (so the agent is kept) and taken by the next import.
# Refs refused anyway (tags) do not count. The notes about odd files
# among its refs are listed up to 100, then counted.
test_changed_refs_are_imported_1000_at_a_time() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name many --report "$T/report.json" -- sh -c '
        git commit -q --allow-empty -m many &&
        i=0; while [ $i -lt 1002 ]; do echo "create refs/heads/b$i HEAD"; i=$((i + 1)); done |
        git update-ref --stdin && git tag t1 && git tag t2 &&
        mkdir "$(git rev-parse --git-path refs/heads/odd)" &&
        i=0; while [ $i -lt 150 ]; do
            ln -s /etc/passwd "$(git rev-parse --git-path refs/heads/odd)/l$i"; i=$((i + 1))
        done'
    assert_report '.imported | length == 1000'
    assert_report '.not_imported | length == 3'
    assert_report '.not_imported[0] == "refs/tags/t1: tags are not imported"'
    assert_report '.not_imported[2] == "3 more changed refs: at most 1000 are imported at a time; the next import takes them"'
    assert_report '.git_notes | length == 101'
    assert_report '.git_notes[100] == "50 more notes (not listed)"'
    assert_report '.action == "kept"'
    assert_eq 1000 "$(git for-each-ref 'refs/heads/wtbox/many*' | wc -l)" "host refs after the run"
    expect_exit 0 wtbox sync many
    assert_contains "$OUT" "imported wtbox/many@"
    assert_eq 1003 "$(git for-each-ref 'refs/heads/wtbox/many*' | wc -l)" "host refs after sync"
}

# The import dies after it moved a ref, before it wrote down the refs it
# moved: the move is reported all the same, and when the user then commits
# on that branch, the next import does not rewrite it (the agent never
# saw the user's commit).
test_import_that_dies_half_way_reports_and_keeps_host_commits() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    WTBOX_FAULT=import-ref:crash expect_exit 0 "$WTBOX_FAULTS_BIN" run --name hw \
        --report "$T/report.json" -- sh -c 'git checkout -q -b side && git commit -q --allow-empty -m side'
    assert_contains "$ERR" "wtbox: agent 'hw': imported wtbox/hw@side"
    assert_contains "$ERR" "cannot import from agent 'hw': it was killed by signal 9"
    assert_report '.imported | length == 1'
    assert_report '.import_error != null and .action == "kept"'
    git update-ref refs/heads/wtbox/hw@side "$(git commit-tree -p wtbox/hw@side -m user 'wtbox/hw@side^{tree}')"
    local user
    user=$(git rev-parse wtbox/hw@side)
    expect_exit 0 wtbox run --name hw -- true
    assert_contains "$ERR" "not imported: refs/heads/side: wtbox/hw@side was changed on the host too"
    assert_eq "$user" "$(git rev-parse wtbox/hw@side)" "the user's commit on wtbox/hw@side"
    assert_fsck .
}

# count_objects REPO KEY: a field of `git count-objects -v` (count: loose
# objects; packs: pack files).
count_objects() {
    git -C "$1" count-objects -v | awk -v k="$2:" '$1 == k {print $2}'
}

# The agent's new objects from 100 on go into the shared store as one pack
# (as git's fetch keeps a fetch of 100 objects or more as a pack): 300 new
# files were 300 loose object files in the shared store, until the user's
# next gc. Fewer stay loose objects, and so do blobs over 256 KiB (libgit2
# searches deltas for what it packs: slow on large data).
test_large_import_is_one_pack() {
    need_sandbox
    make_repo repo
    cd repo
    local loose packs
    loose=$(count_objects . count)
    packs=$(count_objects . packs)
    expect_exit 0 wtbox run --name lp --report "$T/report.json" -- sh -c "
        head -c 300000 /dev/urandom >big1 && head -c 300000 /dev/urandom >big2 &&
        git add big1 big2 && $(gen_commit 300 file)"
    assert_report '.import_error == null and .action == "kept"'
    assert_eq "$packs" "$(($(count_objects . packs) - 1))" "packs in the shared store, one more"
    assert_eq "$((loose + 2))" "$(count_objects . count)" "loose objects in the shared store (the two large blobs)"
    assert_eq 300000 "$(git cat-file -s wtbox/lp:big2)" "a large blob of the import"
    assert_eq gen "$(git log -1 --format=%s wtbox/lp)" "wtbox/lp"
    assert_eq 300 "$(git ls-tree wtbox/lp gen/ | wc -l)" "files in the imported tree"
    assert_eq "file 299" "$(git show wtbox/lp:gen/f299)" "a blob of the import"
    assert_fsck .
    # A few objects: loose, no pack.
    packs=$(count_objects . packs)
    expect_exit 0 wtbox run --name lp -- sh -c 'echo more >m && git add m && git commit -q -m more'
    assert_eq "$packs" "$(count_objects . packs)" "packs after a small import"
    assert_eq "$((loose + 5))" "$(count_objects . count)" "loose objects after a small import (the large blobs, then commit, tree, blob)"
    assert_eq more "$(git log -1 --format=%s wtbox/lp)" "wtbox/lp after the small import"
    assert_fsck .
}

# gen_commit N WORD: the agent's command that commits N new files.
gen_commit() {
    printf 'mkdir gen && i=0; while [ $i -lt %d ]; do echo "%s $i" >gen/f$i; i=$((i + 1)); done; git add gen && git commit -q -m gen' "$1" "$2"
}

# An import killed while it writes its pack: no ref names the pack's
# objects, nothing of the pack is left (its stage directory is the
# parent's to delete), the agent is kept, and the next run imports it as
# one pack. A pack that fails the same way (not killed) is said in one
# line.
test_import_whose_pack_dies_keeps_the_work() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    local base packs
    base=$(git rev-parse HEAD)
    packs=$(count_objects . packs)
    WTBOX_FAULT=import-pack:crash expect_exit 0 "$WTBOX_FAULTS_BIN" run --name pk \
        --report "$T/report.json" -- sh -c "$(gen_commit 150 one)"
    assert_contains "$ERR" "wtbox: cannot import from agent 'pk': it was killed by signal 9"
    assert_report '.action == "kept" and .imported == []'
    assert_eq "$base" "$(git rev-parse wtbox/pk)" "wtbox/pk after the import died"
    assert_eq "$packs" "$(count_objects . packs)" "packs after the import died"
    assert_eq 0 "$(count_objects . garbage)" "garbage in the shared store"
    assert_eq "" "$(find "$(common_dir .)/objects" -mindepth 1 -maxdepth 1 -name 'wtbox-*')" "stage directories left"
    assert_fsck .
    expect_exit 0 wtbox run --name pk -- true
    assert_contains "$ERR" "wtbox: agent 'pk': imported wtbox/pk"
    assert_eq gen "$(git log -1 --format=%s wtbox/pk)" "wtbox/pk after the next run"
    assert_eq "$((packs + 1))" "$(count_objects . packs)" "packs after the next run"
    assert_fsck .
    # Not killed: the objects go in loose, and one line says why.
    local loose
    loose=$(count_objects . count)
    WTBOX_FAULT=import-pack expect_exit 0 "$WTBOX_FAULTS_BIN" run --name pe \
        --report "$T/report.json" -- sh -c "$(gen_commit 150 two)"
    assert_contains "$ERR" "wtbox: agent 'pe': cannot write a pack of 153 objects: injected fault at 'import-pack'; wrote them as loose objects"
    assert_contains "$ERR" "wtbox: agent 'pe': imported wtbox/pe"
    assert_eq gen "$(git log -1 --format=%s wtbox/pe)" "wtbox/pe after the pack failed"
    assert_eq "two 149" "$(git show wtbox/pe:gen/f149)" "a blob of the import"
    assert_eq "$((packs + 1))" "$(count_objects . packs)" "packs after the pack failed"
    assert_eq "$((loose + 153))" "$(count_objects . count)" "loose objects after the pack failed"
    assert_eq "" "$(find "$(common_dir .)/objects" -mindepth 1 -maxdepth 1 -name 'wtbox-*')" "stage directories left"
    assert_fsck .
}

# stopped_descendant PID SECONDS: prints a process under PID (children,
# their children...) that is stopped (state T), waiting for one at most
# SECONDS; nothing if none.
stopped_descendant() {
    local root=$1 i c st
    local -a todo
    for ((i = 0; i < $2 * 20; i++)); do
        todo=("$root")
        while ((${#todo[@]} > 0)); do
            c=${todo[0]}
            todo=("${todo[@]:1}")
            st=$(cat "/proc/$c/stat" 2>/dev/null) || st=""
            st=${st##*) }
            if [[ ${st:0:1} == T ]]; then
                printf '%s\n' "$c"
                return 0
            fi
            # shellcheck disable=SC2207 # pids, split on purpose
            todo+=($(cat /proc/"$c"/task/*/children 2>/dev/null || true))
        done
        sleep 0.05
    done
}

# stopped_import POINT NAME: `wtbox run --name NAME` (the fault build,
# committing 150 new files) in the background, its import child stopped
# at the fault point POINT. Sets IMPORT_PID (the wtbox), IMPORT_CHILD
# (the stopped child) and IMPORT_KEEP (the keep file in objects/pack).
stopped_import() {
    WTBOX_FAULT=$1:stop "$WTBOX_FAULTS_BIN" run --name "$2" \
        -- sh -c "$(gen_commit 150 one)" >"$OUT" 2>"$ERR" </dev/null &
    IMPORT_PID=$!
    track_pid "$IMPORT_PID"
    IMPORT_CHILD=$(stopped_descendant "$IMPORT_PID" 30)
    [[ -n $IMPORT_CHILD ]] || fail "no stopped import child of $IMPORT_PID within 30s"
    track_pid "$IMPORT_CHILD"
    IMPORT_KEEP=$(find "$(common_dir .)/objects/pack" -name '*.keep')
    [[ -n $IMPORT_KEEP ]] || fail "no keep file in objects/pack at $1"
}

# An import killed after its keep and pack were moved into objects/pack
# and before its index was (the child stopped there, then SIGKILLed): git
# never reads a pack without its index, and the wtbox deletes it, with the
# keep. Killed once the index is in: the keep goes, the pack stays (no ref
# names its objects yet; the next import finds them there). One that fails
# between the two (not killed) deletes them itself and writes the objects
# loose.
test_import_killed_between_pack_and_index() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    local base packs loose dir pid child keep
    base=$(git rev-parse HEAD)
    packs=$(count_objects . packs)
    dir=$(common_dir .)/objects/pack
    stopped_import import-pack-index pi
    pid=$IMPORT_PID child=$IMPORT_CHILD keep=$IMPORT_KEEP
    assert_file "${keep%.keep}.pack"
    assert_missing "${keep%.keep}.idx"
    kill -KILL "$child"
    wait_exit "$pid" 60
    assert_eq 0 "$RC" "wtbox run's status"
    assert_contains "$ERR" "wtbox: cannot import from agent 'pi': it was killed by signal 9"
    assert_eq "$base" "$(git rev-parse wtbox/pi)" "wtbox/pi after the import died"
    assert_eq "$packs" "$(count_objects . packs)" "packs after the import died"
    assert_eq 0 "$(count_objects . garbage)" "garbage in the shared store"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files left"
    assert_missing "${keep%.keep}.pack"
    assert_fsck .
    WTBOX_FAULT=import-pack-in:crash expect_exit 0 "$WTBOX_FAULTS_BIN" run --name pi -- true
    assert_contains "$ERR" "wtbox: cannot import from agent 'pi': it was killed by signal 9"
    assert_eq "$base" "$(git rev-parse wtbox/pi)" "wtbox/pi after the second import died"
    assert_eq "$((packs + 1))" "$(count_objects . packs)" "packs after the second import died"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files left"
    assert_fsck .
    expect_exit 0 wtbox run --name pi -- true
    assert_contains "$ERR" "wtbox: agent 'pi': imported wtbox/pi"
    assert_eq "one 149" "$(git show wtbox/pi:gen/f149)" "a blob of the import"
    assert_eq "$((packs + 1))" "$(count_objects . packs)" "packs after the next run"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files after the next run"
    assert_fsck .
    packs=$(count_objects . packs)
    loose=$(count_objects . count)
    WTBOX_FAULT=import-pack-index expect_exit 0 "$WTBOX_FAULTS_BIN" run --name pj \
        -- sh -c "$(gen_commit 150 two)"
    assert_contains "$ERR" "wtbox: agent 'pj': cannot move a pack of 153 objects into the shared store: injected fault at 'import-pack-index'; wrote them as loose objects"
    assert_contains "$ERR" "wtbox: agent 'pj': imported wtbox/pj"
    assert_eq "two 0" "$(git show wtbox/pj:gen/f0)" "a blob of the import"
    assert_eq "$packs" "$(count_objects . packs)" "packs after the pack failed"
    assert_eq "$((loose + 153))" "$(count_objects . count)" "loose objects after the pack failed"
    assert_eq 0 "$(count_objects . garbage)" "garbage in the shared store"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files left"
    assert_fsck .
}

# An import killed with its wtbox between the pack and its index leaves
# a keep naming a dead pid, and a pack without index. The next import of
# the same objects makes the same pack: it takes that keep over (replaces
# it with its own, and deletes it when done) rather than leave it to
# keep the pack from git's repack until gc.
test_import_takes_over_the_keep_of_a_dead_import() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    local dir pid child keep
    dir=$(common_dir .)/objects/pack
    stopped_import import-pack-index pd
    pid=$IMPORT_PID child=$IMPORT_CHILD keep=$IMPORT_KEEP
    kill -KILL "$pid" "$child"
    wait "$pid" 2>/dev/null || true
    wait_pid_gone "$child" 10
    assert_file "$keep"
    assert_file "${keep%.keep}.pack"
    assert_missing "${keep%.keep}.idx"
    expect_exit 0 wtbox run --name pd -- true
    assert_contains "$ERR" "wtbox: agent 'pd': imported wtbox/pd"
    assert_eq "one 149" "$(git show wtbox/pd:gen/f149)" "a blob of the import"
    assert_file "${keep%.keep}.idx"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files after the next import"
    assert_eq 0 "$(count_objects . garbage)" "garbage in the shared store"
    assert_fsck .
}

# While the pack is in and no ref names its objects yet, a keep file
# beside it tells git: `git repack -a -d` in that window (the import child
# stopped there) leaves the pack alone; without the keep it deletes it as
# a pack of unreachable objects, and the branch would name a commit the
# store lacks. Once the refs are updated the keep goes.
test_repack_during_import_leaves_its_pack() {
    need_sandbox
    need_faults
    make_repo repo
    cd repo
    local pid dir keep child
    dir=$(common_dir .)/objects/pack
    stopped_import import-pack-in rp
    pid=$IMPORT_PID child=$IMPORT_CHILD keep=$IMPORT_KEEP
    assert_eq "$(keep_text "$(cut -d' ' -f3 "$keep")")" "$(cat "$keep")" "the keep's text"
    assert_match " $(cat /proc/"$(cut -d' ' -f3 "$keep")"/task/*/children)" " $child "
    git repack -a -d -q
    assert_file "${keep%.keep}.pack"
    assert_file "${keep%.keep}.idx"
    kill -CONT "$child"
    wait_exit "$pid" 60
    assert_eq 0 "$RC" "wtbox run's status"
    assert_contains "$ERR" "wtbox: agent 'rp': imported wtbox/rp"
    assert_eq "one 149" "$(git show wtbox/rp:gen/f149)" "a blob of the import"
    assert_eq "" "$(find "$dir" -name '*.keep')" "keep files after the import"
    assert_fsck .
}
