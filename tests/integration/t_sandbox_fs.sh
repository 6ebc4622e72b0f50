# t_sandbox_fs.sh: the filesystem the command sees: its worktree and git work,
# private and persistent /tmp, cache and home, --ro / --rw grants, and the
# system part (read-only root, /proc, /dev, /run, hidden directories).

# Agent paths on the host (contract: $XDG_STATE_HOME/wtbox/<repo-id>/<name>/).
agent_state() { # NAME
    agent_records "$1"
}

# Building and running a program, python, and git in the worktree; the
# commit is on the branch for the host's git.
test_build_and_commit_in_worktree() {
    need_sandbox
    command -v cc >/dev/null || skip "no C compiler"
    make_repo repo
    cd repo
    local base
    base=$(git rev-parse HEAD)
    cat >"$T/inside.sh" <<'EOF'
set -e
printf '#include <stdio.h>\nint main(void) { puts("hello from the sandbox"); return 0; }\n' >hello.c
cc -o hello hello.c
./hello >hello.out
python3 -c 'open("py.txt", "w").write("written by python\n")'
git add hello.c py.txt
git commit -q -m "built inside"
git log -1 --format=%s
EOF
    expect_exit 0 wtbox run --name build --ro "$T/inside.sh" --report "$T/report.json" -- sh "$T/inside.sh"
    assert_eq "built inside" "$(cat "$OUT")" "git log inside"
    local wt
    wt=$(jget "$T/report.json" .worktree)
    assert_eq "hello from the sandbox" "$(cat "$wt/hello.out")" "output of the program built inside"
    assert_eq "written by python" "$(cat "$wt/py.txt")" "file written by python"
    assert_eq "built inside" "$(git log -1 --format=%s wtbox/build)" "commit on wtbox/build"
    assert_eq "$base" "$(git rev-parse wtbox/build~1)" "parent of the commit"
    assert_eq "hello.c py.txt" "$(git ls-tree --name-only wtbox/build | grep -E '^(hello.c|py.txt)$' | xargs)" \
        "files in the commit"
    assert_report '.action == "kept" and .commits_ahead == 1 and .processes_left == 0'
    assert_report '.untracked == ["hello", "hello.out"] or .untracked == ["hello.out", "hello"]'
    assert_fsck .
}

# /tmp is the agent's own: it persists for the same agent, another agent
# never sees it, the host's /tmp never gets it, and it goes to the trash
# with the agent.
test_tmp_private_and_persistent() {
    need_sandbox
    make_repo repo
    cd repo
    # Names of this test's own: the host's /tmp is shared.
    local xn=x-note-$$.txt yn=y-note-$$.txt
    remove_at_exit "/tmp/$xn"
    remove_at_exit "/tmp/$yn"
    batch_sh x1 "echo x-note >/tmp/$xn && echo \"\$TMPDIR\""
    batch_run 0 --name x --keep
    assert_probe x1 0 /tmp
    assert_missing "/tmp/$xn"
    assert_eq x-note "$(cat "$(agent_state x)/tmp/$xn")" "x's tmp on the host"

    batch_probe y_sees read "/tmp/$xn"
    batch_sh y1 "echo y-note >/tmp/$yn"
    batch_run 0 --name y --keep
    assert_probe y_sees 1
    assert_probe y1 0

    batch_probe x_sees read "/tmp/$xn"
    batch_probe x_sees_y read "/tmp/$yn"
    batch_run 0 --name x --keep
    assert_probe x_sees 0 read=ok 'head=x-note\x0a'
    assert_probe x_sees_y 1

    # Removed (it changed nothing): its tmp goes to the trash with it, and
    # a new agent x starts with an empty one.
    expect_exit 0 wtbox run --name x -- true
    assert_contains "$ERR" "wtbox: agent 'x' changed nothing; removed"
    assert_nothing_left . x
    [[ -n $(find "$XDG_DATA_HOME/wtbox/trash" -name "$xn") ]] ||
        fail "x's tmp is not in the trash: $(find "$XDG_DATA_HOME/wtbox/trash")"
    batch_probe x_new read "/tmp/$xn"
    batch_run 0 --name x
    assert_probe x_new 1
}

# $XDG_CACHE_HOME and $HOME persist for the same agent, backed by its state
# directory, never by the host's home.
test_cache_and_home_persistent() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh env 'echo "$HOME"; echo "$XDG_CACHE_HOME"'
    # ${X:?}: should XDG_CACHE_HOME be unset, fail rather than write to /tool.
    batch_sh w 'mkdir -p "${XDG_CACHE_HOME:?}/tool" && echo cached >"$XDG_CACHE_HOME/tool/c" && echo homed >"$HOME/h"'
    batch_run 0 --name c --keep
    assert_probe w 0
    assert_eq "$HOME|$HOME/.cache" "$(paste -sd'|' "$O/env")" "HOME and XDG_CACHE_HOME inside"
    assert_missing "$HOME/h"
    assert_missing "$HOME/.cache/tool/c"
    local st
    st=$(agent_state c)
    assert_eq cached "$(cat "$st/cache/tool/c")" "the cache on the host"
    assert_eq homed "$(cat "$st/home/h")" "the home on the host"

    batch_sh r 'cat "$XDG_CACHE_HOME/tool/c" "$HOME/h"'
    batch_run 0 --name c --keep
    assert_eq "cached homed" "$(xargs <"$O/r")" "cache and home seen by the next run"
    batch_sh other 'cat "$XDG_CACHE_HOME/tool/c" "$HOME/h"'
    batch_run 0 --name d
    assert_probe other 1

    # Removed (it changed nothing): its cache and home go to the trash.
    expect_exit 0 wtbox run --name c -- true
    assert_contains "$ERR" "wtbox: agent 'c' changed nothing; removed"
    assert_nothing_left . c
    local trash
    trash=$(find "$XDG_DATA_HOME/wtbox/trash" -path '*/tool/c' -o -name h -type f)
    [[ $(grep -c . <<<"$trash") == 2 ]] ||
        fail "c's cache and home are not in the trash: $(find "$XDG_DATA_HOME/wtbox/trash")"
}

# The host's git configuration ($HOME/.gitconfig, $XDG_CONFIG_HOME/git/config)
# is visible read-only at the same paths: commits inside use it.
test_gitconfig_read_only() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$XDG_CONFIG_HOME/git"
    printf '[alias]\n\twtboxtest = status\n' >"$XDG_CONFIG_HOME/git/config"
    batch_probe read read "$HOME/.gitconfig"
    batch_probe write write "$HOME/.gitconfig"
    batch_probe xdg_read read "$XDG_CONFIG_HOME/git/config"
    batch_probe xdg_write write "$XDG_CONFIG_HOME/git/config"
    batch_sh name 'git config user.name'
    batch_run 0 --name g
    assert_probe read 0 read=ok
    assert_probe write 1
    assert_probe xdg_read 0 read=ok 'head=[alias]\x0a\x09wtboxtest = status\x0a'
    assert_probe xdg_write 1
    assert_eq "wtbox test" "$(cat "$O/name")" "git config user.name inside"
    grep -q 'name = wtbox test' "$HOME/.gitconfig" || fail "the host's .gitconfig changed"
    assert_eq "$(printf '[alias]\n\twtboxtest = status')" "$(cat "$XDG_CONFIG_HOME/git/config")" \
        "the host's git/config"
}

test_ro_grant() {
    need_sandbox
    make_repo repo
    mkdir -p "$T/ro/sub"
    echo "read me" >"$T/ro/sub/file.txt"
    echo "single" >"$T/single.txt"
    cd repo
    batch_probe read read "$T/ro/sub/file.txt"
    batch_probe write write "$T/ro/sub/file.txt"
    batch_probe create write "$T/ro/new.txt"
    batch_probe file read "$T/single.txt"
    batch_probe file_write write "$T/single.txt"
    batch_probe mnt mnt "$T/ro/sub/file.txt"
    batch_run 0 --name ro --ro "$T/ro" --ro "$T/single.txt"
    assert_probe read 0 read=ok 'head=read me\x0a'
    assert_probe write 1
    assert_probe create 1
    assert_probe file 0 'head=single\x0a'
    assert_probe file_write 1
    assert_probe mnt 0
    assert_match "$(kv "$O/mnt" opts)" '(^|,)ro(,|$)'
    assert_match "$(kv "$O/mnt" opts)" '(^|,)nosuid(,|$)'
    assert_match "$(kv "$O/mnt" opts)" '(^|,)nodev(,|$)'
    assert_eq "read me" "$(cat "$T/ro/sub/file.txt")" "the --ro file on the host"
    assert_missing "$T/ro/new.txt"
    assert_eq single "$(cat "$T/single.txt")" "the --ro single file on the host"
}

test_rw_grant() {
    need_sandbox
    make_repo repo
    mkdir -p "$T/rw"
    echo "before" >"$T/rw/old.txt"
    cd repo
    local rw
    rw=$(printf %q "$T/rw")
    batch_sh w "cat $rw/old.txt && echo after >$rw/old.txt && mkdir $rw/d && echo new >$rw/d/new.txt"
    batch_probe mnt mnt "$T/rw"
    batch_run 0 --name rw --rw "$T/rw"
    assert_probe w 0 before
    assert_eq after "$(cat "$T/rw/old.txt")" "file changed through --rw"
    assert_eq new "$(cat "$T/rw/d/new.txt")" "file created through --rw"
    assert_match "$(kv "$O/mnt" opts)" '(^|,)rw(,|$)'
    assert_match "$(kv "$O/mnt" opts)" '(^|,)nosuid(,|$)'
    assert_match "$(kv "$O/mnt" opts)" '(^|,)nodev(,|$)'
}

# The rest of the main checkout is not there, but git works.
test_main_checkout_hidden_git_works() {
    need_sandbox
    make_repo repo
    cd repo
    echo "uncommitted" >"$T/repo/local-notes.txt"
    batch_probe readme exists "$T/repo/README.md"
    batch_probe notes read "$T/repo/local-notes.txt"
    batch_probe gitdir exists "$T/repo/.git/HEAD"
    batch_probe objects exists "$T/repo/.git/objects"
    batch_sh log 'git log --format=%s'
    batch_sh status 'git status --porcelain'
    batch_sh common 'cd "$(git rev-parse --git-common-dir)" && pwd -P'
    batch_sh pwd 'pwd -P; echo "$WTBOX_WORKTREE"'
    batch_run 0 --name hide --report "$T/report.json"
    assert_probe readme 1
    assert_probe notes 1
    # Of the shared git directory only the objects are there (read-only,
    # as the alternate of the agent's own git directory).
    assert_probe gitdir 1
    assert_probe objects 0
    assert_eq "third second initial" "$(xargs <"$O/log")" "git log inside"
    assert_probe status 0
    assert_eq "" "$(cat "$O/status")" "git status inside"
    assert_match "$(cat "$O/common")" "^$XDG_STATE_HOME/wtbox/repo-[0-9a-f]{12}/hide/git\$"
    local wt
    wt=$(jget "$T/report.json" .worktree)
    assert_eq "$wt $wt" "$(xargs <"$O/pwd")" "cwd and WTBOX_WORKTREE inside"
}

# The root and the host's system directories are read-only; top-level
# symlinks stay symlinks; binds are nosuid,nodev.
test_root_read_only_system_visible() {
    need_sandbox
    make_repo repo
    cd repo
    local l
    batch_probe root mnt /
    batch_probe usr mnt /usr/bin
    batch_probe sys mnt /sys
    batch_probe wt mnt .
    batch_probe tmp mnt /tmp
    batch_probe home mnt "$HOME"
    batch_probe cache mnt "$HOME/.cache"
    batch_probe gitdir mnt "$(common_dir .)/objects"
    batch_probe env read /usr/bin/env
    for l in bin lib sbin; do
        [[ -L /$l ]] && batch_sh "link_$l" "readlink /$l"
    done
    batch_run 0 --name ro
    assert_match "$(kv "$O/root" opts)" '(^|,)ro(,|$)'
    if [[ $(kv "$O/root" fstype) == tmpfs ]]; then
        assert_match "$(kv "$O/root" superopts)" '(^|,)size='
    fi
    assert_match "$(kv "$O/usr" opts)" '(^|,)ro(,|$)'
    assert_match "$(kv "$O/sys" opts)" '(^|,)ro(,|$)'
    local k
    for k in usr sys wt tmp home cache gitdir; do
        assert_probe "$k" 0
        assert_match "$(kv "$O/$k" opts)" '(^|,)nosuid(,|$)'
        assert_match "$(kv "$O/$k" opts)" '(^|,)nodev(,|$)'
    done
    # The shared objects are read-only: the agent writes into its own store.
    assert_match "$(kv "$O/gitdir" opts)" '(^|,)ro(,|$)'
    for k in wt tmp home cache; do
        assert_match "$(kv "$O/$k" opts)" '(^|,)rw(,|$)'
    done
    assert_probe env 0 read=ok
    for l in bin lib sbin; do
        [[ -L /$l ]] && assert_probe "link_$l" 0 "$(readlink "/$l")"
    done
    return 0
}

# /home, /root, /mnt, /media, /var/tmp: nothing of the host's.
test_host_dirs_hidden() {
    need_sandbox
    make_repo repo
    cd repo
    local d
    for d in /home /root /mnt /media /var/tmp; do
        batch_probe "ls${d//\//_}" ls "$d"
    done
    batch_run 0 --name hd
    for d in /home /root /mnt /media /var/tmp; do
        local f=$O/ls${d//\//_}
        # Absent, or empty but for the paths wtbox binds (this test's
        # $T may live under one of them).
        [[ $(cat "$f.rc") == 1 ]] && continue
        local e
        for e in $(kv "$f" entries | tr , ' '); do
            [[ $T/ == "$d/$e/"* || $HOME/ == "$d/$e/"* ]] ||
                fail "$d/$e of the host is visible inside: $(_lib_show "$f")"
        done
    done
}

test_proc_is_the_sandboxs() {
    need_sandbox
    make_repo repo
    cd repo
    # Some kernels have no /proc/sysrq-trigger or /proc/kcore: what the
    # host does not have is not checked.
    local masked=() f
    for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats \
        /proc/kallsyms; do
        [[ -e $f ]] && masked+=("$f")
    done
    batch_probe pids pids
    batch_probe sys mnt /proc/sys
    # Opened for writing, nothing written: harmless even without a sandbox.
    batch_probe sysw openw /proc/sys/kernel/hostname
    if [[ -e /proc/sysrq-trigger ]]; then
        batch_probe sysrq mnt /proc/sysrq-trigger
        batch_probe sysrqw openw /proc/sysrq-trigger
    fi
    for f in "${masked[@]}"; do
        batch_probe "mask${f//\//_}" read "$f"
    done
    batch_probe proc mnt /proc
    batch_run 0 --name proc
    assert_kv "$O/proc" fstype proc
    [[ $(kv "$O/pids" count) -lt 10 ]] || fail "too many processes visible: $(_lib_show "$O/pids")"
    assert_match "$(kv "$O/pids" pids)" '^1,'
    assert_kv "$O/sys" mountpoint /proc/sys
    assert_match "$(kv "$O/sys" opts)" '(^|,)ro(,|$)'
    assert_probe sysw 1
    if [[ -e /proc/sysrq-trigger ]]; then
        assert_kv "$O/sysrq" mountpoint /proc/sysrq-trigger
        assert_match "$(kv "$O/sysrq" opts)" '(^|,)ro(,|$)'
        assert_probe sysrqw 1
    fi
    # "reads give nothing": an error, or no bytes.
    for f in "${masked[@]}"; do
        f=$O/mask${f//\//_}
        if [[ $(cat "$f.rc") == 0 ]]; then
            assert_kv "$f" bytes 0
        fi
    done
}

test_dev_contents() {
    need_sandbox
    make_repo repo
    cd repo
    batch_probe ls ls /dev
    batch_probe null write /dev/null
    batch_probe zero read /dev/zero
    batch_probe urandom read /dev/urandom
    batch_probe full write /dev/full
    batch_sh ptmx 'readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; readlink /dev/stdout; readlink /dev/stderr'
    batch_probe pts mnt /dev/pts
    batch_probe shm mnt /dev/shm
    local shm=/dev/shm/wtbox-test-$$
    remove_at_exit "$shm"
    batch_probe shmw write "$shm"
    batch_probe dev mnt /dev
    batch_run 0 --name dev
    assert_kv "$O/ls" entries "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero"
    assert_probe null 0 write=ok
    assert_probe zero 0 bytes=1048576+
    assert_probe urandom 0 bytes=1048576+
    assert_probe full 1 write=ENOSPC
    assert_eq "pts/ptmx /proc/self/fd /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2" \
        "$(xargs <"$O/ptmx")" "symlinks in /dev"
    assert_kv "$O/pts" fstype devpts
    assert_kv "$O/shm" fstype tmpfs
    assert_match "$(kv "$O/shm" superopts)" '(^|,)size='
    assert_probe shmw 0
    assert_kv "$O/dev" fstype tmpfs
    assert_match "$(kv "$O/dev" superopts)" '(^|,)size='
}

test_run_is_empty_tmpfs() {
    need_sandbox
    make_repo repo
    cd repo
    batch_probe ls ls /run
    batch_probe mnt mnt /run
    batch_run 0 --name run
    assert_probe ls 0 count=0
    assert_kv "$O/mnt" fstype tmpfs
    assert_kv "$O/mnt" mountpoint /run
    assert_match "$(kv "$O/mnt" superopts)" '(^|,)size='
}

# A grant named through a symlink is visible at the path as given (the
# symlink's target may be visible too).
test_grant_through_symlink() {
    need_sandbox
    make_repo repo
    mkdir "$T/target"
    echo "through the link" >"$T/target/file.txt"
    ln -s "$T/target" "$T/link"
    cd repo
    batch_probe read read "$T/link/file.txt"
    batch_run 0 --name sl --ro "$T/link"
    assert_probe read 0 read=ok 'head=through the link\x0a'
}

# A grant written with a trailing slash, "/." or doubled slashes names
# the directory itself: no link to make, the run works, the directory is
# visible (a link of the path as written was made, and failed the run
# after the agent was created).
test_grant_with_trailing_slash() {
    need_sandbox
    make_repo repo
    mkdir "$T/share"
    echo "shared" >"$T/share/file.txt"
    cd repo
    batch_probe a read "$T/share/file.txt"
    batch_run 0 --name ts --ro "$T/share/" --rw "$T//share/./"
    assert_probe a 0 read=ok 'head=shared\x0a'
    expect_exit 0 wtbox run --dry-run --name ts2 --ro "$T/share/" -- true
    assert_not_contains "$OUT" "symlink   $T/share"
    assert_contains "$OUT" "bind-ro   $T/share"
    expect_exit 0 wtbox run --name ts3 --ro "$T/./share/" -- cat "$T/share/file.txt"
    assert_contains "$OUT" "shared"
}

# A home directory reached through a symlink: inside, HOME is still the
# host's $HOME path, and it is the agent's home.
test_home_through_symlink() {
    need_sandbox
    make_repo repo
    mv "$HOME" "$T/real-home"
    ln -s "$T/real-home" "$HOME"
    cd repo
    batch_sh home 'echo "$HOME"; echo "$XDG_CACHE_HOME"; echo mine >"$HOME/agent-file" && echo wrote'
    batch_sh name 'git config user.name'
    batch_run 0 --name hl
    assert_probe home 0 "$HOME" "$HOME/.cache" wrote
    assert_eq "wtbox test" "$(cat "$O/name")" "git config user.name inside (from \$HOME/.gitconfig)"
    assert_missing "$T/real-home/agent-file"
}
