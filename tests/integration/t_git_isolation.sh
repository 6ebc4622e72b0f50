# t_git_isolation.sh: the git state of an agent is its own (issue #6).
# Inside the sandbox git works on a private git directory; nothing done there
# reaches the shared repository except what the host imports: the agent's
# branch, the branches it created (as wtbox/NAME@BRANCH), new objects, the
# index. The real git CLI on the host is the referee. The import itself
# (legit work, sync, kill, faults) is in t_git_import.sh.

# evil_scripts DIR: DIR/hooks/post-checkout, DIR/post-checkout, DIR/fsmonitor,
# DIR/filter and DIR/diff, each of which, when git runs it on the host,
# creates $T/marker.<what> (inside the sandbox $T is read-only, so running
# them there leaves no marker).
evil_scripts() {
    local d=$1 what
    mkdir -p "$d/hooks"
    for what in hookspath hook fsmonitor diff; do
        printf '#!/bin/sh\ntouch %q 2>/dev/null\nexit 0\n' "$T/marker.$what" >"$d/$what"
        chmod +x "$d/$what"
    done
    mv "$d/hookspath" "$d/hooks/post-checkout"
    mv "$d/hook" "$d/post-checkout"
    printf '#!/bin/sh\ntouch %q 2>/dev/null\nexec cat\n' "$T/marker.filter" >"$d/filter"
    chmod +x "$d/filter"
}

MARKERS="hookspath hook fsmonitor filter diff"

# host_git_commands DIR: what a user runs in a checkout, and what would run
# hooks, an fsmonitor, a clean filter or an external diff configured there.
host_git_commands() {
    local d=$1
    git -C "$d" status >/dev/null </dev/null
    git -C "$d" diff >/dev/null </dev/null
    git -C "$d" checkout -q -b wtbox-test-tmp </dev/null
    git -C "$d" checkout -q - </dev/null
    git -C "$d" branch -q -D wtbox-test-tmp
}

# Every attack of the issue from inside one sandbox; the host repository is
# unchanged byte for byte (except the attacking agent's own admin dir, where
# its index is carried), its refs and objects are whole, and git commands on
# the host run nothing the agent planted.
test_attacks_from_inside_leave_the_host_unchanged() {
    need_sandbox
    make_repo repo
    cd repo
    local common
    common=$(common_dir .)
    # A pack, and a loose object after it (the tip of main).
    git gc -q
    echo fourth >>README.md
    git commit -q -am fourth
    local pack loose
    pack=$(echo "$common"/objects/pack/pack-*.pack)
    [[ -f $pack ]] || fail "setup: no pack after git gc"
    loose=$(git rev-parse HEAD)
    loose=$common/objects/${loose:0:2}/${loose:2}
    [[ -f $loose ]] || fail "setup: the tip of main is not a loose object"
    # Another agent, and the attacking one, exist before the attack.
    expect_exit 0 wtbox run --name other --keep -- true
    expect_exit 0 wtbox run --name att --keep -- true
    local other_wt wt
    other_wt=$(agent_worktrees other)
    wt=$(agent_worktrees att)
    [[ -d $other_wt && -d $wt ]] || fail "setup: worktrees of 'other' and 'att' not found"
    evil_scripts "$O/evil"

    # What must not change.
    git_snapshot . "$T/snap.before" wtbox-att
    sha256sum "$common/config" >"$T/config.before"
    find "$common/hooks" -printf "%y %m %s %P\n" | LC_ALL=C sort >"$T/hooks.before"
    git for-each-ref --format='%(refname) %(objectname)' >"$T/refs.before"
    grep -v '^refs/heads/wtbox/att ' "$T/refs.before" >"$T/refs.before.x" || true
    sha256sum "$common/packed-refs" >"$T/packed.before"
    sha256sum "$common/index" >"$T/index.before"
    local main_head other_head other_admin_head
    main_head=$(git rev-parse HEAD)
    other_head=$(git -C "$other_wt" rev-parse HEAD)
    other_admin_head=$(cat "$common/worktrees/wtbox-other/HEAD")

    # Configuration the host's git would act on.
    batch_sh hookspath 'git config core.hooksPath "$EVIL/hooks" && git config core.hooksPath'
    batch_sh fsmonitor 'git config core.fsmonitor "$EVIL/fsmonitor" && git config core.fsmonitor'
    batch_sh filter 'git config filter.x.clean "$EVIL/filter" && git config filter.x.smudge "$EVIL/filter" &&
        printf "* filter=x\n" >.gitattributes && git config filter.x.clean'
    batch_sh diffext 'git config diff.external "$EVIL/diff" && git config diff.external'
    # A change for git diff, the filters and diff.external to act on.
    batch_sh edit 'echo agent-edit >>README.md && git status --porcelain'
    # A hook where git inside keeps them, and straight in the host's .git.
    batch_sh hook 'h=$(git rev-parse --git-common-dir)/hooks && mkdir -p "$h" &&
        cp "$EVIL/post-checkout" "$h/post-checkout" && ls "$h"'
    batch_sh hosthook_mkdir 'mkdir -p "$COMMON/hooks"'
    batch_probe hosthook write "$common/hooks/post-checkout"
    # Refs: the shared main, another agent's branch.
    batch_sh main 'git branch -f main HEAD~1 && git rev-parse main'
    batch_sh other 'git update-ref -d refs/heads/wtbox/other && git for-each-ref --format="%(refname)"'
    # Objects of the shared store, by absolute path.
    batch_sh loose_rm 'rm -f "$LOOSE"'
    batch_sh loose_chmod 'chmod u+w "$LOOSE"'
    batch_probe loose_write write "$loose"
    batch_sh pack_rm 'rm -f "$PACK"'
    batch_sh pack_chmod 'chmod u+w "$PACK"'
    batch_probe pack_write write "$pack"
    batch_probe new_object mkdir "$common/objects/zz"
    batch_probe alternates write "$common/objects/info/alternates"
    # Other files of the shared .git, another worktree's admin dir and files.
    batch_probe config write "$common/config"
    batch_probe packed write "$common/packed-refs"
    batch_probe other_admin write "$common/worktrees/wtbox-other/HEAD"
    batch_sh other_admin_mkdir 'mkdir -p "$COMMON/worktrees/wtbox-other"'
    batch_probe other_wt write "$other_wt/planted"
    batch_sh gc 'git gc -q --prune=now && git count-objects -v'
    batch_sh status_end 'git status --porcelain'
    batch_run 0 --name att --report "$T/report.json" --env EVIL="$O/evil" --env COMMON="$common" \
        --env LOOSE="$loose" --env PACK="$pack"

    # Each attack was made, and what git inside allows worked there.
    assert_probe hookspath 0 "$O/evil/hooks"
    assert_probe fsmonitor 0 "$O/evil/fsmonitor"
    assert_probe filter 0 "$O/evil/filter"
    assert_probe diffext 0 "$O/evil/diff"
    assert_probe edit 0 " M README.md" "?? .gitattributes"
    assert_probe hook 0 post-checkout
    assert_probe main 0 "$(git rev-parse HEAD~1)"
    assert_probe other 0
    assert_not_contains "$O/other" refs/heads/wtbox/other
    assert_probe gc 0
    local k
    # ... and what would reach the host failed.
    for k in hosthook_mkdir other_admin_mkdir loose_rm loose_chmod pack_rm pack_chmod; do
        [[ $(cat "$O/$k.rc") != 0 ]] || fail "'$k' worked inside: $(_lib_show "$O/$k")"
        assert_contains "$O/$k" "Read-only file system"
    done
    assert_probe loose_write 1 write=EROFS
    assert_probe pack_write 1 write=EROFS
    assert_probe new_object 1 mkdir=EROFS
    assert_probe alternates 1 write=EROFS
    for k in hosthook config packed other_admin other_wt; do
        assert_probe "$k" 1
        assert_not_contains "$O/$k" write=ok
    done
    # The private config has what the agent set; the host's has none of it.
    assert_contains "$(agent_gitdir att)/config" "$O/evil/hooks"

    # The shared repository, byte for byte.
    git_snapshot . "$T/snap.after" wtbox-att
    sha256sum "$common/config" >"$T/config.after"
    assert_same_file "$T/config.before" "$T/config.after" ".git/config"
    find "$common/hooks" -printf "%y %m %s %P\n" | LC_ALL=C sort >"$T/hooks.after"
    assert_same_file "$T/hooks.before" "$T/hooks.after" "the listing of .git/hooks"
    git for-each-ref --format='%(refname) %(objectname)' >"$T/refs.after"
    grep -v '^refs/heads/wtbox/att ' "$T/refs.after" >"$T/refs.after.x" || true
    assert_same_file "$T/refs.before.x" "$T/refs.after.x" "the refs (all but wtbox/att)"
    sha256sum "$common/packed-refs" >"$T/packed.after"
    assert_same_file "$T/packed.before" "$T/packed.after" ".git/packed-refs"
    sha256sum "$common/index" >"$T/index.after"
    assert_same_file "$T/index.before" "$T/index.after" "the index of the main checkout"
    assert_eq "$main_head" "$(git rev-parse HEAD)" "HEAD of the main checkout"
    assert_eq "$main_head" "$(git rev-parse refs/heads/main)" "main"
    assert_eq "$other_head" "$(git -C "$other_wt" rev-parse HEAD)" "HEAD of agent 'other'"
    assert_eq "$other_admin_head" "$(cat "$common/worktrees/wtbox-other/HEAD")" "admin HEAD of 'other'"
    assert_file "$loose"
    assert_file "$pack"
    assert_same_file "$T/snap.before" "$T/snap.after" "the shared git directory"
    assert_missing "$other_wt/planted"
    assert_eq "" "$(git config --get core.hooksPath || true)" "core.hooksPath on the host"
    assert_eq "" "$(git -C "$wt" config --get core.fsmonitor || true)" "core.fsmonitor seen from the worktree"
    assert_fsck .

    # The report: main was refused, nothing imported, the agent kept.
    assert_report '.not_imported | any(startswith("refs/heads/main:"))'
    assert_report '.imported == [] and .import_error == null and .action == "kept"'
    assert_contains "$ERR" "wtbox: agent 'att': not imported: refs/heads/main"

    # The host's git in the main checkout and in the agent's worktree runs
    # nothing the agent planted.
    echo host-edit >>README.md
    host_git_commands .
    host_git_commands "$wt"
    for k in $MARKERS; do
        assert_missing "$T/marker.$k"
    done
    # Controls: the same scripts, configured on the host, do leave markers.
    git -C "$wt" -c core.hooksPath="$O/evil/hooks" checkout -q -b wtbox-ctl </dev/null
    git -C "$wt" checkout -q - </dev/null
    git -C "$wt" -c core.fsmonitor="$O/evil/fsmonitor" status >/dev/null </dev/null
    git -C "$wt" -c filter.x.clean="$O/evil/filter" diff >/dev/null </dev/null
    git -C "$wt" -c diff.external="$O/evil/diff" diff >/dev/null </dev/null
    for k in hookspath fsmonitor filter diff; do
        assert_file "$T/marker.$k"
    done
    assert_fsck .
}

# Symlinks and FIFOs in the private directory's refs/ are not followed
# (notes in the report), an index that is a FIFO does not hang the host, and
# what is legitimately importable (the agent's commit) is imported.
test_private_dir_tricks_are_not_followed() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    # A host-visible file that holds a valid ref value.
    git rev-parse HEAD~1 >"$O/hostref"
    cp "$O/hostref" "$T/hostref.before"
    git for-each-ref --format='%(refname) %(objectname)' >"$T/refs.before"
    batch_sh work 'echo one >one.txt && git add one.txt && git commit -q -m one && git rev-parse HEAD'
    batch_sh tricks 'g=$(git rev-parse --git-dir) &&
        ln -s "$OUTDIR/hostref" "$g/refs/heads/x" &&
        mkfifo "$g/refs/heads/y" &&
        ln -s "$OUTDIR" "$g/refs/heads/d" &&
        ls -l "$g/refs/heads"'
    # Last: git inside would block on it too.
    batch_sh fifo_index 'g=$(git rev-parse --git-dir) && rm -f "$g/index" && mkfifo "$g/index"'
    batch_run_within 60 0 --name tr --report "$T/report.json" --env OUTDIR="$O"
    assert_probe work 0
    assert_probe tricks 0
    assert_probe fifo_index 0
    local commit
    commit=$(head -n1 "$O/work")
    # The commit is imported; nothing through the links or FIFOs.
    assert_eq "$commit" "$(git rev-parse wtbox/tr)" "wtbox/tr"
    assert_eq "" "$(git for-each-ref --format='%(refname)' 'refs/heads/wtbox/tr@*')" "branches wtbox/tr@*"
    git for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/heads/wtbox/tr ' >"$T/refs.after" || true
    assert_same_file "$T/refs.before" "$T/refs.after" "the host's refs (all but wtbox/tr)"
    assert_same_file "$T/hostref.before" "$O/hostref" "the file a ref linked to"
    local r
    for r in refs/heads/x refs/heads/y refs/heads/d; do
        assert_report ".git_notes | any(contains(\"$r\"))"
    done
    # The index is not carried; the report says why.
    assert_report '.index_carried == false'
    assert_report '(.git_notes + .not_imported + [.import_error // empty]) | any(contains("index"))'
    assert_report '.action == "kept"'
    assert_fsck .
}

# A symlinked directory in the private objects/ fails the import with a
# clear error and loses nothing: once it is removed (on the host), sync
# imports the commit and the index.
test_symlink_in_objects_fails_import_then_sync_imports() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh work 'echo one >one.txt && git add one.txt && git commit -q -m one && git rev-parse HEAD &&
        echo two >two.txt && git add two.txt && git status --porcelain >"$OUTDIR/status"'
    batch_sh link 'o=$(git rev-parse --git-dir)/objects &&
        for h in 00 01 02 03 04 05 06 07 08 09; do [ -e "$o/$h" ] || break; done &&
        ln -s / "$o/$h" && echo "$h"'
    batch_run_within 60 0 --name sy --report "$T/report.json" --env OUTDIR="$O"
    assert_probe work 0
    assert_probe link 0
    local commit base h
    commit=$(head -n1 "$O/work")
    h=$(cat "$O/link")
    base=$(git rev-parse main)
    assert_report '.import_error != null and (.import_error | contains("objects/'"$h"'"))'
    assert_report '.imported == [] and .action == "kept"'
    assert_contains "$ERR" "objects/$h"
    assert_eq "$base" "$(git rev-parse wtbox/sy)" "wtbox/sy after the failed import"
    ! git cat-file -e "$commit" 2>/dev/null || fail "the commit reached the shared store"
    assert_fsck .
    # Nothing is lost: the commit is still in the private directory.
    local gd
    gd=$(agent_gitdir sy)
    [[ -L $gd/objects/$h ]] || fail "the symlink is gone from the private directory"
    rm "$gd/objects/$h"
    expect_exit 0 wtbox sync sy
    assert_contains "$OUT" "wtbox: agent 'sy': imported wtbox/sy -> ${commit:0:12} (1 new commit)"
    assert_eq "$commit" "$(git rev-parse wtbox/sy)" "wtbox/sy after sync"
    assert_eq "$(cat "$O/status")" "$(git -C "$(agent_worktrees sy)" status --porcelain)" \
        "git status in the worktree on the host"
    assert_fsck .
}

# A branch of the agent's that names a blob or a tree: the host's branches
# name commits, so it is refused (reported), the agent's branch stays where
# it was, and git on the host keeps working.
test_branch_naming_a_non_commit_is_not_imported() {
    need_sandbox
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse main)
    batch_sh bad 'g=$(git rev-parse --git-dir) &&
        b=$(echo data | git hash-object -w --stdin) && t=$(git write-tree) &&
        mkdir -p "$g/refs/heads/wtbox" &&
        echo "$b" >"$g/refs/heads/wtbox/nc" && echo "$t" >"$g/refs/heads/treeish" &&
        git cat-file -t refs/heads/wtbox/nc && git cat-file -t refs/heads/treeish'
    batch_run 0 --name nc --report "$T/report.json"
    assert_probe bad 0 blob tree
    assert_eq "$base" "$(git rev-parse wtbox/nc)" "wtbox/nc on the host"
    assert_eq "commit" "$(git cat-file -t wtbox/nc)" "type of what wtbox/nc names"
    assert_eq "" "$(git for-each-ref --format='%(refname)' 'refs/heads/wtbox/nc@*')" "branches wtbox/nc@*"
    assert_report '.not_imported | any(startswith("refs/heads/wtbox/nc:"))'
    assert_report '.not_imported | any(startswith("refs/heads/treeish:"))'
    local rc=0
    git -C "$(agent_worktrees nc)" status --porcelain >"$T/status" 2>&1 || rc=$?
    assert_eq 0 "$rc" "git status in the worktree on the host ($(cat "$T/status"))"
    assert_fsck .
}

# The index the agent leaves is carried to the host's worktree: entries
# whose path git itself refuses (absolute, with an empty component) are not,
# or the user's next `git checkout -- .` there writes a file anywhere.
test_carried_index_has_no_path_git_refuses() {
    need_sandbox
    local py=/usr/bin/python3
    [[ -x $py ]] || skip "no $py to write an index with"
    make_repo repo
    cd repo
    mkdir -p "$O"
    # mkindex.py OUT PATH=SHA...: a version 2 index with these entries.
    cat >"$O/mkindex.py" <<'EOF'
import hashlib, struct, sys
ents = sorted((p.encode(), bytes.fromhex(s)) for p, s in (a.split('=', 1) for a in sys.argv[2:]))
out = b'DIRC' + struct.pack('>II', 2, len(ents))
for p, sha in ents:
    e = struct.pack('>10I', 0, 0, 0, 0, 0, 0, 0o100644, 0, 0, 0) + sha + struct.pack('>H', len(p)) + p
    out += e + b'\0' * (8 - len(e) % 8)
open(sys.argv[1], 'wb').write(out + hashlib.sha1(out).digest())
EOF
    batch_sh craft 'b=$(echo planted | git hash-object -w --stdin) &&
        set -- $(git ls-files -s | while read -r m s n p; do echo "$p=$s"; done) &&
        "$PY" "$OUTDIR/mkindex.py" "$(git rev-parse --git-dir)/index" "$@" \
            "$PLANT=$b" "a//b=$b" && git ls-files'
    batch_run 0 --name ix --report "$T/report.json" --env OUTDIR="$O" --env PY="$py" \
        --env PLANT="$T/planted"
    assert_probe craft 0 "$T/planted" "a//b" README.md
    local wt
    wt=$(agent_worktrees ix)
    git -C "$wt" ls-files >"$T/ls"
    # What a user does to drop an agent's changes.
    git -C "$wt" checkout -- . </dev/null >/dev/null 2>&1 || true
    [[ ! -e $T/planted ]] || fail "git checkout -- . in the worktree on the host wrote" \
        "'$T/planted', an entry of the carried index: $(_lib_show "$T/ls")"
    assert_not_contains "$T/ls" "$T/planted"
    assert_not_contains "$T/ls" "a//b"
    assert_fsck .
}

# The refs inside mirror the host's before each run: a branch or tag the
# host deleted is gone inside too (its objects may be pruned from the shared
# store); a branch the agent created stays.
test_refs_deleted_on_the_host_leave_the_mirror() {
    need_sandbox
    make_repo repo
    cd repo
    git branch gone main~1
    git tag -a gonetag -m gonetag main~2
    batch_sh first 'git branch mine && git show-ref'
    batch_run 0 --name mr --keep
    assert_contains "$O/first" " refs/heads/gone"
    assert_contains "$O/first" " refs/tags/gonetag"
    git rev-parse -q --verify 'refs/heads/wtbox/mr@mine' >/dev/null || fail "wtbox/mr@mine not imported"
    git branch -q -D gone
    git tag -d gonetag >/dev/null
    git reflog expire --expire=now --all
    git gc -q --prune=now
    batch_sh second 'git show-ref'
    batch_sh fsck 'git fsck --full 2>&1'
    batch_run 0 --name mr --keep
    assert_probe second 0
    assert_not_contains "$O/second" " refs/heads/gone"
    assert_not_contains "$O/second" " refs/tags/gonetag"
    assert_contains "$O/second" " refs/heads/mine"
    assert_probe fsck 0
}

# An index that is not a regular file is not read (the contract), and does
# not wedge the agent: the next run imports, brings the private directory up
# to date with the host (the index too) and git inside works.
test_fifo_index_does_not_wedge_the_agent() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh work 'echo one >one.txt && git add one.txt && git commit -q -m one && git rev-parse HEAD'
    batch_sh fifo_index 'g=$(git rev-parse --git-dir) && rm -f "$g/index" && mkfifo "$g/index"'
    batch_run_within 60 0 --name fw --report "$T/report.json"
    assert_probe work 0
    assert_eq "$(cat "$O/work")" "$(git rev-parse wtbox/fw)" "wtbox/fw"
    # Not carried, the index on the host must not be the one from before
    # the commit (it would stage the deletion of one.txt): it is HEAD's.
    assert_eq "" "$(git -C "$(agent_worktrees fw)" status --porcelain)" \
        "git status in the worktree on the host (the worktree is exactly the commit)"
    # The host moves main meanwhile.
    echo host >host.txt
    git add host.txt
    git commit -q -m "host moved main"
    batch_sh status 'timeout 10 git status --porcelain'
    batch_sh main 'git log -1 --format=%s main'
    batch_run_within 60 0 --name fw --report "$T/report2.json"
    assert_not_contains "$ERR" "cannot import"
    assert_probe status 0
    assert_eq "" "$(cat "$O/status")" "git status inside the second run"
    assert_probe main 0 "host moved main"
    assert_report '.import_error == null' "$T/report2.json"
    assert_fsck .
}

# Objects are checked before they reach the shared store, not only their
# hashes: a commit whose tree is a blob (written with --literally, which
# skips git's own checks) would make `git fsck` and every command that
# reads it fail on the host. Its branch is refused, the store stays sound.
test_malformed_commit_is_not_imported() {
    need_sandbox
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse main)
    batch_sh bad 'b=$(echo not-a-tree | git hash-object -w --stdin) &&
        c=$(printf "tree %s\nparent %s\nauthor a <a@example.invalid> 0 +0000\ncommitter a <a@example.invalid> 0 +0000\n\nbad\n" \
            "$b" "$(git rev-parse HEAD)" | git hash-object -t commit -w --stdin --literally) &&
        git update-ref refs/heads/wtbox/mc "$c" && git cat-file -t wtbox/mc && echo "$c"'
    batch_run 0 --name mc --report "$T/report.json"
    assert_probe bad 0 commit
    local c
    c=$(tail -n1 "$O/bad")
    assert_eq "$base" "$(git rev-parse wtbox/mc)" "wtbox/mc on the host"
    assert_report '.not_imported | any(startswith("refs/heads/wtbox/mc:"))'
    ! git cat-file -e "$c" 2>/dev/null || fail "the malformed commit $c reached the shared store"
    assert_fsck .
}

# The index is the agent's: flags in it that tell git to skip looking at a
# file (skip-worktree, assume-unchanged) must not hide the agent's changes
# of tracked files from the host, neither from wtbox's "changed nothing"
# verdict (the worktree would be removed) nor from `git diff` there.
test_index_flags_do_not_hide_changes() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh hide 'echo sneaky >>src/main.c && echo hidden >>README.md &&
        git update-index --skip-worktree src/main.c && git update-index --assume-unchanged README.md &&
        git ls-files -v src/main.c README.md && git status --porcelain'
    batch_run 0 --name hd --report "$T/report.json"
    # The flags were set, and git inside hides the changes.
    assert_probe hide 0 "S src/main.c" "h README.md"
    assert_report '.action == "kept" and .changed == true'
    assert_report '.modified | index("README.md") != null and index("src/main.c") != null'
    local wt
    wt=$(agent_worktrees hd)
    [[ -d $wt ]] || fail "the worktree with the agent's changes was removed"
    assert_eq "README.md
src/main.c" "$(git -C "$wt" diff --name-only)" "git diff --name-only in the worktree on the host"
}
