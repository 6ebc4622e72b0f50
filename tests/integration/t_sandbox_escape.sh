# t_sandbox_escape.sh: what a command inside the sandbox must not be able to
# do. Each attempt is made with the probe from inside a real sandbox; the
# host side then checks that nothing happened. Where the host itself can show
# that the attempt would work without the sandbox, the test does that first,
# so that it cannot pass for the wrong reason.
#
# The root pass runs these as root: every attempt is chosen so that, should
# wtbox one day run the command without a sandbox, it fails the test without
# harming the host (unique new files that are removed at exit, mounts on a
# directory of the test's own, no kill(-1) outside a new pid namespace).

# A name for a file that must never appear on the host.
evil_name() { printf 'wtbox-escape-%d-%05d' "$$" "$RANDOM"; }

# Host paths an attempt may have created are removed when the test ends.
evil_path() { # PATH
    remove_at_exit "$1"
    printf '%s\n' "$1"
}

test_write_system_dirs_fails() {
    need_sandbox
    make_repo repo
    cd repo
    local e d opt
    e=$(evil_name)
    for opt in "" --root; do
        for d in /etc /usr /usr/lib /var /opt /; do
            batch_probe "write${d//\//_}" write "$(evil_path "${d%/}/$e")"
            batch_probe "mkdir${d//\//_}" mkdir "$(evil_path "${d%/}/$e.d")"
        done
        # shellcheck disable=SC2086 # no option is no word
        batch_run 0 --name sys $opt
        for d in /etc /usr /usr/lib /var /opt /; do
            assert_probe "write${d//\//_}" 1
            assert_probe "mkdir${d//\//_}" 1
            assert_missing "${d%/}/$e"
            assert_missing "${d%/}/$e.d"
        done
    done
    # Read-only does not mean hidden.
    batch_probe passwd read /etc/passwd
    batch_run 0 --name sys
    assert_probe passwd 0 read=ok
}

# The main checkout (everything but its .git) is not there at all.
test_main_checkout_not_writable_nor_visible() {
    need_sandbox
    make_repo repo
    cd repo
    local e
    e=$(evil_name)
    batch_probe root_file write "$T/repo/$e.txt"
    batch_probe src_file write "$T/repo/src/$e.c"
    batch_probe readme read "$T/repo/README.md"
    batch_probe src exists "$T/repo/src/main.c"
    batch_run 0 --name mc
    # Worst first: nothing reached the main checkout.
    assert_missing "$T/repo/$e.txt"
    assert_missing "$T/repo/src/$e.c"
    assert_eq "" "$(git status --porcelain)" "status of the main checkout"
    assert_contains "$ERR" "wtbox: agent 'mc' changed nothing; removed"
    assert_probe readme 1
    assert_probe src 1
    # And the attempt itself failed (it did not land somewhere else).
    assert_probe root_file 1
    assert_probe src_file 1
}

# Agent B cannot write into (nor read, nor see) agent A's kept worktree.
test_other_agents_worktree_not_reachable() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name a --report "$T/a.json" -- sh -c 'echo secret-of-a >notes.txt'
    assert_report '.action == "kept"' "$T/a.json"
    local wta e
    wta=$(jget "$T/a.json" .worktree)
    e=$(evil_name)
    batch_probe write write "$wta/$e.txt"
    batch_probe overwrite write "$wta/notes.txt"
    batch_probe tracked write "$wta/README.md"
    batch_probe read read "$wta/notes.txt"
    batch_probe exists exists "$wta"
    batch_run 0 --name b
    assert_probe write 1
    assert_probe overwrite 1
    assert_probe tracked 1
    assert_probe read 1
    assert_probe exists 1
    assert_missing "$wta/$e.txt"
    assert_eq "secret-of-a" "$(cat "$wta/notes.txt")" "a's notes.txt"
    assert_eq "?? notes.txt" "$(git -C "$wta" status --porcelain)" "status of a's worktree"
}

# Secrets in the host's home cannot be read; what is written to "the home"
# inside lands in the agent's own home, never in the host's.
test_host_home_not_readable_nor_writable() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$HOME/.ssh" "$HOME/.aws"
    printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n' >"$HOME/.ssh/id_ed25519"
    printf '[default]\naws_secret_access_key = not-a-real-secret\n' >"$HOME/.aws/credentials"
    chmod 0600 "$HOME/.ssh/id_ed25519" "$HOME/.aws/credentials"
    echo "host notes" >"$HOME/notes.txt"

    local e real
    e=$(evil_name)
    batch_probe ssh read "$HOME/.ssh/id_ed25519"
    batch_probe aws read "$HOME/.aws/credentials"
    batch_probe notes read "$HOME/notes.txt"
    batch_probe ssh_dir ls "$HOME/.ssh"
    batch_probe authorized write "$HOME/.ssh/authorized_keys"
    batch_probe bashrc write "$HOME/.bashrc"
    batch_probe overwrite write "$HOME/notes.txt"
    # The user's real home directory (the passwd entry), when it is not $HOME.
    real=$(getent passwd "$(id -u)" | cut -d: -f6)
    if [[ -n $real && $real != "$HOME" && -d $real ]]; then
        batch_probe real_write write "$(evil_path "$real/$e")"
        if [[ -r $real/.bashrc ]]; then
            batch_probe real_read read "$real/.bashrc"
        fi
    fi
    batch_run 0 --name home
    assert_probe ssh 1
    assert_probe aws 1
    assert_probe notes 1
    assert_probe ssh_dir 1
    # The agent has a home of its own: writing there may work, but nothing
    # reaches the host's home.
    assert_missing "$HOME/.ssh/authorized_keys"
    assert_missing "$HOME/.bashrc"
    assert_eq "host notes" "$(cat "$HOME/notes.txt")" "the host's notes.txt"
    assert_eq "$(printf '[default]\naws_secret_access_key = not-a-real-secret')" \
        "$(cat "$HOME/.aws/credentials")" "the host's credentials"
    if [[ -f $O/real_write ]]; then
        assert_missing "$real/$e"
    fi
    if [[ -f $O/real_read ]]; then
        assert_probe real_read 1
    fi
}

# A host process can be neither seen nor signalled, not even by "kill -1".
test_host_process_not_visible_nor_killable() {
    need_sandbox
    make_repo repo
    cd repo
    sleep 60 >/dev/null 2>&1 &
    local pid=$!
    track_pid "$pid"
    batch_probe kill0 kill "$pid"
    batch_probe kill9 kill "$pid" 9
    batch_probe proc exists "/proc/$pid"
    batch_probe me exists "/proc/$$"
    batch_probe pids pids
    batch_run 0 --name hp
    assert_probe kill0 1 kill=ESRCH
    assert_probe kill9 1 kill=ESRCH
    assert_probe proc 1
    assert_probe me 1
    assert_probe pids 0
    assert_not_contains "$(kv "$O/pids" pids | tr , '\n')" "$pid"
    # kill(-1) signals every process the caller may signal, but itself;
    # only ever tried in a pid namespace other than the host's.
    expect_exit 0 wtbox run --name hp -- sh -c '
        [ "$(readlink /proc/self/ns/pid)" != "$1" ] || { echo "in the host pid namespace"; exit 0; }
        kill -KILL -1; echo survived' sh "$(readlink /proc/self/ns/pid)"
    assert_eq survived "$(cat "$OUT")" "output of the command that ran kill -KILL -1"
    pid_alive "$pid" || fail "the host's sleep ($pid) was killed from inside the sandbox"
}

# Init (pid 1) holds capabilities the command lacks: the command can
# neither trace it nor open its memory, so nothing inside can act through
# it (a run's verdict relies on init's report that every other process is
# gone). A child of the command's own can be traced: ptrace itself is
# allowed, so the refusal is not the policy's.
test_init_not_traceable() {
    need_sandbox
    make_repo repo
    cd repo
    batch_probe init ptrace 1
    batch_probe mem read /proc/1/mem
    batch_probe own ptrace child
    batch_run 0 --name it
    assert_probe init 1 ptrace=EPERM
    assert_probe mem 1 read=EACCES
    assert_probe own 0 ptrace=ok
}

# Files in the host's /tmp and $TMPDIR are not there.
test_host_tmp_not_visible() {
    need_sandbox
    make_repo repo
    cd repo
    local planted
    planted=$(evil_path "/tmp/$(evil_name)")
    echo "host tmp" >"$planted"
    echo "host tmpdir" >"$TMPDIR/planted.txt"
    batch_probe tmp read "$planted"
    batch_probe tmpdir read "$TMPDIR/planted.txt"
    batch_probe ls ls /tmp
    batch_probe write write "$planted"
    batch_run 0 --name tmp
    assert_probe tmp 1
    assert_probe tmpdir 1
    assert_probe ls 0
    assert_not_contains "$(kv "$O/ls" entries | tr , '\n')" "${planted#/tmp/}"
    assert_eq "host tmp" "$(cat "$planted")" "the host's planted file"
}

# A setuid-root binary gives no privilege: not its euid, not capabilities.
test_setuid_binary_gains_nothing() {
    need_sandbox
    local bin=
    for bin in /usr/bin/su /bin/su /usr/bin/passwd /usr/bin/chsh; do
        [[ -u $bin && $(stat -c %u "$bin") == 0 ]] && break
        bin=
    done
    [[ -n $bin ]] || skip "no setuid-root binary (su, passwd, chsh) on this host"
    # On the host the probe sees the privilege (euid 0 or capabilities);
    # where even the host gives none (no_new_privs, nosuid), nothing can be
    # shown.
    "$PROBE" suid "$bin" >"$T/host.suid" 2>&1 </dev/null ||
        skip "$bin gives no privilege on this host either: $(xargs <"$T/host.suid")"
    assert_kv "$T/host.suid" gained 1
    make_repo repo
    cd repo
    batch_probe suid suid "$bin"
    batch_run 0 --name su
    assert_probe suid 1 suid_bit=1 execed=1 gained=0 suid_capeff=0000000000000000
    assert_kv "$O/suid" suid_euid "$(kv "$O/suid" self_euid)"
    batch_probe suid suid "$bin"
    batch_run 0 --name su --root
    assert_probe suid 1 execed=1 gained=0 suid_euid=0 suid_capeff=0000000000000000
}

# Nothing can be mounted or unmounted, and a nested user namespace (where
# the command does get capabilities) cannot unlock the read-only host.
test_mount_fails() {
    need_sandbox
    make_repo repo
    cd repo
    local opt
    # The targets are directories of the test's own: mount(2) and umount(2)
    # check the capability first (EPERM), before they look at the target.
    mkdir -p "$O/target"
    for opt in "" --root; do
        batch_probe mount mount "$O/target"
        batch_probe umount umount "$O"
        batch_probe nested_usr nested /usr
        batch_probe nested_etc nested /etc
        batch_probe nested_root nested /
        # shellcheck disable=SC2086 # no option is no word
        batch_run 0 --name mnt $opt
        assert_probe mount 1 mount_tmpfs=EPERM mount_bind=EPERM mount_proc=EPERM remount_rw=EPERM
        assert_probe umount 1 umount=EPERM
        assert_probe nested_usr 1
        assert_probe nested_etc 1
        assert_probe nested_root 1
    done
}

# TIOCSTI from inside reaches only the sandbox's own terminal: the outer
# shell, which reads its terminal right after wtbox returns, gets nothing.
test_tiocsti_does_not_reach_outer_terminal() {
    need_sandbox
    need_tmux
    # With dev.tty.legacy_tiocsti = 0, only CAP_SYS_ADMIN may inject.
    local legacy=1
    [[ -r /proc/sys/dev/tty/legacy_tiocsti ]] && legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti)
    make_repo repo
    mkdir -p "$O"
    cat >"$T/pane.sh" <<'EOF'
cd "$T/repo"
"$PROBE" -o "$O/outer_fds" fds
# Control: without wtbox, the injection reaches this terminal.
"$PROBE" -o "$O/control" tiocsti 0 "echo CONTROL
"
IFS= read -r -t 5 line || line=
printf '%s\n' "$line" >"$O/control.read"
# --policy=none: the terminal must be safe without the seccomp filter,
# which refuses TIOCSTI on its own (t_seccomp_probe).
"$WTBOX" run --policy=none --name sti --ro "$WTBOX_HELPERS" --rw "$O" -- sh -c '
    "$1" -o "$2/fds" fds
    "$1" -o "$2/sti0" tiocsti 0
    "$1" -o "$2/stitty" tiocsti /dev/tty' sh "$PROBE" "$O"
echo $? >"$O/wtbox.rc"
# Whatever reached this terminal's input, the outer shell would run.
IFS= read -r -t 1 line || line=
printf '%s\n' "$line" >"$O/outer.read"
EOF
    export PROBE O
    tmux_start "$T/pane.sh"
    wait_for_file "$O/outer.read" 30
    [[ $(cat "$O/control.read") == "echo CONTROL" ]] ||
        skip "TIOCSTI does not inject here (dev.tty.legacy_tiocsti = $legacy): $(xargs <"$O/control")"
    assert_eq "" "$(cat "$O/outer.read")" "what the outer shell read after wtbox returned"
    assert_eq 0 "$(cat "$O/wtbox.rc")" "exit status of wtbox"
    # The command's terminal is a new one, not the outer terminal, and
    # injecting into it works.
    local outer fd
    outer=$(kv "$O/outer_fds" fd0_tty_id)
    [[ -n $outer ]] || fail "setup: the pane has no terminal: $(_lib_show "$O/outer_fds")"
    for fd in 0 1 2; do
        [[ -n $(kv "$O/fds" "fd${fd}_tty_id") ]] || fail "fd $fd inside is not a terminal: $(_lib_show "$O/fds")"
        assert_ne "$outer" "$(kv "$O/fds" "fd${fd}_tty_id")" "terminal of fd $fd inside"
    done
    assert_ne "$outer" "$(kv "$O/stitty" tty_id)" "terminal /dev/tty inside"
    if [[ $legacy != 0 ]]; then
        assert_kv "$O/sti0" tiocsti ok
    fi
}

# A descriptor the caller leaves open (here, a directory outside everything
# the sandbox shows) does not reach the command.
test_inherited_fd_not_usable() {
    need_sandbox
    make_repo repo
    mkdir "$T/private"
    echo "private data" >"$T/private/secret.txt"
    cd repo
    batch_probe fds fds
    batch_probe openat openat 7 secret.txt
    batch_run 0 --name fd 7<"$T/private"
    assert_probe openat 1
    assert_probe fds 0
    assert_eq "0,1,2" "$(kv "$O/fds" fds)" "open fds of the command"
}

# Services on the host's loopback and abstract unix sockets are not
# reachable from the private network namespace.
test_host_loopback_services_not_reachable() {
    need_sandbox
    make_repo repo
    cd repo
    "$PROBE" serve tcp "$T/tcp.addr" 30 >"$T/tcp.log" 2>&1 </dev/null &
    track_pid $!
    "$PROBE" serve unix "$T/unix.addr" 30 >"$T/unix.log" 2>&1 </dev/null &
    track_pid $!
    wait_for_file "$T/tcp.addr"
    wait_for_file "$T/unix.addr"
    local port name
    port=$(cat "$T/tcp.addr")
    name=$(cat "$T/unix.addr")
    # From the host, both answer.
    expect_exit 0 "$PROBE" connect tcp 127.0.0.1 "$port"
    assert_kv "$OUT" data hello
    expect_exit 0 "$PROBE" connect unix "$name"
    assert_kv "$OUT" data hello
    batch_probe tcp connect tcp 127.0.0.1 "$port"
    batch_probe unix connect unix "$name"
    batch_run 0 --name net
    assert_probe tcp 1 connect=ECONNREFUSED
    assert_probe unix 1
    assert_eq 1 "$(grep -c '^conn=' "$T/tcp.log")" "connections the tcp server accepted"
    assert_eq 1 "$(grep -c '^conn=' "$T/unix.log")" "connections the unix server accepted"
}
