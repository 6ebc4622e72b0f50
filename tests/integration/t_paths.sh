# t_paths.sh: where things go; unusual paths; how the repository is found.

# Spaces and non-ASCII bytes in the repository path and in XDG_DATA_HOME.
test_spaces_and_non_ascii() {
    export XDG_DATA_HOME="$T/data dir"
    mkdir -p "$XDG_DATA_HOME"
    mkdir "my repo"
    make_repo "my repo/été"
    cd "my repo/été"
    expect_exit 0 wtbox run --name n1 --report "$T/r1.json" -- \
        sh -c 'echo x >x.txt && git add x.txt && git commit -q -m "in été"'
    local wt
    wt=$(jget "$T/r1.json" .worktree)
    # "été" is c3 a9 74 c3 a9: each byte outside [A-Za-z0-9._-] becomes '_'.
    assert_match "$wt" "^$T/data dir/wtbox/__t__-[0-9a-f]{12}/n1\$"
    assert_file "$wt/x.txt"
    assert_report '.action == "kept" and .commits_ahead == 1' "$T/r1.json"
    assert_eq "in été" "$(git log -1 --format=%s wtbox/n1)" "commit on wtbox/n1"
    git -c core.quotePath=false worktree list --porcelain >"$T/wtlist"
    assert_contains "$T/wtlist" "worktree $wt"
    assert_eq "" "$(git -C "$wt" status --porcelain)" "status of the kept worktree"

    expect_exit 0 wtbox run --name n2 --report "$T/r2.json" -- true
    assert_report '.action == "removed"' "$T/r2.json"
    assert_nothing_left . n2
    assert_fsck .
}

test_worktree_and_record_paths() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name p --keep --report "$T/report.json" -- true
    local wt id
    wt=$(jget "$T/report.json" .worktree)
    assert_match "$wt" "^$XDG_DATA_HOME/wtbox/repo-[0-9a-f]{12}/p\$"
    id=$(basename "$(dirname "$wt")")
    assert_file "$XDG_STATE_HOME/wtbox/$id/p/record.json"
    assert_file "$wt/.git"
    assert_eq "$(common_dir .)/worktrees/wtbox-p" \
        "$(cd "$wt" && cd "$(git rev-parse --git-dir)" && pwd -P)" "git admin dir of the worktree"
}

# The XDG defaults when the variables are not set.
test_xdg_defaults() {
    make_repo repo
    cd repo
    unset XDG_DATA_HOME XDG_STATE_HOME
    expect_exit 0 wtbox run --name d --keep --report "$T/report.json" -- true
    assert_match "$(jget "$T/report.json" .worktree)" "^$HOME/.local/share/wtbox/repo-[0-9a-f]{12}/d\$"
    local rec=("$HOME"/.local/state/wtbox/repo-*/d/record.json)
    assert_file "${rec[0]}"
}

test_dash_C_from_elsewhere() {
    make_repo repo
    mkdir elsewhere
    cd elsewhere
    mkdir -p "$O"
    expect_exit 0 wtbox -C "$T/repo" run --name c1 --rw "$O" --report "$T/report.json" -- \
        sh -c 'git rev-parse --show-toplevel >"$1/top"; echo x >x' sh "$O"
    assert_report ".repo | rtrimstr(\"/\") == \"$T/repo/.git\""
    assert_eq "$(jget "$T/report.json" .worktree)" "$(cat "$O/top")" "toplevel inside"
    assert_eq "$(git -C "$T/repo" rev-parse HEAD)" "$(git -C "$T/repo" rev-parse wtbox/c1)" "wtbox/c1"
    assert_eq "" "$(ls -A .)" "files in the caller's cwd"
    # -C with a relative path, and -C pointing into a subdirectory.
    expect_exit 0 wtbox -C ../repo run --name c2 --keep -- true
    expect_exit 0 wtbox -C ../repo/src run --name c3 --keep -- true
    assert_eq 3 "$(git -C "$T/repo" branch --list 'wtbox/*' | wc -l)" "wtbox branches"
    assert_eq "$(dirname "$(agent_worktrees c1)")" "$(dirname "$(agent_worktrees c3)")" "repo-id dirs"
}

test_from_subdirectory() {
    make_repo repo
    cd repo/src
    mkdir -p "$O"
    expect_exit 0 wtbox run --name sub --rw "$O" --report "$T/report.json" -- sh -c 'pwd -P >"$1/pwd"' sh "$O"
    assert_report ".repo | rtrimstr(\"/\") == \"$T/repo/.git\""
    assert_report '.action == "removed"'
    assert_eq "$(jget "$T/report.json" .worktree)" "$(cat "$O/pwd")" "cwd of the command"
    assert_nothing_left "$T/repo" sub
}

# Two repositories with the same directory name get different repo-ids.
test_same_basename_different_repo_ids() {
    make_repo a/proj
    make_repo b/proj
    expect_exit 0 wtbox -C a/proj run --name x --report "$T/ra.json" -- sh -c 'echo a >f'
    expect_exit 0 wtbox -C b/proj run --name x --report "$T/rb.json" -- sh -c 'echo b >f'
    local wa wb
    wa=$(jget "$T/ra.json" .worktree)
    wb=$(jget "$T/rb.json" .worktree)
    assert_match "$wa" "^$XDG_DATA_HOME/wtbox/proj-[0-9a-f]{12}/x\$"
    assert_match "$wb" "^$XDG_DATA_HOME/wtbox/proj-[0-9a-f]{12}/x\$"
    assert_ne "$wa" "$wb" "worktree of the second repository"
    assert_eq a "$(cat "$wa/f")" "file in a's agent"
    assert_eq b "$(cat "$wb/f")" "file in b's agent"
    assert_eq "$T/a/proj/.git" "$(common_dir "$wa")" "common dir of a's agent"
    assert_eq "$T/b/proj/.git" "$(common_dir "$wb")" "common dir of b's agent"
    assert_contains "$(git -C a/proj worktree list --porcelain)" "worktree $wa"
    assert_not_contains "$(git -C a/proj worktree list --porcelain)" "worktree $wb"
    assert_contains "$(git -C b/proj worktree list --porcelain)" "worktree $wb"
}

# The repo-id comes from the canonical common git dir: the same through a
# symlink and from a linked worktree of the same repository.
test_repo_id_is_canonical() {
    make_repo repo
    ln -s repo link
    git -C repo worktree add -q -b other "$T/other" HEAD~1
    expect_exit 0 wtbox -C repo run --name r1 --keep -- true
    expect_exit 0 wtbox -C link run --name r2 --keep -- true
    expect_exit 0 wtbox -C other run --name r3 --keep --report "$T/r3.json" -- true
    local d1 d2 d3
    d1=$(dirname "$(agent_worktrees r1)")
    d2=$(dirname "$(agent_worktrees r2)")
    d3=$(dirname "$(agent_worktrees r3)")
    assert_match "$d1" '/repo-[0-9a-f]{12}$'
    assert_eq "$d1" "$d2" "repo-id through a symlink"
    assert_eq "$d1" "$d3" "repo-id from a linked worktree"
    # From the linked worktree, HEAD is that worktree's HEAD.
    assert_eq "$(git -C other rev-parse HEAD)" "$(git -C repo rev-parse wtbox/r3)" "wtbox/r3"
    assert_report ".repo | rtrimstr(\"/\") == \"$T/repo/.git\"" "$T/r3.json"
}

# The repo-id keeps at most 32 bytes of the basename: paths stay short.
test_repo_id_shortens_long_basename() {
    local base=aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd
    make_repo "$base"
    expect_exit 0 wtbox -C "$base" run --name x --keep --report "$T/report.json" -- true
    assert_match "$(jget "$T/report.json" .worktree)" "^$XDG_DATA_HOME/wtbox/${base:0:32}-[0-9a-f]{12}/x\$"
}

# A leading dot of the basename becomes '_': the repo-id directory is not a
# hidden one.
test_repo_id_unhides_leading_dot() {
    make_repo .dotfiles
    expect_exit 0 wtbox -C .dotfiles run --name x --keep --report "$T/report.json" -- true
    assert_match "$(jget "$T/report.json" .worktree)" "^$XDG_DATA_HOME/wtbox/_dotfiles-[0-9a-f]{12}/x\$"
}

# XDG_STATE_HOME on another filesystem than XDG_DATA_HOME: a removal still
# moves the state into the trash (a rename cannot).
test_state_on_other_filesystem() {
    [[ -d /dev/shm && -w /dev/shm ]] || skip "no writable /dev/shm for a second filesystem"
    [[ $(stat -c %d /dev/shm) != "$(stat -c %d "$T")" ]] || skip "/dev/shm is on the same filesystem as $T"
    local shm
    shm=$(mktemp -d /dev/shm/wtbox-test.XXXXXX)
    remove_at_exit "$shm"
    export XDG_STATE_HOME="$shm"
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name x --report "$T/report.json" -- true
    assert_contains "$ERR" "wtbox: agent 'x' changed nothing; removed"
    assert_report '.action == "removed"'
    assert_nothing_left . x
    expect_exit 0 wtbox run --name y -- sh -c 'echo x >f'
    assert_contains "$ERR" "wtbox: agent 'y' kept:"
    assert_file "$(agent_records y)/record.json"
}
