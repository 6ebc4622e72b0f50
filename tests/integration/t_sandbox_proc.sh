# t_sandbox_proc.sh: the command's life in the sandbox: exit statuses,
# signals, what happens to the processes it leaves, --timeout, --dry-run.

test_exit_statuses() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name st -- true
    expect_exit 1 wtbox run --name st -- false
    expect_exit 42 wtbox run --name st --report "$T/report.json" -- sh -c 'exit 42'
    assert_report '.exit_status == 42'
    # A tracked file of the worktree, not executable.
    expect_exit 126 wtbox run --name st -- ./README.md
    assert_contains "$ERR" "README.md"
    expect_exit 127 wtbox run --name st -- no-such-command-wtbox
    assert_contains "$ERR" "cannot run 'no-such-command-wtbox': No such file or directory"
    expect_exit 137 wtbox run --name st --report "$T/report.json" -- sh -c 'kill -KILL $$'
    assert_report '.exit_status == 137'
    assert_nothing_left . st
}

# sig_forwarded SIGNAL STATUS: SIGNAL sent to wtbox reaches the command,
# which traps it, leaves a marker in its worktree and exits with STATUS.
sig_forwarded() {
    local sig=$1 status=$2 name=sig-${1,,}
    mkdir -p "$O"
    "$WTBOX" run --name "$name" --rw "$O" --report "$T/report.json" -- sh -c '
        trap "echo $1 >got-signal; exit $2" "$1"
        touch "$3/started.$1"
        i=0
        while [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
        exit 99' sh "$sig" "$status" "$O" >"$OUT" 2>"$ERR" </dev/null &
    local pid=$!
    track_pid "$pid"
    # Only once the trap is set: run.sh starts tests with SIGINT and SIGQUIT
    # ignored, so one that came before wtbox's handlers would be lost.
    wait_for_file "$O/started.$sig"
    kill -s "$sig" "$pid"
    wait_exit "$pid" 10
    assert_eq "$status" "$RC" "exit status of wtbox after SIG$sig (stderr: $(cat "$ERR"))"
    assert_report ".exit_status == $status and .action == \"kept\" and .untracked == [\"got-signal\"]"
    assert_eq "$sig" "$(cat "$(jget "$T/report.json" .worktree)/got-signal")" "marker left by the trap"
}

test_sigterm_forwarded() {
    need_sandbox
    make_repo repo
    cd repo
    sig_forwarded TERM 71
}

test_sigusr1_forwarded() {
    need_sandbox
    make_repo repo
    cd repo
    sig_forwarded USR1 72
}

test_sighup_forwarded() {
    need_sandbox
    make_repo repo
    cd repo
    sig_forwarded HUP 73
}

test_sigint_sigquit_sigusr2_forwarded() {
    need_sandbox
    make_repo repo
    cd repo
    sig_forwarded INT 74
    sig_forwarded QUIT 75
    sig_forwarded USR2 76
}

# A process the command leaves behind is killed when the command exits; it
# does not keep the worktree.
test_background_process_killed_at_exit() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    local m
    m=$(new_marker)
    # The command leaves once its child runs `sleep MARKER`. The forked
    # shell's command line also holds MARKER, and reads empty for a moment
    # during its exec: only the whole `sleep MARKER` counts as started.
    cat >"$T/bg.sh" <<'EOF'
sleep "$1" </dev/null >/dev/null 2>&1 &
s=$! i=0
running() { [ "$(tr '\0' ' ' <"/proc/$s/cmdline" 2>/dev/null)" = "sleep $1 " ]; }
until running "$1" || [ $i -ge 200 ]; do sleep 0.05; i=$((i + 1)); done
running "$1" && touch "$2/bg-started"
EOF
    expect_exit 0 wtbox run --name bg --ro "$T/bg.sh" --rw "$O" --report "$T/report.json" -- \
        sh "$T/bg.sh" "$m" "$O"
    assert_file "$O/bg-started"
    wait_marker_gone "$m" 2
    assert_report '.processes_left == 0 and .action == "removed" and .changed == false'
    assert_nothing_left . bg
    # Also one that detaches itself (new session, ignores SIGHUP and SIGTERM).
    rm "$O/bg-started"
    cat >"$T/bg2.sh" <<'EOF'
running() { # a process whose command line is exactly `sleep $1`
    for f in /proc/[0-9]*/cmdline; do
        [ "$(tr '\0' ' ' <"$f" 2>/dev/null)" = "sleep $1 " ] && return 0
    done
    return 1
}
setsid sh -c 'trap "" HUP TERM; exec sleep "$0"' "$1" </dev/null >/dev/null 2>&1 &
i=0
until running "$1" || [ $i -ge 200 ]; do sleep 0.05; i=$((i + 1)); done
running "$1" && touch "$2/bg-started"
EOF
    expect_exit 0 wtbox run --name bg --ro "$T/bg2.sh" --rw "$O" -- sh "$T/bg2.sh" "$m" "$O"
    assert_file "$O/bg-started"
    wait_marker_gone "$m" 2
}

# SIGKILL of wtbox itself: every process of the sandbox is gone soon after.
test_supervisor_sigkill_kills_sandbox() {
    need_sandbox
    make_repo repo
    cd repo
    local m n i
    m=$(new_marker)
    # wtbox gets only the digits: `sleep 1000.<digits>` exists only inside.
    n=${m#1000.}
    "$WTBOX" run --name sk -- sh -c 'sleep "1000.$1" & sleep "1000.$1"' sh "$n" \
        >"$OUT" 2>"$ERR" </dev/null &
    local pid=$!
    track_pid "$pid"
    for ((i = 0; i < 200; i++)); do
        [[ $(marker_pids "$m" | wc -l) -ge 2 ]] && break
        sleep 0.05
    done
    [[ $(marker_pids "$m" | wc -l) -ge 2 ]] || fail "the two sleeps did not start: $(cat "$ERR")"
    kill -KILL "$pid"
    wait_exit "$pid" 5
    assert_eq 137 "$RC" "exit status of the killed wtbox"
    wait_marker_gone "$m" 2
    # Nor anything else that carries wtbox's arguments (its init, the sh).
    wait_marker_gone "$n" 2
}

test_timeout() {
    need_sandbox
    make_repo repo
    cd repo
    "$WTBOX" run --name to --timeout 1 --report "$T/report.json" -- sleep 100 >"$OUT" 2>"$ERR" </dev/null &
    wait_exit $! 30
    assert_eq 124 "$RC" "exit status with --timeout 1 (stderr: $(cat "$ERR"))"
    assert_report '.exit_status == 124 and .action == "removed"'
    assert_nothing_left . to
}

# A command that ignores SIGTERM is killed 5 s later.
test_timeout_kills_what_ignores_sigterm() {
    need_sandbox
    make_repo repo
    cd repo
    local m
    m=$(new_marker)
    "$WTBOX" run --name to --timeout 1 -- sh -c 'trap "" TERM; exec sleep "$1"' sh "$m" \
        >"$OUT" 2>"$ERR" </dev/null &
    wait_exit $! 30
    assert_eq 124 "$RC" "exit status with --timeout 1 (stderr: $(cat "$ERR"))"
    wait_marker_gone "$m" 2
}

# --dry-run prints the plan and creates nothing at all.
test_dry_run() {
    need_sandbox
    make_repo repo
    mkdir "$T/grant"
    cd repo
    local head
    head=$(git rev-parse HEAD)
    FOO=foo-value expect_exit 0 wtbox run --dry-run --name dry --ro "$T/grant" --env FOO --env BAR=baz -- \
        sh -c 'touch "$1/ran"' sh "$T"
    assert_missing "$T/ran"
    # The plan names what it would do.
    assert_contains "$OUT" "$XDG_DATA_HOME/wtbox/"
    assert_contains "$OUT" "/dry"
    assert_contains "$OUT" "$T/grant"
    assert_contains "$OUT" "/tmp"
    assert_contains "$OUT" "/proc"
    assert_contains "$OUT" "FOO"
    assert_contains "$OUT" "BAR"
    assert_contains "$OUT" "WTBOX_NAME"
    assert_contains "$OUT" "touch"
    assert_match "$OUT" '[Nn][Ee][Tt]'
    assert_match "$OUT" '[Pp][Ii][Dd]'
    assert_match "$OUT" '[Uu]ser|USER'
    # Nothing was made: no branch, worktree, record or directory.
    assert_no_agents .
    assert_eq "" "$(git branch --list 'wtbox/*')" "wtbox branches"
    assert_eq "$head" "$(git rev-parse HEAD)" "HEAD"
    assert_missing "$XDG_DATA_HOME/wtbox"
    assert_missing "$XDG_STATE_HOME/wtbox"
    assert_missing "$(common_dir .)/worktrees"
}

# ------------------------------------------------------------ terminals

# Under a terminal, the command gets one (its own), with the outer size.
test_tty_under_script() {
    need_sandbox
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    make_repo repo
    mkdir -p "$O"
    cat >"$T/tty.sh" <<'EOF'
cd "$T/repo" || exit 99
stty rows 40 cols 100
"$PROBE" -o "$O/outer" tty
"$WTBOX" run --name tty --ro "$WTBOX_HELPERS" --rw "$O" -- sh -c '
    stty size >"$2/size"
    "$1" -o "$2/tty" tty' sh "$PROBE" "$O"
EOF
    local rc=0
    PROBE=$PROBE O=$O timeout 30 script -qec "bash $(printf %q "$T/tty.sh")" /dev/null >"$OUT" 2>"$ERR" </dev/null ||
        rc=$?
    assert_eq 0 "$rc" "exit status of wtbox under script ($(cat "$OUT" "$ERR"))"
    assert_eq "40 100" "$(cat "$O/size")" "stty size inside"
    assert_kv "$O/tty" isatty0 1
    assert_kv "$O/tty" isatty1 1
    assert_kv "$O/tty" isatty2 1
    # A new terminal, not the outer one, and the command's controlling one.
    [[ -n $(kv "$O/outer" tty0_id) ]] || fail "setup: script gave no terminal: $(_lib_show "$O/outer")"
    assert_ne "$(kv "$O/outer" tty0_id)" "$(kv "$O/tty" tty0_id)" "terminal inside"
    assert_kv "$O/tty" ctty 1
    assert_kv "$O/tty" foreground 1
    assert_kv "$O/tty" rows 40
    assert_kv "$O/tty" cols 100
}

# A resize of the outer terminal reaches the command (SIGWINCH, new size).
test_tty_resize_under_tmux() {
    need_sandbox
    need_tmux
    make_repo repo
    mkdir -p "$O"
    cat >"$T/pane.sh" <<'EOF'
cd "$T/repo" || exit 99
"$WTBOX" run --name win --ro "$WTBOX_HELPERS" --rw "$O" -- "$PROBE" -o "$O/winch" winch 20
echo $? >"$O/wtbox.rc"
EOF
    export PROBE O
    tmux_start "$T/pane.sh"
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q '^ready=1$' "$O/winch" 2>/dev/null && break
        sleep 0.05
    done
    grep -q '^ready=1$' "$O/winch" 2>/dev/null || fail "the probe did not start: $(cat "$O/winch" 2>&1)"
    tmux -S "$TMUX_SOCK" resize-window -t t -x 120 -y 50
    wait_for_file "$O/wtbox.rc" 30
    assert_kv "$O/winch" size 40x100
    assert_kv "$O/winch" winch 50x120
    assert_eq 0 "$(cat "$O/wtbox.rc")" "exit status of wtbox"
}

# Without a terminal the command gets the caller's pipes and files as they are.
test_no_tty_stdio_as_is() {
    need_sandbox
    make_repo repo
    cd repo
    local rc=0
    echo "through the pipe" | "$WTBOX" run --name pipe "${PROBE_RO[@]}" -- sh -c \
        'cat; "$1" tty; echo to-stderr >&2' sh "$PROBE" >"$OUT" 2>"$ERR" || rc=$?
    assert_eq 0 "$rc" "exit status ($(cat "$ERR"))"
    assert_contains "$OUT" "through the pipe"
    assert_kv "$OUT" isatty0 0
    assert_kv "$OUT" isatty1 0
    assert_kv "$OUT" isatty2 0
    assert_contains "$ERR" to-stderr
}
