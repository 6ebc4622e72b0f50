# t_exec.sh: wtbox exec and wtbox shell run commands inside a running
# agent's sandbox: its files, processes, host name and network; no
# privileges; the command's exit status.

# The agent's files (worktree and /tmp), processes (its sleep, through the
# sandbox's /proc), host name, cwd and environment.
test_exec_sees_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local marker wt
    marker=$(new_marker)
    start_agent seer --env MARK=from-run -- sh -c \
        'echo in-worktree >agent-file; echo in-tmp >/tmp/agent-tmp; exec sleep "$1"' sh "$marker"
    wt=$(agent_worktrees seer)
    wait_for_file "$wt/agent-file"
    expect_exit 0 wtbox exec seer -- sh -c '
        cat agent-file /tmp/agent-tmp
        echo "host=$(hostname)"
        echo "pwd=$(pwd -P)"
        echo "env=$WTBOX_NAME $MARK"
        for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f"; echo; done'
    assert_contains "$OUT" "in-worktree"
    assert_contains "$OUT" "in-tmp"
    assert_contains "$OUT" "host=seer"
    assert_contains "$OUT" "pwd=$wt"
    assert_contains "$OUT" "env=seer from-run"
    assert_contains "$OUT" "sleep $marker"
    # The agent's /tmp is not the host's.
    assert_missing /tmp/agent-tmp
    # What exec writes, the agent sees.
    expect_exit 0 wtbox exec seer -- sh -c 'echo from-exec >exec-file'
    assert_eq "from-exec" "$(cat "$wt/exec-file")" "file written by exec"
}

# The agent's server on its private loopback is reachable from exec.
test_exec_reaches_agent_server() {
    need_sandbox
    need_jq
    [[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 is not installed"
    make_repo repo
    cd repo
    start_agent web -- sh -c 'echo served-by-agent >page.txt; exec /usr/bin/python3 -m http.server 8765 --bind 127.0.0.1'
    expect_exit 0 wtbox exec web -- /usr/bin/python3 -c '
import time, urllib.request
for i in range(200):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:8765/page.txt", timeout=2).read().decode())
        break
    except OSError:
        time.sleep(0.05)
'
    assert_contains "$OUT" "served-by-agent"
}

# No capability, no_new_privs, the agent's seccomp filter.
test_exec_has_no_privileges() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    start_agent priv -- sleep 60
    expect_exit 0 wtbox exec priv -- cat /proc/self/status
    assert_match "$OUT" '^CapEff:[[:space:]]+0000000000000000$'
    assert_match "$OUT" '^CapPrm:[[:space:]]+0000000000000000$'
    assert_match "$OUT" '^CapBnd:[[:space:]]+0000000000000000$'
    assert_match "$OUT" '^CapInh:[[:space:]]+0000000000000000$'
    assert_match "$OUT" '^CapAmb:[[:space:]]+0000000000000000$'
    assert_match "$OUT" '^NoNewPrivs:[[:space:]]+1$'
    assert_match "$OUT" '^Seccomp:[[:space:]]+2$'
    # Same user as the agent's command.
    local inside
    inside=$(wtbox exec priv -- id -u)
    assert_eq "$(id -u)" "$inside" "uid inside"
}

# A policy file named by a relative path: exec, started from another
# directory of the repository, applies the same one (the record holds its
# absolute path).
test_exec_with_relative_policy_path() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >my-policy.json
    start_agent rel --policy ./my-policy.json --ro "$WTBOX_HELPERS" -- sleep 60
    assert_eq "$(realpath my-policy.json)" "$(jq -r .policy "$AGENT_REC")" "policy in the record"
    mkdir -p sub/dir
    cd sub/dir
    expect_exit 0 wtbox exec rel -- "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
}

# exec gives its commands the filter the run loaded: the policy file
# edited, then removed, while the agent runs changes nothing for them.
test_exec_keeps_the_runs_filter() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >pol.json
    start_agent kept --policy pol.json --ro "$WTBOX_HELPERS" -- sleep 60
    expect_exit 0 wtbox exec kept -- "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
    printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}' >pol.json
    expect_exit 0 wtbox exec kept -- "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
    rm pol.json
    expect_exit 0 wtbox exec kept -- "$WTBOX_HELPERS/sysprobe" keyctl
    assert_contains "$OUT" keyctl=EACCES
    # What the run saved, damaged: exec refuses, and says what.
    local saved
    saved=$(dirname "$AGENT_REC")/filter
    [[ -f $saved ]] || fail "no saved filter at $saved"
    printf 'x' | dd of="$saved" bs=1 seek=100 conv=notrunc status=none
    expect_exit 125 wtbox exec kept -- true
    assert_wtbox_error "cannot enter agent 'kept': cannot load the seccomp filter of agent 'kept': '$saved' is not a seccomp filter saved by wtbox"
}

test_exec_exit_status() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    start_agent codes -- sleep 60
    expect_exit 0 wtbox exec codes -- true
    expect_exit 3 wtbox exec codes -- sh -c 'exit 3'
    expect_exit 127 wtbox exec codes -- no-such-command-here
    assert_wtbox_error "cannot run 'no-such-command-here': No such file or directory"
    expect_exit 126 wtbox exec codes -- ./README.md
    assert_contains "$ERR" "cannot run './README.md'"
    expect_exit 143 wtbox exec codes -- sh -c 'kill -TERM $$'
    # Without "--" the command starts at the first non-option.
    expect_exit 0 wtbox exec codes true
}

test_exec_not_running() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -n stopped -k -- true
    expect_exit 125 wtbox exec stopped -- true
    assert_wtbox_error "agent 'stopped' is not running"
    expect_exit 125 wtbox shell stopped
    assert_wtbox_error "agent 'stopped' is not running"
    expect_exit 125 wtbox exec nope -- true
    assert_wtbox_error "no agent 'nope' in repository"
    expect_exit 125 wtbox exec ../bad -- true
    assert_wtbox_error "invalid agent name '../bad'"
    expect_exit 125 wtbox exec stopped
    assert_contains "$ERR" "no command given"
    # A killed supervisor: its sandbox is gone, and so is the agent.
    start_agent killed -- sleep 60
    kill_supervisor
    expect_exit 125 wtbox exec killed -- true
    assert_wtbox_error "agent 'killed' is not running"
}

# What exec needs to enter a sandbox (its environment, which holds what
# --env passed, and its filter) is there while the agent runs and gone
# when the run ends, or, for a run whose wtbox was killed, after gc.
test_run_files_gone_when_run_ends() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local m state token
    m=$(new_marker)
    token=s3cret-$m
    start_agent tok --env "TOKEN=$token" -- sleep "$m"
    state=$(agent_records tok)
    assert_file "$state/env"
    assert_file "$state/filter"
    grep -qa "TOKEN=$token" "$state/env" || fail "the run's environment lacks TOKEN"
    expect_exit 0 wtbox exec tok -- sh -c 'echo "$TOKEN"'
    assert_eq "$token" "$(cat "$OUT")" "TOKEN seen by exec"
    expect_exit 0 wtbox stop tok
    wait_exit "$AGENT_PID" 20
    assert_missing "$state/env"
    assert_missing "$state/filter"
    # Killed with its wtbox: the files stay until gc.
    m=$(new_marker)
    start_agent tok --env "TOKEN=$token" -- sleep "$m"
    kill_supervisor "$m"
    assert_file "$state/env"
    expect_exit 0 wtbox gc
    assert_contains "$OUT" "gc: orphan 'tok'"
    assert_missing "$state/env"
    assert_missing "$state/filter"
    # Killed again, then removed: the state goes to the trash, the token
    # does not.
    m=$(new_marker)
    start_agent tok --env "TOKEN=$token" -- sleep "$m"
    kill_supervisor "$m"
    expect_exit 0 wtbox rm --force tok
    assert_missing "$state"
    [[ -n $(trash_entries) ]] || fail "rm left nothing in the trash"
    if grep -rqa "$token" "$XDG_DATA_HOME/wtbox/trash" "$XDG_STATE_HOME/wtbox" 2>/dev/null; then
        fail "the token is still on disk: $(grep -rla "$token" "$XDG_DATA_HOME/wtbox/trash" "$XDG_STATE_HOME/wtbox")"
    fi
}

# A command started by exec is in the sandbox's pid namespace: it ends
# with the sandbox.
test_exec_dies_with_sandbox() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local marker pid
    marker=$(new_marker)
    start_agent short -- sleep 60
    # It ignores SIGTERM (which wtbox sends to every process of the
    # sandbox): what ends it is init's SIGKILL to all once the agent's
    # command has ended.
    "$WTBOX" exec short -- sh -c 'trap "" TERM; echo started; exec sleep "$1"' sh "$marker" >"$T/exec.out" 2>&1 </dev/null &
    pid=$!
    track_pid "$pid"
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q started "$T/exec.out" && break
        sleep 0.05
    done
    assert_contains "$T/exec.out" started
    kill -TERM "$AGENT_PID"
    wait_exit "$pid" 10
    assert_eq 137 "$RC" "exit status of exec when the sandbox ended ($(cat "$T/exec.out"))"
    wait_marker_gone "$marker" 5
}

# An interactive shell in a terminal: keys typed go to the shell, its output
# comes back, and the sandbox cannot type into the user's terminal.
test_shell_interactive() {
    need_sandbox
    need_jq
    need_tmux
    make_repo repo
    cd repo
    # --policy=none: the terminal must be safe without the seccomp filter.
    start_agent sh1 --policy=none "${PROBE_RO[@]}" -- sleep 60
    mkdir -p "$O"
    cat >"$T/pane.sh" <<'EOF2'
cd "$T/repo"
SHELL=/bin/sh "$WTBOX" shell sh1
echo $? >"$O/shell.rc"
"$WTBOX" exec sh1 -- "$PROBE" tiocsti 0 "echo INJECTED
" >"$O/sti" 2>&1
echo $? >"$O/sti.rc"
IFS= read -r -t 1 line || line=
printf '%s\n' "$line" >"$O/outer.read"
EOF2
    export O PROBE
    tmux_start "$T/pane.sh"
    local i
    for ((i = 0; i < 200; i++)); do
        tmux -S "$TMUX_SOCK" capture-pane -p -t t >"$T/pane" 2>/dev/null || true
        grep -q '\$ *$' "$T/pane" && break
        sleep 0.05
    done
    tmux -S "$TMUX_SOCK" send-keys -t t 'echo "host=$(hostname) sum=$((6 * 7))"; [ -t 0 ] && echo tty-yes' Enter
    for ((i = 0; i < 200; i++)); do
        tmux -S "$TMUX_SOCK" capture-pane -p -t t >"$T/pane" 2>/dev/null || true
        grep -q 'tty-yes' "$T/pane" && grep -q 'host=sh1 sum=42' "$T/pane" && break
        sleep 0.05
    done
    assert_contains "$T/pane" "host=sh1 sum=42"
    assert_contains "$T/pane" "tty-yes"
    tmux -S "$TMUX_SOCK" send-keys -t t 'exit 5' Enter
    wait_for_file "$O/outer.read" 30
    assert_eq 5 "$(cat "$O/shell.rc")" "exit status of wtbox shell"
    # Whatever TIOCSTI did inside reached only the sandbox's own terminal
    # (where it works, when the kernel allows it at all).
    assert_eq "" "$(cat "$O/outer.read")" "what the outer shell read after exec returned"
    local legacy=1
    [[ -r /proc/sys/dev/tty/legacy_tiocsti ]] && legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti)
    if [[ $legacy != 0 ]]; then
        assert_kv "$O/sti" tiocsti ok
    fi
}
