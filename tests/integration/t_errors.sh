# t_errors.sh: bad input. Each error is one line `wtbox: ...` naming the
# problem, exit status 125, the command does not run and nothing is left.

# bad_run DIR TEXT [RUN OPTIONS...]: `wtbox -C DIR run OPTIONS -- touch
# $O/ran` ($O granted read-write) fails with TEXT, without running the
# command.
bad_run() {
    local dir=$1 text=$2
    shift 2
    mkdir -p "$O"
    expect_exit 125 wtbox -C "$dir" run "$@" --rw "$O" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_wtbox_error "$text"
    assert_missing "$O/ran"
}

test_not_a_repository() {
    mkdir plain
    ! git -C plain rev-parse --git-dir >/dev/null 2>&1 || fail "setup: plain/ is inside a repository"
    cd plain
    mkdir -p "$O"
    expect_exit 125 wtbox run --name x --rw "$O" -- sh -c 'touch "$1/ran"' sh "$O"
    assert_wtbox_error "not a git repository"
    assert_missing "$O/ran"
    cd ..
    bad_run plain "not a git repository" --name x
    assert_no_agents
}

test_missing_directory() {
    expect_exit 125 wtbox -C "$T/no-such-dir" run --name x -- true
    assert_match "$ERR" '^wtbox: '
    assert_contains "$ERR" "$T/no-such-dir"
    assert_no_agents
}

test_bare_repository() {
    make_repo src
    git -c protocol.file.allow=always clone -q --bare src bare.git
    git -C bare.git rev-parse --verify -q HEAD >/dev/null || fail "setup: bare.git has no HEAD"
    bad_run bare.git "bare repository" --name x
    cd bare.git
    expect_exit 125 wtbox run --name x -- true
    assert_wtbox_error "bare repository"
    cd ..
    assert_no_agents bare.git
}

test_empty_repository() {
    git init -q -b main empty
    bad_run empty "no commits" --name x
    bad_run empty "no commits"
    assert_no_agents empty
    assert_eq "" "$(git -C empty for-each-ref)" "refs in the empty repository"
}

# A repository of another user's: git does not open it, and the error says
# why (the root pass makes one and gives it away; the user pass gets one of
# root's from run.sh).
test_repository_of_another_user() {
    local repo owner
    if [[ $(id -u) == 0 ]]; then
        make_repo foreign
        chown -R 65534:65534 foreign
        repo=$PWD/foreign
        owner=65534
    else
        repo=${WTBOX_FOREIGN_REPO:-}
        [[ -d $repo/.git ]] || fail "run.sh made no repository of root's for the user pass"
        owner=0
    fi
    bad_run "$repo" "repository '$repo' belongs to another user (uid $owner) and git does not open it for you (uid $(id -u)); see 'git help config', safe.directory" --name x
    [[ -z $(find "$repo/.git/worktrees" -maxdepth 0 2>/dev/null) ]] || fail "a worktree was registered in $repo"
}

test_invalid_base() {
    make_repo repo
    bad_run repo "invalid base revision" --name x --base nosuchrev
    assert_contains "$ERR" "'nosuchrev'"
    bad_run repo "invalid base revision" --name x --base 0123456789abcdef0123456789abcdef01234567
    assert_contains "$ERR" "'0123456789abcdef0123456789abcdef01234567'"
    bad_run repo "invalid base revision" --name x --base HEAD~10
    assert_contains "$ERR" "'HEAD~10'"
    # A tree is an object but not a commit.
    bad_run repo "invalid base revision" --name x --base 'HEAD^{tree}'
    assert_contains "$ERR" "'HEAD^{tree}'"
    assert_no_agents repo
}

# --base names the base of a new agent: an existing agent keeps its own,
# and a run (or its dry run) with another is refused; its own is accepted.
test_base_of_an_existing_agent() {
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    expect_exit 0 wtbox run -k --name x -- true
    git commit -q --allow-empty -m later
    local opt
    for opt in "" --dry-run; do
        bad_run . "agent 'x' already exists with base ${base:0:12}; --base applies only to a new agent" \
            ${opt:+"$opt"} --name x --base HEAD
    done
    expect_exit 0 wtbox run --dry-run --name x --base "$base" -- true
    assert_contains "$OUT" "dry run for agent 'x'"
    expect_exit 0 wtbox run --name x --base "$base" -- git rev-parse HEAD
    assert_eq "$base" "$(cat "$OUT")" "HEAD of the existing agent"
    assert_nothing_left . x
}

# bad_name NAME: --name NAME is refused with a reason.
bad_name() {
    make_repo repo
    bad_run repo "invalid agent name '$1'" --name "$1"
    local line rest
    line=$(cat "$ERR")
    rest=${line#*"invalid agent name '$1'"}
    [[ $rest =~ [A-Za-z]{3} ]] || fail "no reason after the name in: $line"
    assert_no_agents repo
}

test_name_with_slash() { bad_name a/b; }
test_name_dotdot() { bad_name ..; }
test_name_with_dotdot() { bad_name a..b; }
test_name_with_space() { bad_name "with space"; }
test_name_leading_dash() { bad_name -lead; }
test_name_leading_dot() { bad_name .hidden; }
test_name_65_chars() { bad_name "$(printf 'a%.0s' {1..65})"; }
test_name_empty() { bad_name ""; }
test_name_lock_suffix() { bad_name x.lock; }
test_name_trailing_dot() { bad_name x.; }
test_name_other_bytes() { bad_name 'a:b'; }
test_name_non_ascii() { bad_name 'été'; }

test_name_64_chars_accepted() {
    make_repo repo
    cd repo
    local name
    name=$(printf 'a%.0s' {1..64})
    mkdir -p "$O"
    expect_exit 0 wtbox run --name "$name" --rw "$O" --report "$T/report.json" -- \
        sh -c 'echo "$WTBOX_NAME" >"$1/name"' sh "$O"
    assert_eq "$name" "$(cat "$O/name")" "WTBOX_NAME"
    assert_report ".name == \"$name\" and .branch == \"wtbox/$name\" and .action == \"removed\""
    assert_nothing_left . "$name"
}

test_name_all_allowed_characters() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name A.z_0-9 --keep -- true
    git rev-parse -q --verify refs/heads/wtbox/A.z_0-9 >/dev/null || fail "no branch wtbox/A.z_0-9"
    assert_dir "$(agent_worktrees A.z_0-9)"
}

# A wtbox/NAME branch that wtbox did not create is not touched.
test_foreign_branch() {
    make_repo repo
    git -C repo branch wtbox/foreign HEAD~1
    local sha
    sha=$(git -C repo rev-parse wtbox/foreign)
    bad_run repo "not created by wtbox" --name foreign
    assert_contains "$ERR" "foreign"
    assert_eq "$sha" "$(git -C repo rev-parse wtbox/foreign)" "wtbox/foreign"
    assert_eq 1 "$(git -C repo worktree list --porcelain | grep -c '^worktree ')" "worktrees"
    assert_eq "" "$(agent_worktrees foreign)" "worktree dir"
    assert_eq "" "$(agent_records foreign)" "record dir"
    assert_missing "$(common_dir repo)/worktrees/wtbox-foreign"
    assert_fsck repo
}

# The name of an agent wtbox made but cannot find gets a true reason: a
# branch left when gc handled a vanished worktree, and the agents of a
# repository that was moved (its records are under its old path).
test_branch_or_worktree_left_by_wtbox() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -k --name v -- sh -c 'echo x >f; git add f; git commit -qm work'
    local tip
    tip=$(git rev-parse wtbox/v)
    rm -rf "$(agent_worktrees v)"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: vanished 'v'"
    bad_run . "branch 'wtbox/v' is left from an earlier agent 'v' whose worktree is gone, or that 'wtbox ls --all' lists under another path of this repository; it may hold that agent's commits: choose another agent name, or delete the branch once its work is safe" --name v
    assert_eq "$tip" "$(git rev-parse wtbox/v)" "the branch"
    expect_exit 0 wtbox run -k --name a -- sh -c 'echo x >f'
    local wt
    wt=$(agent_worktrees a)
    cd "$T"
    mv repo moved
    cd moved
    expect_exit 0 wtbox ls
    assert_not_contains "$OUT" " a "
    bad_run . "git worktree 'wtbox-a' (at '$wt') is not an agent of this repository; if the repository was moved or renamed, its agents are listed under its old path by 'wtbox ls --all'; choose another agent name" --name a
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" "^$T/repo \(gone\) +a +exited 0 "
    assert_eq x "$(cat "$wt/f")" "the agent's worktree"
}

# A directory at the worktree path that git does not know is not touched.
test_existing_directory_at_worktree_path() {
    make_repo repo
    # Learn where this repo's worktrees go.
    expect_exit 0 wtbox -C repo run --name probe --report "$T/report.json" -- true
    local dir
    dir=$(dirname "$(jget "$T/report.json" .worktree)")/squat
    mkdir -p "$dir"
    echo precious >"$dir/precious.txt"
    bad_run repo "already exists" --name squat
    assert_contains "$ERR" "$dir"
    assert_eq "precious" "$(cat "$dir/precious.txt")" "file in the existing directory"
    assert_eq "precious.txt" "$(ls -A "$dir")" "contents of the existing directory"
    assert_eq "" "$(git -C repo branch --list 'wtbox/*')" "wtbox branches"
    assert_eq 1 "$(git -C repo worktree list --porcelain | grep -c '^worktree ')" "worktrees"
    assert_eq "" "$(agent_records squat)" "record dir"
    assert_missing "$(common_dir repo)/worktrees/wtbox-squat"
}

# "lock" is a valid name (it does not end in ".lock").
test_name_lock_accepted() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name lock --report "$T/report.json" -- true
    assert_contains "$ERR" "wtbox: agent 'lock' changed nothing; removed"
    assert_nothing_left . lock
    expect_exit 0 wtbox run --name lock --report "$T/report.json" -- sh -c 'echo x >f'
    assert_contains "$ERR" "wtbox: agent 'lock' kept:"
    assert_report '.name == "lock" and .action == "kept" and .untracked == ["f"]'
    assert_file "$(agent_records lock)/record.json"
}

# Regression (audit): a tree or a blob as --base was refused in libgit2's
# words about peeling; now the line says what the revision names.
test_base_names_a_tree_or_blob() {
    make_repo repo
    git -C repo tag treetag 'HEAD^{tree}'
    git -C repo tag -a -m 'a tree' atreetag 'HEAD^{tree}'
    local rev want
    for rev in 'HEAD^{tree}' HEAD:src treetag 'HEAD:README.md' atreetag; do
        case $rev in
        HEAD:README.md) want="it names a blob, not a commit" ;;
        atreetag) want="it names a tag of a tree, not a commit" ;;
        *) want="it names a tree, not a commit" ;;
        esac
        bad_run repo "invalid base revision" --name x --base "$rev"
        assert_eq "wtbox: invalid base revision '$rev': $want" "$(cat "$ERR")" "the error for --base $rev"
    done
    assert_no_agents repo
}

# Regression (audit): --log-denials reports what the seccomp filter
# denies; with --policy=none there is none, and the run said nothing.
test_log_denials_without_filter() {
    make_repo repo
    local args
    for args in "--policy none --log-denials" "--log-denials --policy none" \
        "--policy=none --log-denials" "--log-denials --policy=none" "-d --log-denials --policy=none"; do
        # shellcheck disable=SC2086 # word splitting wanted
        bad_run repo "--log-denials needs a seccomp filter" --name x $args
        assert_eq "wtbox: --log-denials needs a seccomp filter, and --policy=none has none" \
            "$(cat "$ERR")" "the error for $args"
    done
    assert_no_agents repo
    assert_eq "" "$(trash_entries)" "trash"
}

# Regression (audit): `--timeout ' 5'` was taken as 5 (strtoul skips white
# space and takes a sign). Every number given is digits and nothing else.
test_numbers_are_digits_only() {
    make_repo repo
    local v
    # (A tab is refused too, see tests/unit/test_util.c; here it would
    # reach the message escaped.)
    for v in ' 5' '5 ' '+5' '-0' '5s' '0x5'; do
        bad_run repo "invalid --timeout '$v': expected whole seconds > 0" --name x --timeout "$v"
        bad_run repo "invalid --timeout '$v'" --name x -t "$v"
        bad_run repo "invalid --port-range '$v-30000'" --name x --port-range "$v-30000"
        bad_run repo "invalid --publish port '$v'" --name x -p "$v"
        bad_run repo "invalid --allow-host-port '$v'" --name x --allow-host-port "$v"
        expect_exit 125 wtbox -C repo stop -t "$v" x
        assert_wtbox_error "invalid -t '$v': expected whole seconds >= 0"
    done
    for v in '+5' ' 5' '-0'; do
        WTBOX_TRASH_GRACE=$v bad_run repo "invalid WTBOX_TRASH_GRACE '$v': expected seconds" --name x
        WTBOX_IMPORT_TIMEOUT=$v bad_run repo "invalid WTBOX_IMPORT_TIMEOUT '$v'" --name x
        WTBOX_STATUS_TIMEOUT=$v bad_run repo "invalid WTBOX_STATUS_TIMEOUT '$v'" --name x
    done
    assert_no_agents repo
}

# Regression (audit): a key given twice in .wtbox.json (the last one won)
# or a pattern cut at \u0000 was taken without a word.
test_config_duplicate_key_and_nul() {
    make_repo repo
    printf '{"disposable": ["a"], "disposable": ["b"]}' >repo/.wtbox.json
    bad_run repo "invalid config '$T/repo/.wtbox.json': duplicate key 'disposable'" --name x
    printf '{"disposable": ["coverage\\u0000/"]}' >repo/.wtbox.json
    bad_run repo "invalid config '$T/repo/.wtbox.json': \\u0000 in a string at line 1, column 26" --name x
    assert_no_agents repo
}
