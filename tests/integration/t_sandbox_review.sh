# t_sandbox_review.sh: regressions of the security review of the sandbox
# (H1, H2, H3, M2, L1, L3, L4, L5), one test per finding, named after the bug.
#
# H3 is test_stalled_terminal_does_not_block_timeout: a terminal that stops
# reading used to block the supervisor in its write, away from its timer.

# H1: the worktree's .git file tells the host's git where the git directory
# is. The agent cannot rewrite or remove it (a .git pointing elsewhere could
# hand the host a config with core.fsmonitor); the host's git works after
# the run and the report says the file is intact.
test_worktree_gitfile_is_read_only() {
    need_sandbox
    make_repo repo
    cd repo
    batch_probe write write .git
    batch_sh redirect "printf 'gitdir: /x\\n' >.git"
    batch_sh rm 'rm -f .git'
    batch_sh mv 'echo "gitdir: /x" >fake && mv -f fake .git; rc=$?; rm -f fake; exit $rc'
    batch_sh head 'cat .git'
    batch_sh git 'git rev-parse --absolute-git-dir'
    batch_run 0 --name gf --keep --report "$T/report.json"
    assert_probe write 1 write=EROFS
    local k
    for k in redirect rm mv; do
        [[ $(cat "$O/$k.rc") != 0 ]] || fail "'$k' of .git worked inside: $(_lib_show "$O/$k")"
        assert_match "$O/$k" 'Read-only file system|Device or resource busy'
    done
    local wt admin private
    wt=$(jget "$T/report.json" .worktree)
    admin="$(common_dir .)/worktrees/wtbox-gf"
    private=$(echo "$XDG_STATE_HOME"/wtbox/repo-*/gf/git)
    # On the host it names the worktree's admin directory; inside, after the
    # attempts, it names the agent's own git directory.
    local text
    text=$(cat "$wt/.git")
    [[ $text == "gitdir: "* ]] || fail "the worktree's .git on the host: $(_lib_show "$wt/.git")"
    assert_eq "$admin" "$(realpath -e "${text#gitdir: }")" "directory named by the worktree's .git"
    assert_eq "gitdir: $private" "$(cat "$O/head")" ".git seen inside after the attempts"
    assert_probe git 0 "$private"
    assert_report '.gitfile_changed == false and .action == "kept"'
    local rc=0
    git -C "$wt" status --porcelain >"$T/status" 2>&1 || rc=$?
    assert_eq 0 "$rc" "git status in the worktree on the host ($(cat "$T/status"))"
    assert_eq "" "$(cat "$T/status")" "git status in the worktree on the host"
    assert_eq "$admin" "$(git -C "$wt" rev-parse --absolute-git-dir)" "git dir of the worktree on the host"
    assert_fsck .
}

# H2: the sandbox has a session keyring of its own: the keys of the
# keyring wtbox was started from are not in it. The host side joins a new
# session keyring (only it and its children, wtbox, have it), adds a key,
# checks it can find the key itself, then runs wtbox.
test_own_session_keyring() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    local key=wtbox-review-$$-$RANDOM
    "$PROBE" -o "$T/keyctl" keyring-add "$key-check" true ||
        skip "no keyrings here (CONFIG_KEYS, or a seccomp filter): $(cat "$T/keyctl")"
    cat >"$T/host.sh" <<'EOF'
"$1" -o "$2/host_ses" keyring
"$1" -o "$2/host_find" keyring-find "$3"
shift 3
exec "$@"
EOF
    expect_exit 0 "$PROBE" -o "$O/host_add" keyring-add "$key" \
        sh "$T/host.sh" "$PROBE" "$O" "$key" \
        "$WTBOX" run --policy=none --name kr "${PROBE_RO[@]}" --rw "$O" -- sh -c '
            "$1" -o "$2/ses" keyring
            "$1" -o "$2/find" keyring-find "$3"
            echo $? >"$2/find.rc"' sh "$PROBE" "$O" "$key"
    # The host side: the key is in its session keyring, and found there.
    local host_ses key_id
    host_ses=$(kv "$O/host_add" session)
    key_id=$(kv "$O/host_add" key)
    [[ $host_ses =~ ^[0-9]+$ && $key_id =~ ^[0-9]+$ ]] ||
        fail "setup: no session keyring or key on the host: $(_lib_show "$O/host_add")"
    assert_kv "$O/host_ses" session "$host_ses"
    assert_kv "$O/host_find" search "$key_id"
    # Inside: another session keyring, where the key is not found.
    assert_match "$(kv "$O/ses" session)" '^[0-9]+$'
    assert_ne "$host_ses" "$(kv "$O/ses" session)" "session keyring inside"
    assert_eq 1 "$(cat "$O/find.rc")" "keyring-find inside (report: $(cat "$O/find"))"
    assert_kv "$O/find" search ENOKEY
    assert_kv "$O/find" request ENOKEY
    assert_nothing_left . kr
    # --policy=none above: the keyring must be the sandbox's own without
    # the filter. With the default policy keyrings are not there at all.
    batch_probe ses_default keyring
    batch_run 0 --name kr
    assert_probe ses_default 1 session=EPERM
}

# M2: SIGHUP ignored when wtbox starts (nohup) stays ignored: a hangup of
# the terminal that started it does not stop the command.
test_nohup_keeps_sighup_ignored() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    nohup "$WTBOX" run --name hup --rw "$O" -- sh -c '
        touch "$1/started"
        sleep 1
        echo finished >"$1/marker"' sh "$O" >"$OUT" 2>"$ERR" </dev/null &
    local pid=$!
    track_pid "$pid"
    wait_for_file "$O/started"
    [[ ! -e $O/marker ]] || fail "setup: the command finished before SIGHUP was sent"
    kill -HUP "$pid"
    wait_exit "$pid" 10
    assert_eq 0 "$RC" "exit status of wtbox under nohup after SIGHUP (stderr: $(cat "$ERR"))"
    assert_eq finished "$(cat "$O/marker" 2>/dev/null)" "marker written after the SIGHUP"
    assert_nothing_left . hup
}

# L1: wtbox started with stdin and/or stdout closed. The command gets
# /dev/null for what is closed, its stderr is the caller's, and what it
# writes there arrives.
closed_std() { # in | out | in-out
    local how=$1 rc=0
    local -a cmd=("$WTBOX" run --name cs "${PROBE_RO[@]}" --rw "$O" -- sh -c '
        "$1" -o "$2/fds.$3" fds
        echo "to-stderr-$3" >&2' sh "$PROBE" "$O" "$how")
    case $how in
    in) "${cmd[@]}" 0<&- >"$OUT" 2>"$ERR" || rc=$? ;;
    out) "${cmd[@]}" </dev/null 1>&- 2>"$ERR" || rc=$? ;;
    in-out) "${cmd[@]}" 0<&- 1>&- 2>"$ERR" || rc=$? ;;
    esac
    assert_eq 0 "$rc" "exit status with $how closed (stderr: $(cat "$ERR"))"
    assert_contains "$ERR" "to-stderr-$how"
    local f=$O/fds.$how
    assert_kv "$f" fds 0,1,2
    assert_kv "$f" fd2 "$ERR"
    case $how in
    in) assert_kv "$f" fd0 /dev/null; assert_kv "$f" fd1 "$OUT" ;;
    out) assert_kv "$f" fd0 /dev/null; assert_kv "$f" fd1 /dev/null ;;
    in-out) assert_kv "$f" fd0 /dev/null; assert_kv "$f" fd1 /dev/null ;;
    esac
}

test_closed_stdout_does_not_close_stderr() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    closed_std out
    closed_std in
    closed_std in-out
    assert_nothing_left . cs
}

# L4: a grant of / would lie under the sandbox's own root and do nothing:
# refused, like every bad grant, before anything is made.
test_grant_of_root_is_refused() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    local opt
    for opt in --ro --rw; do
        expect_exit 125 wtbox run --name gr --rw "$O" "$opt" / -- sh -c 'touch "$1/ran"' sh "$O"
        assert_wtbox_error "cannot grant $opt '/': the sandbox has its own '/'"
        assert_missing "$O/ran"
        assert_nothing_left . gr
        assert_no_agents .
        assert_eq "" "$(trash_entries)" "trash"
    done
}

# L5: /dev is read-only: nothing new can be made there (a device name
# another program trusts); /dev/shm and /dev/pts below it still work.
test_dev_is_read_only() {
    need_sandbox
    make_repo repo
    cd repo
    local new=/dev/wtbox-review-$$ shm=/dev/shm/wtbox-review-$$
    # Without a sandbox, as root, these would be made on the host.
    remove_at_exit "$new"
    remove_at_exit "$new.d"
    remove_at_exit "$new.l"
    remove_at_exit "$shm"
    batch_probe file write "$new"
    batch_probe dir mkdir "$new.d"
    batch_sh link "ln -s /tmp $new.l"
    batch_probe dev mnt /dev
    batch_probe shm write "$shm"
    batch_probe null write /dev/null
    batch_probe pts mnt /dev/pts
    batch_probe ptmx exists /dev/pts/ptmx
    batch_run 0 --name dv
    assert_probe file 1 write=EROFS
    assert_probe dir 1 mkdir=EROFS
    [[ $(cat "$O/link.rc") != 0 ]] || fail "a symlink could be made in /dev: $(_lib_show "$O/link")"
    assert_contains "$O/link" "Read-only file system"
    assert_kv "$O/dev" fstype tmpfs
    assert_match "$(kv "$O/dev" opts)" '(^|,)ro(,|$)'
    assert_probe shm 0 write=ok
    assert_probe null 0 write=ok
    assert_probe pts 0 mountpoint=/dev/pts fstype=devpts
    assert_probe ptmx 0 exists=1
}

# L3: a grant given through a symlink in HOME: wtbox makes the link again
# in the agent's home, which the agent can write. A link the agent pointed
# elsewhere is put back at the next run, not followed.
test_agent_changed_symlink_is_restored() {
    need_sandbox
    make_repo repo
    mkdir "$T/real"
    echo ORIGINAL >"$T/real/f"
    ln -s "$T/real" "$HOME/lnk"
    cd repo
    batch_sh r1 'cat "$HOME/lnk/f" && mkdir "$HOME/mine" && echo AGENT >"$HOME/mine/f" &&
        ln -sfn "$HOME/mine" "$HOME/lnk" && readlink "$HOME/lnk" && cat "$HOME/lnk/f"'
    batch_run 0 --name sl --keep --ro "$HOME/lnk"
    # The agent did point its link at its own directory.
    assert_eq "ORIGINAL $HOME/mine AGENT" "$(xargs <"$O/r1")" "first run"
    assert_probe r1 0
    batch_sh r2 'readlink "$HOME/lnk"; cat "$HOME/lnk/f"'
    batch_run 0 --name sl --keep --ro "$HOME/lnk"
    assert_probe r2 0
    assert_eq "$T/real ORIGINAL" "$(xargs <"$O/r2")" "second run"
    # The host's link and file are untouched.
    assert_eq "$T/real" "$(readlink "$HOME/lnk")" "the host's link"
    assert_eq ORIGINAL "$(cat "$T/real/f")" "the granted file on the host"
}

# H3: wtbox's terminal stops taking output (script(1) writes into a pipe that
# nobody reads). The supervisor used to block in its write to the terminal,
# so --timeout never fired and the command ran on. Now output waits in a
# bounded buffer and the timer still stops the sandbox.
test_stalled_terminal_does_not_block_timeout() {
    need_sandbox
    command -v script >/dev/null || skip "script(1) is not installed"
    make_repo repo
    cd repo
    local m
    m=$(new_marker)
    # The marker reaches yes through the environment: only yes has it as
    # an argument, not wtbox (which stays blocked on its final report).
    (script -qfec "\"$WTBOX\" run --name stall --timeout 2 --env M=$m -- sh -c 'exec yes \"\$M\"'" \
        /dev/null | sleep 30) \
        </dev/null >/dev/null 2>&1 &
    track_pid "$!"
    wait_marker_appears "$m" 10
    # 2 s of timeout and 5 s of grace at most, the terminal still stalled.
    wait_marker_gone "$m" 12
}
