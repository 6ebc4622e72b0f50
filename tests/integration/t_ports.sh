# t_ports.sh: each agent's host port, published ports and the forwarder:
# real servers inside real sandboxes, real clients on the host's loopback.
# Every wait is bounded; traffic stays on loopback and inside the sandboxes.

TCPDIR=$(cd "$(dirname "$WTBOX_TEST_LIB")" && pwd -P)
TCPTOOL=$TCPDIR/tcptool.py

need_python() { command -v python3 >/dev/null || skip "python3 is not installed"; }

# take_port_range SIZE: sets RANGE to SIZE ports of 30000-32599 for this
# test alone, below the kernel's ephemeral ports (32768 and up), where an
# outgoing connection could take one at any time. Tests run side by side
# (JOBS), and two checkouts' runs may meet: each of the 130 blocks of 20
# ports is claimed with flock(1) on a file in /tmp, held by the test's
# shell (and whatever it starts) until the test ends, and a block is taken
# only if nothing here has bound one of its ports. Not in $(...): the
# claim would end with the subshell.
RANGE_LOCKS=/tmp/wtbox-test-ports
take_port_range() { # SIZE
    need_python
    local size=$1 i b lo f fd taken=()
    ((size >= 1 && size <= 20)) || fail "take_port_range: bad size $size"
    if [[ ! -d $RANGE_LOCKS ]]; then
        mkdir -m 1777 "$RANGE_LOCKS" 2>/dev/null || [[ -d $RANGE_LOCKS ]] ||
            fail "cannot create $RANGE_LOCKS"
    fi
    for ((i = 0; i < 130; i++)); do
        b=$((($$ + i) % 130))
        lo=$((30000 + b * 20))
        f=$RANGE_LOCKS/$lo
        [[ -e $f ]] || (umask 0022 && : >>"$f") 2>/dev/null
        # Read-only: a block file another user made is readable, and
        # flock needs no more.
        exec {fd}<"$f" || fail "cannot open $f"
        if flock -n "$fd"; then
            if python3 "$TCPTOOL" free "$lo" "$size" >"$T/taken" 2>&1; then
                RANGE=$lo-$((lo + size - 1))
                return 0
            fi
            taken+=("$lo-$((lo + size - 1)): $(paste -sd' ' "$T/taken")")
        fi
        exec {fd}<&-
    done
    fail "no free block of $size ports in 30000-32599 (in use: ${taken[*]:-none}; the others are claimed by tests running now)"
}

# start_port_agent NAME SCRIPT [RUN OPTIONS...]: wtbox run in the background with
# the test's out dir and tcptool granted; SCRIPT runs in sh inside with
# $TCP (the tool) and $O (the out dir). Sets AGENT_PID.
start_port_agent() {
    local name=$1 script=$2
    shift 2
    mkdir -p "$O"
    "$WTBOX" run -n "$name" -k --ro "$TCPDIR" --rw "$O" "$@" -- \
        env TCP="$TCPTOOL" O="$O" sh -c "$script" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
    AGENT_PID=$!
    track_pid "$AGENT_PID"
}

# The host port of mapping N (0: the agent's own) from the agent's record.
record_port() { # NAME [N] [host|inside]
    jq -r ".ports[${2:-0}].${3:-host}" "$(agent_records "$1")/record.json"
}

tcp() { python3 "$TCPTOOL" "$@"; }

# Ends an agent that waits for $O/stop.NAME, and checks its exit.
stop_agent() { # NAME PID
    : >"$O/stop.$1"
    local rc=0
    wait "$2" || rc=$?
    [[ $rc == 0 ]] || fail "agent $1 exited $rc: $(cat "$T/$1.err")"
}

# Inside: wait (bounded) for the host to say stop.
WAIT_STOP='i=0; while [ ! -e "$O/stop.$WTBOX_NAME" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done'

test_port_env_and_publish() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    start_port_agent web '
        echo "PORT=$PORT WTBOX_PORT=$WTBOX_PORT" >"$O/env"
        python3 "$TCP" serve "$PORT" text --text "own-$WTBOX_NAME" --ready "$O/r1" --seconds 60 &
        python3 "$TCP" serve 3000 text --host ::1 --text "three-$WTBOX_NAME" --ready "$O/r2" --seconds 60 &
        '"$WAIT_STOP" -p 3000
    wait_for_file "$O/r1" 20
    wait_for_file "$O/r2" 20
    local p q
    p=$(record_port web 0)
    q=$(record_port web 1)
    assert_eq "$p" "$(record_port web 0 inside)" "the agent's own port is the same number inside"
    assert_eq 3000 "$(record_port web 1 inside)" "the published port inside"
    assert_ne "$p" "$q" "two mappings, two host ports"
    assert_contains "$O/env" "PORT=$p WTBOX_PORT=$p"
    [[ $p -ge 20000 && $p -le 29999 && $q -ge 20000 && $q -le 29999 ]] ||
        fail "ports $p and $q are not in the default range 20000-29999"
    assert_contains "$T/web.err" "web: http://127.0.0.1:$p -> :$p"
    assert_contains "$T/web.err" "web: http://127.0.0.1:$q -> :3000"
    assert_eq own-web "$(tcp get "$p")" "PORT from the host"
    # The server inside listens on ::1 only: the forwarder tries it after
    # 127.0.0.1 refuses.
    assert_eq three-web "$(tcp get "$q")" "port 3000 (on ::1 inside) from the host"
    if tcp try "$p" --host ::1 | grep -qx open; then
        assert_eq own-web "$(tcp get "$p" --host ::1)" "PORT from the host's ::1"
    fi
    stop_agent web "$AGENT_PID"
    # Released with the supervisor: the host port can be bound again.
    # (SO_REUSEADDR as wtbox's own listeners: the port's closed connections
    # linger in TIME_WAIT; a listener still holding it would fail this.)
    python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()' "$p" ||
        fail "port $p still held after the agent ended"
}

test_two_agents_same_inside_port() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    local n pids=() pa pb qa qb
    for n in a b; do
        start_port_agent "$n" '
            python3 "$TCP" serve "$PORT" text --text "port-$WTBOX_NAME" --ready "$O/r1.$WTBOX_NAME" --seconds 60 &
            python3 "$TCP" serve 3000 text --text "3000-$WTBOX_NAME" --ready "$O/r2.$WTBOX_NAME" --seconds 60 &
            while [ ! -e "$O/other.$WTBOX_NAME" ]; do sleep 0.1; done
            python3 "$TCP" try "$(cat "$O/other.$WTBOX_NAME")" --seconds 5 >"$O/try.$WTBOX_NAME.part"
            mv "$O/try.$WTBOX_NAME.part" "$O/try.$WTBOX_NAME"
            '"$WAIT_STOP" -p 3000
        pids+=("$AGENT_PID")
    done
    for n in a b; do
        wait_for_file "$O/r1.$n" 20
        wait_for_file "$O/r2.$n" 20
    done
    pa=$(record_port a 0)
    pb=$(record_port b 0)
    qa=$(record_port a 1)
    qb=$(record_port b 1)
    assert_eq port-a "$(tcp get "$pa")"
    assert_eq port-b "$(tcp get "$pb")"
    assert_eq 3000-a "$(tcp get "$qa")"
    assert_eq 3000-b "$(tcp get "$qb")"
    # Each tries the other's forwarded host port from inside.
    echo "$pb" >"$O/other.a"
    echo "$pa" >"$O/other.b"
    wait_for_file "$O/try.a" 20
    wait_for_file "$O/try.b" 20
    sleep 0.2
    assert_eq refused "$(cat "$O/try.a")" "agent a reaching b's host port $pb"
    assert_eq refused "$(cat "$O/try.b")" "agent b reaching a's host port $pa"
    stop_agent a "${pids[0]}"
    stop_agent b "${pids[1]}"
}

# The supervisor's open fds and resident memory.
fd_count() { local f n=0; for f in /proc/"$1"/fd/*; do n=$((n + 1)); done; echo "$n"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

test_thousand_concurrent_and_no_leak() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    # Under AddressSanitizer freed memory waits in a quarantine and counts
    # in RSS: none for this run, so that RSS says what is still held.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
        start_port_agent sum '
        python3 "$TCP" serve "$PORT" sum --ready "$O/r" --seconds 300 &
        '"$WAIT_STOP"
    wait_for_file "$O/r" 20
    local p fds0 fds1 fds2 rss1 rss2 i
    p=$(record_port sum)
    fds0=$(fd_count "$AGENT_PID")
    # 1,000 connections open at once, 1,000 bytes each way (checksummed).
    assert_eq "ok 1000" "$(tcp load "$p" 1000 1000 --seconds 60)" "1000 concurrent connections"
    fds1=$(fd_count "$AGENT_PID")
    rss1=$(rss_kb "$AGENT_PID")
    # 9,000 more: nothing may grow with the number of connections.
    for ((i = 0; i < 9; i++)); do
        assert_eq "ok 1000" "$(tcp load "$p" 1000 200 --seconds 60)" "round $((i + 2)) of 1000"
    done
    assert_eq "ok 1" "$(tcp load "$p" 1 3000000 --seconds 60)" "one connection with 3 MB"
    fds2=$(fd_count "$AGENT_PID")
    rss2=$(rss_kb "$AGENT_PID")
    # What the supervisor may keep between connections is bounded: 16
    # empty pipes (32 fds) and two batches of unconnected sandbox sockets
    # per address family (64 fds).
    [[ $((fds2 - fds0)) -le 96 ]] ||
        fail "supervisor fds: $fds0 before, $fds1 after 1000, $fds2 after 10001 connections"
    [[ $fds2 -le $((fds1 + 64)) ]] ||
        fail "supervisor fds grew from $fds1 (after 1000) to $fds2 (after 10001 connections)"
    # A leak of one connection's bookkeeping (~200 bytes) per connection
    # would be 1.8 MB here.
    [[ $((rss2 - rss1)) -le 1024 ]] ||
        fail "supervisor RSS grew from $rss1 kB to $rss2 kB over 9001 connections"
    stop_agent sum "$AGENT_PID"
}

test_half_close_both_ways() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    # greet: the server inside sends a greeting and shuts its writing
    # down, then reads until the host's client shuts down its own.
    start_port_agent hc '
        python3 "$TCP" serve "$PORT" greet --text hi-there --out "$O/got" --ready "$O/r" --seconds 60 &
        python3 "$TCP" serve 3000 sum --ready "$O/r2" --seconds 60 &
        '"$WAIT_STOP" -p 3000
    wait_for_file "$O/r" 20
    wait_for_file "$O/r2" 20
    local p line
    p=$(record_port hc)
    line=$(tcp greet "$p" 50000)
    # The client saw the server's end of stream while its own side was
    # still open, then sent 50000 bytes that arrived whole.
    [[ $line == "hi-there 50000 "* ]] || fail "greet client: '$line'"
    wait_for_file "$O/got" 20
    assert_eq "${line#hi-there }" "$(cat "$O/got")" "what the server got after its shutdown"
    # The other way: the host's client shuts down writing, the server
    # reads to the end and still answers.
    assert_eq "ok 1" "$(tcp load "$(record_port hc 1)" 1 100000)" "host half-close, answer after"
    stop_agent hc "$AGENT_PID"
}

test_refused_inside_then_restarted_server() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    start_port_agent rs '
        while [ ! -e "$O/start1" ]; do sleep 0.1; done
        python3 "$TCP" serve "$PORT" text --text first --ready "$O/r1" --seconds 60 & s=$!
        while [ ! -e "$O/restart" ]; do sleep 0.1; done
        kill $s; wait $s
        python3 "$TCP" serve "$PORT" text --text second --ready "$O/r2" --seconds 60 &
        '"$WAIT_STOP"
    local p i
    for ((i = 0; i < 200; i++)); do
        [[ -s $(agent_records rs)/record.json ]] && [[ $(record_port rs 2>/dev/null) =~ ^[0-9]+$ ]] && break
        sleep 0.05
    done
    p=$(record_port rs)
    # Nothing listens inside: the host's connection is reset at once.
    assert_eq reset "$(tcp expect-reset "$p" --seconds 10)" "connection to a port nothing listens on"
    : >"$O/start1"
    wait_for_file "$O/r1" 20
    assert_eq first "$(tcp get "$p")"
    : >"$O/restart"
    wait_for_file "$O/r2" 20
    assert_eq second "$(tcp get "$p")" "the restarted server, same wtbox"
    stop_agent rs "$AGENT_PID"
}

test_host_loopback_and_allow_host_port() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    local r x y
    take_port_range 4
    r=$RANGE
    x=${r%-*}
    y=$((x + 1))
    python3 "$TCPTOOL" serve "$x" text --text host-x --ready "$T/hx" --seconds 60 &
    track_pid $!
    python3 "$TCPTOOL" serve "$y" text --text host-y --ready "$T/hy" --seconds 60 &
    track_pid $!
    wait_for_file "$T/hx" 20
    wait_for_file "$T/hy" 20
    assert_eq host-x "$(tcp get "$x")" "the host's own server"
    mkdir -p "$O"
    local mode
    for mode in none private; do
        # Without a grant: neither is reachable.
        expect_exit 0 "$WTBOX" run --net "$mode" --ro "$TCPDIR" -- sh -c "
            python3 $TCPTOOL try $x --seconds 5; python3 $TCPTOOL try $y --seconds 5
            python3 $TCPTOOL try $x --host ::1 --seconds 5"
        assert_eq "refused refused refused" "$(tr '\n' ' ' <"$OUT" | sed 's/ $//')" \
            "host ports without a grant (--net $mode)"
        # With --allow-host-port X: X is, as localhost:X (127.0.0.1 and
        # ::1), and Y still is not.
        expect_exit 0 "$WTBOX" run --net "$mode" --ro "$TCPDIR" --allow-host-port "$x" -- sh -c "
            python3 $TCPTOOL get $x; python3 $TCPTOOL get $x --host ::1
            python3 $TCPTOOL try $y --seconds 5"
        assert_eq "host-x host-x refused" "$(tr '\n' ' ' <"$OUT" | sed 's/ $//')" \
            "with --allow-host-port $x (--net $mode)"
    done
}

test_sixteen_agents_distinct_ports() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    local r lo hi i pids=() ports
    # Exactly 16 ports for 16 agents at once: every one must get its own.
    take_port_range 16
    r=$RANGE
    lo=${r%-*}
    hi=${r#*-}
    mkdir -p "$O"
    for ((i = 1; i <= 16; i++)); do
        "$WTBOX" run -n "p$i" --port-range "$r" --rw "$O" -- env O="$O" sh -c '
            echo "$PORT" >"$O/port.$WTBOX_NAME"
            i=0; while [ ! -e "$O/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' \
            >"$T/out.$i" 2>"$T/err.$i" </dev/null &
        pids[i]=$!
        track_pid "${pids[i]}"
    done
    for ((i = 1; i <= 16; i++)); do
        local k
        for ((k = 0; k < 1200; k++)); do
            [[ -e $O/port.p$i ]] && break
            pid_alive "${pids[i]}" || fail "agent p$i ended early: $(cat "$T/err.$i")"
            sleep 0.05
        done
        [[ -e $O/port.p$i ]] || fail "agent p$i did not start within 60s: $(cat "$T/err.$i")"
    done
    ports=$(cat "$O"/port.p* | sort -n)
    assert_eq 16 "$(uniq <<<"$ports" | wc -l)" "distinct ports: $(tr '\n' ' ' <<<"$ports")"
    for i in $ports; do
        [[ $i -ge $lo && $i -le $hi ]] || fail "port $i outside $r"
    done
    : >"$O/go"
    for ((i = 1; i <= 16; i++)); do
        wait "${pids[i]}" || fail "agent p$i failed: $(cat "$T/err.$i")"
    done
}

test_tiny_range_third_agent_fails() {
    need_sandbox
    make_repo repo
    cd repo
    local r i pids=()
    take_port_range 2
    r=$RANGE
    mkdir -p "$O"
    for i in 1 2; do
        "$WTBOX" run -n "t$i" --port-range "$r" --rw "$O" -- env O="$O" sh -c '
            : >"$O/up.$WTBOX_NAME"
            i=0; while [ ! -e "$O/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' \
            >"$T/out.$i" 2>"$T/err.$i" </dev/null &
        pids[i]=$!
        track_pid "${pids[i]}"
    done
    wait_for_file "$O/up.t1" 30
    wait_for_file "$O/up.t2" 30
    expect_exit 125 "$WTBOX" run -n t3 --port-range "$r" -- true
    assert_wtbox_error "cannot allocate a port (range $r, --port-range): no free port in the range $r (all 2 in use)"
    assert_nothing_left . t3
    WTBOX_PORT_RANGE=$r expect_exit 125 "$WTBOX" run -n t3 -- true
    assert_wtbox_error "cannot allocate a port (range $r, WTBOX_PORT_RANGE): no free port in the range $r (all 2 in use)"
    assert_nothing_left . t3
    # A port of the range that is allowed from the host is not in use: it
    # is the run's own, and the error says so.
    local one=${r#*-}
    expect_exit 125 "$WTBOX" run -n t3 --port-range "$one-$one" --allow-host-port "$one" -- true
    assert_wtbox_error "cannot allocate a port (range $one-$one, --port-range): no free port in the range $one-$one (1 taken by this run or --allow-host-port, 0 in use)"
    assert_nothing_left . t3
    : >"$O/go"
    wait "${pids[1]}" || fail "t1: $(cat "$T/err.1")"
    wait "${pids[2]}" || fail "t2: $(cat "$T/err.2")"
}

test_port_errors() {
    need_sandbox
    need_python
    make_repo repo
    cd repo
    local bad x r
    for bad in 0 70000 abc 3000x -5 1:2:3 :80 80: ''; do
        expect_exit 125 "$WTBOX" run -n e1 -p "$bad" -- true
        assert_match "$ERR" "^wtbox: invalid --publish (host )?port '"
        assert_nothing_left . e1
    done
    expect_exit 125 "$WTBOX" run -n e1 -p 3000 -p 4000:3000 -- true
    assert_wtbox_error "port 3000 is published twice"
    expect_exit 125 "$WTBOX" run -n e1 -p 4000:3000 -p 4000:3001 -- true
    assert_wtbox_error "host port 4000 is published twice"
    for bad in 5-1 0-10 1-70000 x 10 10- -10 1-2-3; do
        expect_exit 125 "$WTBOX" run -n e1 --port-range "$bad" -- true
        assert_match "$ERR" "^wtbox: invalid --port-range '"
    done
    WTBOX_PORT_RANGE=nope expect_exit 125 "$WTBOX" run -n e1 -- true
    assert_wtbox_error "invalid WTBOX_PORT_RANGE 'nope': expected FIRST-LAST, e.g. 20000-29999"
    expect_exit 125 "$WTBOX" run -n e1 --allow-host-port 99999 -- true
    assert_wtbox_error "invalid --allow-host-port '99999': expected a port number 1-65535"
    assert_nothing_left . e1
    # An explicit host port that is taken.
    take_port_range 4
    r=$RANGE
    x=$((${r%-*} + 2))
    python3 "$TCPTOOL" serve "$x" text --ready "$T/hx" --seconds 60 &
    track_pid $!
    wait_for_file "$T/hx" 20
    expect_exit 125 "$WTBOX" run -n e1 -p "$x:3000" -- true
    assert_wtbox_error "cannot publish host port $x: it is in use"
    assert_eq "wtbox: cannot publish host port $x: it is in use" "$(cat "$ERR")" "the error"
    assert_nothing_left . e1
    # The first agent of the repository was refused: not even the
    # repository's directory of worktrees is left.
    local d
    for d in "$XDG_DATA_HOME"/wtbox/repo-*; do
        [[ ! -e $d ]] || fail "left behind: $d"
    done
    # Inside, an allowed host port is wtbox's: it cannot be published as
    # well, and the agent's PORT is never one.
    expect_exit 125 "$WTBOX" run -n e1 -p 8000 --allow-host-port 8000 -- true
    assert_wtbox_error "port 8000 is both published (-p) and the host's (--allow-host-port): inside, it can be only one"
    expect_exit 125 "$WTBOX" run -n e1 --allow-host-port 8001 --publish 9000:8001 -- true
    assert_wtbox_error "port 8001 is both published (-p) and the host's"
    assert_nothing_left . e1
    # Nor can a published host port be allowed: it is this sandbox's own.
    expect_exit 125 "$WTBOX" run -n e1 --allow-host-port 26001 -p 26001:3000 -- true
    assert_eq "wtbox: host port 26001 is both published (-p 26001:3000) and allowed (--allow-host-port): it would be this sandbox's own port" "$(cat "$ERR")" "the error"
    assert_nothing_left . e1
    local r3 lo
    take_port_range 3
    r3=$RANGE
    lo=${r3%-*}
    expect_exit 0 "$WTBOX" run -n e3 --net=none --port-range "$r3" --allow-host-port "$lo" \
        --allow-host-port $((lo + 2)) -- sh -c 'echo "$PORT"'
    assert_eq $((lo + 1)) "$(cat "$OUT")" "PORT, with the range's other ports allowed from the host"
    # --report is checked before anything is made.
    expect_exit 125 "$WTBOX" run -n e1 --report "$T/no/such/dir/r.json" -- true
    assert_wtbox_error "cannot write the report to '$T/no/such/dir/r.json': No such file or directory"
    expect_exit 125 "$WTBOX" run -n e1 --report "$T" -- true
    assert_wtbox_error "cannot write the report to '$T': it is a directory"
    expect_exit 125 "$WTBOX" run -n e1 --report '' -- true
    assert_wtbox_error "invalid --report '': expected a file name"
    assert_nothing_left . e1
    # Ports below 1024 without the privilege to bind them.
    if [[ $(id -u) != 0 && $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) -ge 1000 ]]; then
        expect_exit 125 "$WTBOX" run -n e1 --port-range 998-999 -- true
        assert_wtbox_error "no free port in the range 998-999 (0 in use, 2 privileged: see net.ipv4.ip_unprivileged_port_start)"
        assert_nothing_left . e1
    fi
    # A run of an existing agent refused so leaves its record as it was.
    need_jq
    expect_exit 3 "$WTBOX" run -n e2 -- sh -c 'echo w >w.txt; exit 3'
    local before
    before=$(cat "$(agent_records e2)/record.json")
    expect_exit 125 "$WTBOX" run -n e2 -p "$x:3000" -- true
    assert_wtbox_error "cannot publish host port $x: it is in use"
    assert_eq "$before" "$(cat "$(agent_records e2)/record.json")" "the record"
    expect_exit 3 "$WTBOX" wait e2
    expect_exit 0 "$WTBOX" ls
    assert_match "$OUT" '^e2 +exited 3 +wtbox/e2 +- +[0-9]+[smhd] +\+0 ~1$'
    assert_not_contains "$(wt_block . "$(agent_worktrees e2)")" "locked"
}

test_same_name_prefers_same_port() {
    need_sandbox
    need_python
    need_jq
    make_repo repo
    cd repo
    local p1 p2 p3
    expect_exit 0 "$WTBOX" run -n same -k -- true
    p1=$(record_port same)
    expect_exit 0 "$WTBOX" run -n same -k -- true
    p2=$(record_port same)
    assert_eq "$p1" "$p2" "the same agent's port on its second run"
    # Taken by someone else meanwhile: another one, and the run goes on.
    python3 "$TCPTOOL" serve "$p1" text --ready "$T/h" --seconds 60 &
    track_pid $!
    wait_for_file "$T/h" 20
    expect_exit 0 "$WTBOX" run -n same -k -- sh -c 'echo "$PORT"'
    p3=$(record_port same)
    assert_ne "$p1" "$p3" "a taken port is not given"
    assert_eq "$p3" "$(cat "$OUT")" "PORT inside is the recorded one"
}

test_dry_run_shows_ports() {
    need_python
    make_repo repo
    cd repo
    local r lo x p
    take_port_range 20
    r=$RANGE
    lo=${r%-*}
    x=$((lo + 19))
    expect_exit 0 "$WTBOX" run --dry-run -n dr -p 3000 -p "$x:8080" -p 4000 --allow-host-port 5432 \
        --port-range "$lo-$((lo + 9))" -- true
    # The ports the run would bind now, in the order given, and PORT in
    # the environment it would have.
    assert_match "$OUT" "^  ports     from $lo-$((lo + 9)) \(--port-range\), free now: 127\.0\.0\.1:([0-9]+) -> :\1, 127\.0\.0\.1:[0-9]+ -> :3000, 127\.0\.0\.1:$x -> :8080, 127\.0\.0\.1:[0-9]+ -> :4000$"
    p=$(sed -n 's/^  ports .*free now: 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$OUT")
    [[ $p -ge $lo && $p -le $((lo + 9)) ]] || fail "PORT $p is not in $lo-$((lo + 9))"
    assert_contains "$OUT" "  PORT=$p"
    assert_contains "$OUT" "  WTBOX_PORT=$p"
    assert_contains "$OUT" "host port 127.0.0.1:5432 reachable inside as localhost:5432"
    assert_no_agents .
    # A host port that is taken now is the run's error, and the dry run's.
    python3 "$TCPTOOL" serve "$x" text --ready "$T/hx" --seconds 60 &
    track_pid $!
    wait_for_file "$T/hx" 20
    expect_exit 125 "$WTBOX" run --dry-run -n dr -p "$x:80" -- true
    assert_eq "wtbox: cannot publish host port $x: it is in use" "$(cat "$ERR")" "the error"
    assert_no_agents .
}

# The run prints its mappings in the order given, the agent's PORT first.
test_mappings_in_the_order_given() {
    need_sandbox
    make_repo repo
    cd repo
    local r lo x
    take_port_range 20
    r=$RANGE
    lo=${r%-*}
    x=$((lo + 19))
    expect_exit 0 "$WTBOX" run -n ord -p 5000 -p "$x:8080" -p 4000 --port-range "$lo-$((lo + 9))" -- true
    grep '^ord: http' "$ERR" | sed 's/.* -> //' >"$T/order"
    assert_eq "$(sed -n 's/^ord: http:\/\/127\.0\.0\.1:\([0-9]*\) .*/:\1/p' "$ERR" | head -n 1)
:5000
:8080
:4000" "$(cat "$T/order")" "order of the mappings"
    assert_contains "$ERR" "ord: http://127.0.0.1:$x -> :8080"
    assert_nothing_left . ord
}

