# t_detach.sh: wtbox run -d, and what follows a detached agent: ls, logs,
# wait, stop; a killed supervisor; many agents at once.

# rec NAME FILTER: a field of agent NAME's record, as `ls --json` shows it.
rec() {
    need_jq
    "$WTBOX" ls --json 2>/dev/null | jq -r --arg n "$1" ".[] | select(.name == \$n) | $2"
}

# detach NAME [RUN OPTIONS...] -- CMD...: `run -d`, which must return 0;
# its supervisor and sandbox are tracked, so they end with the test.
detach() {
    local name=$1
    shift
    expect_exit 0 wtbox run -d --name "$name" "$@"
    track_pid "$(rec "$name" .pid)"
    track_pid "$(rec "$name" .sandbox_pid)"
}

# Both processes of a stopped or ended agent are gone.
assert_agent_gone() { # NAME SUPERVISOR-PID SANDBOX-PID
    pid_alive "$2" && fail "agent $1: supervisor $2 still alive"
    pid_alive "$3" && fail "agent $1: sandbox $3 still alive"
    return 0
}

test_detach_returns_once_running() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    detach d1 --rw "$O" -- sh -c 'echo to-stdout; echo to-stderr >&2; touch "$1/ran"; exec sleep 300' sh "$O"
    assert_match "$OUT" '^name +d1$'
    assert_match "$OUT" '^branch +wtbox/d1$'
    assert_match "$OUT" "^worktree +$(agent_worktrees d1)\$"
    assert_match "$OUT" '^log +/.*/d1/log$'
    assert_match "$OUT" "^port +http://127.0.0.1:$(rec d1 '.ports[0].host') -> :$(rec d1 '.ports[0].inside')\$"
    [[ ! -s $ERR ]] || fail "run -d wrote to stderr: $(_lib_show "$ERR")"
    # The command was executed before run -d returned.
    wait_for_file "$O/ran"
    assert_eq running "$(rec d1 .status)" "status"
    assert_eq true "$(rec d1 .detached)" "detached"
    assert_eq '["sh","-c"]' "$(rec d1 '.command[0:2]' | jq -c .)" "command"
    local sup sb log
    sup=$(rec d1 .pid)
    sb=$(rec d1 .sandbox_pid)
    log=$(rec d1 .log)
    pid_alive "$sup" || fail "supervisor $sup is not alive"
    pid_alive "$sb" || fail "sandbox $sb is not alive"
    # git's lock names the supervisor, not the caller that has returned.
    assert_contains "$(wt_block . "$(agent_worktrees d1)")" "locked wtbox: in use by agent 'd1' (pid $sup)"
    # A session of its own, no terminal, stdin /dev/null, output to the log.
    assert_eq "$sup" "$(ps -o sid= -p "$sup" | tr -d ' ')" "supervisor's session id"
    assert_eq "?" "$(ps -o tty= -p "$sup" | tr -d ' ')" "supervisor's terminal"
    assert_eq /dev/null "$(readlink "/proc/$sup/fd/0")" "supervisor's stdin"
    assert_eq "$log" "$(readlink "/proc/$sup/fd/1")" "supervisor's stdout"
    assert_eq "$log" "$(readlink "/proc/$sup/fd/2")" "supervisor's stderr"
    assert_eq 600 "$(stat -c %a "$log")" "log mode"
    expect_exit 0 wtbox logs d1
    assert_contains "$OUT" to-stdout
    assert_contains "$OUT" to-stderr
    assert_match "$OUT" '^wtbox: .*run started .*: sh -c '
    expect_exit 0 wtbox stop d1
    assert_eq "agent 'd1' stopped (killed, exit status 143)" "$(cat "$OUT")" "stop's report"
    assert_agent_gone d1 "$sup" "$sb"
    assert_eq killed "$(rec d1 .status)" "status after stop"
    assert_eq 143 "$(rec d1 .exit_status)" "exit status after stop"
    assert_eq 15 "$(rec d1 .signal)" "signal after stop"
    assert_eq true "$(rec d1 .stopped)" "stopped"
    # Kept although nothing changed: ls, logs and wait still know it.
    assert_dir "$(agent_worktrees d1)"
    expect_exit 0 wtbox logs d1
    assert_contains "$OUT" "wtbox: agent 'd1' kept"
    expect_exit 143 wtbox wait d1
}

# The terminal that started it closes: the agent runs on.
test_detach_survives_terminal_hangup() {
    need_sandbox
    command -v script >/dev/null || skip "script(1) is not installed"
    make_repo repo
    cd repo
    # script gives run -d a terminal of its own and closes it on exit,
    # which hangs up every process still attached to it.
    script -qec "$(printf '%q ' "$WTBOX" run -d --name hup -- sleep 300)" /dev/null \
        >"$T/script.out" 2>&1 </dev/null
    track_pid "$(rec hup .pid)"
    track_pid "$(rec hup .sandbox_pid)"
    assert_contains "$T/script.out" "name      hup"
    sleep 0.5
    assert_eq running "$(rec hup .status)" "status after the terminal closed"
    pid_alive "$(rec hup .sandbox_pid)" || fail "the sandbox died with the terminal"
    expect_exit 0 wtbox stop -t 5 hup
}

# ^C while run -d waits for its command to start: the command is not
# started, the caller says so and exits 130, the new agent is removed.
test_detach_interrupted_while_starting() {
    need_sandbox
    make_repo repo
    cd repo
    interrupt_start intr -d
    assert_nothing_left . intr
    [[ ! -s $OUT ]] || fail "run -d printed a summary: $(_lib_show "$OUT")"
}

test_detach_errors_leave_nothing() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 125 wtbox run -d --name p1 --policy no-such-policy -- true
    assert_wtbox_error "cannot find policy 'no-such-policy'"
    [[ ! -s $OUT ]] || fail "stdout after a failed run -d: $(_lib_show "$OUT")"
    expect_exit 125 wtbox run -d --name 'bad/name' -- true
    assert_wtbox_error "invalid agent name 'bad/name'"
    expect_exit 125 wtbox run -d --name ok --timeout 0 -- true
    assert_wtbox_error "invalid --timeout '0'"
    assert_no_agents .
    # Not found: reported as run reports it, with run's status.
    expect_exit 127 wtbox run -d --name nf -- no-such-command-xyz
    assert_match "$ERR" "^wtbox: cannot run 'no-such-command-xyz': No such file or directory\$"
    [[ ! -s $OUT ]] || fail "stdout after a failed run -d: $(_lib_show "$OUT")"
    assert_nothing_left . nf
    assert_no_agents .
}

test_detach_timeout_and_policy() {
    need_sandbox
    make_repo repo
    cd repo
    detach slow --timeout 1 -- sleep 300
    expect_exit 124 wtbox wait slow
    # Ended by the timeout's SIGTERM: killed, with the timeout's status.
    assert_eq "killed 124 15" "$(rec slow .status) $(rec slow .exit_status) $(rec slow .signal)" \
        "status after the timeout"
    expect_exit 0 wtbox logs slow
    assert_contains "$OUT" "timeout of 1 s reached"
    # --log-denials: the denial line lands in the log.
    local sysprobe=$WTBOX_HELPERS/sysprobe
    [[ -x $sysprobe ]] || fail "no sysprobe at '$sysprobe' (make check builds it)"
    detach den "${PROBE_RO[@]}" --log-denials -- "$sysprobe" keyctl
    expect_exit 0 wtbox wait den
    expect_exit 0 wtbox logs den
    assert_match "$OUT" '^wtbox: denied keyctl \(sysprobe, pid [0-9]+\)$'
    assert_contains "$OUT" "keyctl=EPERM"
}

test_wait_statuses() {
    need_sandbox
    make_repo repo
    cd repo
    detach w0 -- sh -c 'sleep 0.3'
    detach w3 -- sh -c 'sleep 0.3; exit 3'
    detach w137 -- sh -c 'sleep 0.3; kill -KILL $$'
    expect_exit 0 wtbox wait w0
    expect_exit 3 wtbox wait w3
    expect_exit 137 wtbox wait w137
    assert_eq "exited 0|killed|exited 3" \
        "$(wtbox ls | awk '$1 ~ /^w/ { s = $2; if ($2 == "exited") s = s " " $3; printf "%s%s", sep, s; sep = "|" }')" \
        "ls statuses"
    # Again, after the end: the status stays.
    expect_exit 3 wtbox wait w3
    expect_exit 125 wtbox wait no-such-agent
    assert_wtbox_error "no agent 'no-such-agent' in repository"
    expect_exit 125 wtbox wait '../w3'
    assert_wtbox_error "invalid agent name '../w3'"
}

test_logs_follow_ends_with_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    detach f1 -- sh -c 'echo first; sleep 1; echo second'
    timeout 60 "$WTBOX" logs -f f1 >"$T/follow.out" 2>"$T/follow.err" || fail "logs -f exited $?: $(cat "$T/follow.err")"
    assert_contains "$T/follow.out" first
    assert_contains "$T/follow.out" second
    # It ended with the supervisor: the final report is in.
    assert_contains "$T/follow.out" "wtbox: agent 'f1' kept"
    assert_eq "exited 0" "$(rec f1 .status) $(rec f1 .exit_status)" "status"
    # A foreground run has no log.
    expect_exit 0 wtbox run --name fg --keep -- true
    expect_exit 125 wtbox logs fg
    assert_wtbox_error "agent 'fg' has no log"
    expect_exit 125 wtbox logs -f nope
    assert_wtbox_error "no agent 'nope'"
}

# SIGTERM reaches every process of the sandbox; one that ignores it is
# killed after the grace period.
# A foreground agent without --keep that changed nothing is removed by its
# run as it ends: stop says so and succeeds; wait says why it has no
# status (both failed on the missing record).
test_stop_and_wait_on_agent_its_run_removes() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local m waiter i p
    m=$(new_marker)
    start_agent_unkept fg -- sleep "$m"
    expect_exit 0 wtbox stop -t 5 fg
    assert_eq "agent 'fg' stopped; it changed nothing and its run removed it" "$(cat "$OUT")" "stop's output"
    wait_exit "$AGENT_PID" 20
    assert_eq 143 "$RC" "the run's status"
    assert_nothing_left . fg
    m=$(new_marker)
    start_agent_unkept fg2 -- sleep "$m"
    "$WTBOX" wait fg2 >"$T/wait.out" 2>"$T/wait.err" </dev/null &
    waiter=$!
    track_pid "$waiter"
    # Until wait waits on the supervisor (a pidfd of it open).
    for ((i = 0; i < 200; i++)); do
        find "/proc/$waiter/fd" -lname 'anon_inode:*pidfd*' 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    [[ $i -lt 200 ]] || fail "wait did not open a pidfd within 10s"
    # (One of them may be gone already with the first: the run's end is
    # what is waited for.)
    for p in $(marker_pids "$m"); do kill -TERM "$p" 2>/dev/null || true; done
    wait_exit "$AGENT_PID" 20
    wait_exit "$waiter" 20
    assert_eq 125 "$RC" "wait's status"
    assert_eq "wtbox: agent 'fg2' has no exit status: it changed nothing and its run removed it as it ended (the run's own exit status is the command's)" "$(cat "$T/wait.err")" "wait's error"
    assert_nothing_left . fg2
}

test_stop_whole_sandbox_then_kill() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    detach bg --rw "$O" -- sh -c '
        (trap "echo bg >\"$1/bg-term\"; exit 0" TERM; touch "$1/bg-ready"; while :; do sleep 0.1; done) &
        trap "wait; exit 0" TERM
        while :; do sleep 0.1; done' sh "$O"
    wait_for_file "$O/bg-ready"
    expect_exit 0 wtbox stop bg
    assert_file "$O/bg-term"
    assert_eq "killed 0" "$(rec bg .status) $(rec bg .exit_status)" "stopped, exited 0 by itself"

    local sup sb
    detach stubborn --rw "$O" -- sh -c 'trap "" TERM; touch "$1/st-ready"; while :; do sleep 0.1; done' sh "$O"
    wait_for_file "$O/st-ready"
    sup=$(rec stubborn .pid)
    sb=$(rec stubborn .sandbox_pid)
    expect_exit 0 wtbox stop -t 1 stubborn
    assert_contains "$ERR" "wtbox: agent 'stubborn' still runs after 1 s: killing its sandbox"
    assert_eq "agent 'stubborn' stopped (killed, exit status 137)" "$(cat "$OUT")" "stop's report"
    assert_agent_gone stubborn "$sup" "$sb"
    assert_eq 9 "$(rec stubborn .signal)" "signal"
    # Not running any more: said, nothing done.
    expect_exit 0 wtbox stop stubborn
    assert_eq "agent 'stubborn' is not running (killed, exit status 137)" "$(cat "$OUT")" "stop again"
    expect_exit 125 wtbox stop nope
    assert_wtbox_error "no agent 'nope'"
    expect_exit 125 wtbox stop -t x stubborn
    assert_wtbox_error "invalid -t 'x'"
}

# The supervisor is SIGKILLed: its sandbox goes with it; the agent's work
# stays where it was, and ls says orphaned.
test_detach_supervisor_killed() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    detach orph --rw "$O" -- sh -c '
        echo committed >c.txt && git add c.txt && git commit -q -m "agent commit" &&
        echo wip >wip.txt && touch "$1/work-done" && exec sleep 300' sh "$O"
    wait_for_file "$O/work-done"
    local sup sb wt
    sup=$(rec orph .pid)
    sb=$(rec orph .sandbox_pid)
    wt=$(rec orph .worktree)
    kill -KILL "$sup"
    wait_pid_gone "$sb" 1
    wait_pid_gone "$sup" 1
    assert_eq orphaned "$(rec orph .status)" "status"
    assert_match "$(wtbox ls)" '^orph +orphaned +wtbox/orph '
    expect_exit 125 wtbox wait orph
    assert_wtbox_error "agent 'orph' has no exit status"
    expect_exit 0 wtbox stop orph
    assert_contains "$OUT" "agent 'orph' is not running (orphaned"
    # Nothing of its work is lost: the files, and the commit (imported
    # by sync, as gc or the next run would).
    assert_eq wip "$(cat "$wt/wip.txt")" "uncommitted file"
    assert_eq committed "$(cat "$wt/c.txt")" "committed file"
    expect_exit 0 wtbox sync orph
    assert_eq "agent commit" "$(git log -1 --format=%s wtbox/orph)" "the agent's commit on its branch"
}

# detach_many N PREFIX: N `run -d` at once, from the shell, in parallel.
detach_many() {
    local n=$1 p=$2 i
    local -a pids
    for ((i = 1; i <= n; i++)); do
        "$WTBOX" run -d --name "$p$i" -- sleep 600 >"$T/out.$p$i" 2>"$T/err.$p$i" </dev/null &
        pids[i]=$!
    done
    for ((i = 1; i <= n; i++)); do
        local rc=0
        wait "${pids[i]}" || rc=$?
        [[ $rc == 0 ]] || fail "run -d $p$i exited $rc: $(cat "$T/err.$p$i")"
    done
    for ((i = 1; i <= n; i++)); do
        track_pid "$(rec "$p$i" .pid)"
        track_pid "$(rec "$p$i" .sandbox_pid)"
    done
}

# stop_all N PREFIX: stop each; afterwards no supervisor, no sandbox.
stop_all() {
    local n=$1 p=$2 i sup sb
    "$WTBOX" ls --json >"$T/before-stop.json"
    for ((i = 1; i <= n; i++)); do
        expect_exit 0 wtbox stop "$p$i"
        assert_eq "agent '$p$i' stopped (killed, exit status 143)" "$(cat "$OUT")" "stop $p$i"
    done
    for ((i = 1; i <= n; i++)); do
        sup=$(jq -r --arg n "$p$i" '.[] | select(.name == $n) | .pid' "$T/before-stop.json")
        sb=$(jq -r --arg n "$p$i" '.[] | select(.name == $n) | .sandbox_pid' "$T/before-stop.json")
        assert_agent_gone "$p$i" "$sup" "$sb"
    done
    assert_eq "$n" "$("$WTBOX" ls --json | jq --arg p "$p" '[.[] | select((.name | startswith($p)) and .status == "killed")] | length')" \
        "agents killed"
}

test_twenty_detached_at_once() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    detach_many 20 a
    "$WTBOX" ls --json >"$T/ls.json"
    assert_eq 20 "$(jq length "$T/ls.json")" "agents in ls --json"
    assert_eq 20 "$(jq '[.[] | select(.status == "running" and .detached)] | length' "$T/ls.json")" \
        "running detached agents"
    assert_eq 20 "$(jq '[.[].pid] | unique | length' "$T/ls.json")" "distinct supervisors"
    assert_eq 21 "$(wtbox ls | wc -l)" "ls lines (header + 20)"
    local i
    for ((i = 1; i <= 20; i++)); do
        pid_alive "$(rec "a$i" .pid)" || fail "supervisor of a$i is not alive"
        pid_alive "$(rec "a$i" .sandbox_pid)" || fail "sandbox of a$i is not alive"
    done
    stop_all 20 a
}

# Each agent gets a port of its own, recorded in `ports`.
test_twenty_detached_distinct_ports() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    detach_many 20 q
    "$WTBOX" ls --json >"$T/ls.json"
    assert_eq 20 "$(jq '[.[] | select(.ports | length > 0)] | length' "$T/ls.json")" \
        "agents with ports"
    assert_eq 20 "$(jq '[.[].ports[0].host] | unique | length' "$T/ls.json")" "distinct ports"
    stop_all 20 q
}
