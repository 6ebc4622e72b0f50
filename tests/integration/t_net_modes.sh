# t_net_modes.sh: --net=none and --net=private (slirp4netns or pasta): what
# the sandbox's network has, that the host's loopback is out of reach in
# both modes, what happens without a stack, and that the stack never
# outlives its sandbox. Traffic stays on loopback and in namespaces the
# tests make.

# The tools installed and usable here.
stacks() {
    local t
    [[ -r /dev/net/tun && -w /dev/net/tun ]] || return 0
    for t in slirp4netns pasta; do
        command -v "$t" >/dev/null && printf '%s\n' "$t"
    done
    return 0
}

need_stack() {
    [[ -r /dev/net/tun && -w /dev/net/tun ]] ||
        skip "/dev/net/tun is not usable by $(id -un) (scripts/install-deps.sh)"
    [[ -n $(stacks) ]] || skip "neither slirp4netns nor pasta is installed (scripts/install-deps.sh)"
}

# net.py: `serve ADDR PORTFILE TOKEN SECONDS` answers TOKEN to every
# connection, for at most SECONDS; `probe HOST PORT` connects (3 s at most)
# and prints `ok TOKEN` or `no: REASON`; `dns ADDR SECONDS` is a resolver
# on ADDR port 53 that answers 192.0.2.77 to every A query.
write_net_tool() {
    mkdir -p "$O"
    cat >"$O/net.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == "serve":
    addr, portfile, token, secs = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.bind((addr, 0))
    s.listen(16)
    s.settimeout(0.5)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os; os.rename(portfile + ".tmp", portfile)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        c.sendall(token.encode() + b"\n")
        c.close()
elif sys.argv[1] == "dns":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[2], 53))
    s.settimeout(0.5)
    end = time.monotonic() + float(sys.argv[3])
    while time.monotonic() < end:
        try:
            q, a = s.recvfrom(512)
        except socket.timeout:
            continue
        i = 12
        while i < len(q) and q[i] != 0:
            i += q[i] + 1
        qtype = q[i + 1:i + 3]
        a_query = qtype == b"\x00\x01"
        hdr = q[:2] + b"\x81\x80\x00\x01" + (b"\x00\x01" if a_query else b"\x00\x00") + b"\x00" * 4
        ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([192, 0, 2, 77])
        s.sendto(hdr + q[12:i + 5] + (ans if a_query else b""), a)
else:
    host, port = sys.argv[2], int(sys.argv[3])
    try:
        c = socket.create_connection((host, port), timeout=3)
        c.settimeout(3)
        print("ok " + c.makefile().readline().strip())
    except OSError as e:
        print("no: %s" % e)
EOF
}

# serve ADDR NAME SECONDS: a server on ADDR (of the host, or of the
# namespace this runs in) answering NAME; its port in $PORT.
serve() {
    rm -f "$O/$2.port"
    python3 "$O/net.py" serve "$1" "$O/$2.port" "$2" "$3" </dev/null >/dev/null 2>&1 &
    track_pid $!
    wait_for_file "$O/$2.port" 10
    PORT=$(cat "$O/$2.port")
}

# probe_sh KEY HOST PORT: a batch line that probes HOST:PORT from inside.
probe_sh() {
    batch_sh "$1" "python3 $O/net.py probe $2 $3"
}

assert_unreachable() { # KEY
    [[ -f $O/$1 ]] || fail "'$1' did not run inside the sandbox"
    assert_not_contains "$O/$1" "ok "
    assert_contains "$O/$1" "no: "
}

record_net() { # NAME: the network mode in the agent's record
    jget "$(agent_records "$1" | head -n 1)/record.json" .net
}

test_none_has_only_lo() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh dev 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
    batch_sh route 'tail -n +2 /proc/net/route | wc -l'
    batch_run 0 --name nonet --keep --net=none
    assert_eq lo "$(cat "$O/dev")" "interfaces with --net=none"
    assert_eq 0 "$(cat "$O/route")" "routes with --net=none"
    assert_eq none "$(record_net nonet)" "record's net"
}

# check_private KEY [RUN OPTIONS]: the network of a private sandbox: lo and
# one interface up, a default route, and a resolv.conf naming the stack's
# resolver (not the host's).
check_private() {
    local key=$1 dns
    shift
    batch_sh "$key.dev" 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort'
    batch_sh "$key.route" 'awk "NR > 1 && \$2 == \"00000000\"" /proc/net/route'
    batch_sh "$key.resolv" 'cat /etc/resolv.conf'
    batch_run 0 --name "$key" --keep "$@"
    assert_contains "$O/$key.dev" lo
    assert_eq 2 "$(wc -l <"$O/$key.dev")" "interfaces: $(cat "$O/$key.dev")"
    [[ -s $O/$key.route ]] || fail "$key: no default route inside"
    dns=$(awk '$1 == "nameserver" {print $2; exit}' "$O/$key.resolv")
    assert_eq "$DNS" "$dns" "$key: the resolver inside"
    if [[ -r /etc/resolv.conf ]]; then
        assert_not_contains /etc/resolv.conf "nameserver $dns"
    fi
    assert_eq private "$(record_net "$key")" "record's net"
}

test_private_is_the_default() {
    need_sandbox
    need_stack
    make_repo repo
    cd repo
    local first
    first=$(stacks | head -n 1)
    # slirp4netns is preferred (docs/BENCHMARKS.md), pasta the fallback.
    expect_exit 0 wtbox run --dry-run -- true
    assert_contains "$OUT" "network   private: loopback, and outbound through $first ("
    DNS=10.0.2.3
    [[ $first == pasta ]] && DNS=169.254.1.1
    check_private dflt
}

test_private_each_stack() {
    need_sandbox
    need_stack
    make_repo repo
    cd repo
    local t
    for t in $(stacks); do
        DNS=10.0.2.3
        [[ $t == pasta ]] && DNS=169.254.1.1
        WTBOX_NETSTACK=$t check_private "p-$t" --net=private
        expect_exit 0 env WTBOX_NETSTACK="$t" "$WTBOX" run --dry-run --net=private -- true
        assert_contains "$OUT" "outbound through $t ("
        assert_match "$OUT" "^  dns       $DNS \\(bound at /"
        assert_match "$OUT" "^  bind-ro   [^ ]+  <- .*/resolv.conf$"
    done
}

test_dry_run_none() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --dry-run --net=none -- true
    assert_contains "$OUT" "network   none: loopback only"
    assert_not_contains "$OUT" "resolv.conf"
}

test_bad_net_value() {
    make_repo repo
    cd repo
    expect_exit 125 wtbox run --net=bridge -- true
    assert_wtbox_error "invalid --net 'bridge': expected private or none"
    expect_exit 125 env WTBOX_NETSTACK=vde "$WTBOX" run -- true
    assert_wtbox_error "invalid WTBOX_NETSTACK 'vde': expected slirp4netns or pasta"
    assert_no_agents "$T/repo"
}

# A PATH with what wtbox and the test need, without slirp4netns and pasta
# (or with only KEEP).
bare_path() { # DIR [KEEP]
    local d=$1 t
    mkdir -p "$d"
    for t in git sh bash true python3 cat "${@:2}"; do
        ln -sf "$(command -v "$t")" "$d/$t"
    done
}

test_missing_stack_fails_before_anything() {
    need_sandbox
    make_repo repo
    cd repo
    bare_path "$T/bin"
    expect_exit 125 env PATH="$T/bin" "$WTBOX" run --name nostack -- true
    assert_wtbox_error "--net=private needs slirp4netns or pasta, neither is in PATH: apt-get install slirp4netns (or passt), or use --net=none"
    assert_nothing_left "$T/repo" nostack
    assert_no_agents "$T/repo"
    # The dry run says the same.
    expect_exit 125 env PATH="$T/bin" "$WTBOX" run --dry-run -- true
    assert_wtbox_error "apt-get install slirp4netns"
    # A forced stack that is missing is not replaced by the other one.
    if command -v slirp4netns >/dev/null; then
        bare_path "$T/bin2" slirp4netns
        expect_exit 125 env PATH="$T/bin2" WTBOX_NETSTACK=pasta "$WTBOX" run --name nostack -- true
        assert_wtbox_error "WTBOX_NETSTACK=pasta: 'pasta' is not in PATH (apt-get install passt)"
        assert_no_agents "$T/repo"
    fi
    # --net=none needs no stack.
    expect_exit 0 env PATH="$T/bin" "$WTBOX" run --net=none --name nostack -- /bin/true
}

# assert_sandbox_error LINE: $ERR is the agent's line, its port's line,
# then LINE.
assert_sandbox_error() {
    assert_eq 3 "$(wc -l <"$ERR")" "lines on stderr: $(cat "$ERR")"
    assert_match "$ERR" "^wtbox: agent '[^']+' on branch "
    assert_match "$ERR" "^[^ ]+: http://127\.0\.0\.1:[0-9]+ -> :[0-9]+\$"
    assert_eq "$1" "$(tail -n 1 "$ERR")" "the error"
}

test_stack_that_fails_to_start() {
    need_sandbox
    need_stack
    make_repo repo
    cd repo
    bare_path "$T/bin"
    printf '#!/bin/sh\necho "cannot do it: simulated failure" >&2\nexit 1\n' >"$T/bin/slirp4netns"
    chmod +x "$T/bin/slirp4netns"
    expect_exit 125 env PATH="$T/bin" WTBOX_NETSTACK=slirp4netns "$WTBOX" run --name badstack -- true
    assert_sandbox_error "wtbox: cannot start the sandbox: cannot start slirp4netns: cannot do it: simulated failure"
    assert_nothing_left "$T/repo" badstack
    assert_no_agents "$T/repo"
    # An existing agent is kept as it was.
    expect_exit 0 wtbox run --net=none --name kept -- sh -c 'echo w >work.txt'
    expect_exit 125 env PATH="$T/bin" WTBOX_NETSTACK=slirp4netns "$WTBOX" run --name kept -- true
    assert_sandbox_error "wtbox: cannot start the sandbox: cannot start slirp4netns: cannot do it: simulated failure"
    assert_file "$(agent_worktrees kept)/work.txt"
}

# The host's loopback, from inside, in every mode: 127.0.0.1, ::1,
# localhost and slirp4netns's gateway (its alias for the host's loopback
# when not disabled). A server inside answers the same probe (the probe can
# succeed).
test_host_loopback_unreachable() {
    need_sandbox
    write_net_tool
    make_repo repo
    cd repo
    local p4 p6="" mode t
    serve 127.0.0.1 host4 120
    p4=$PORT
    if [[ -e /proc/net/if_inet6 ]] && python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
        serve ::1 host6 120
        p6=$PORT
    fi
    for mode in none $(stacks); do
        t=$mode
        [[ $mode == none ]] && t=""
        batch_sh "$mode.self" "python3 $O/net.py serve 127.0.0.1 $O/$mode.inside inside 30 &
            i=0; while [ ! -e $O/$mode.inside ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
            python3 $O/net.py probe 127.0.0.1 \$(cat $O/$mode.inside)"
        probe_sh "$mode.v4" 127.0.0.1 "$p4"
        probe_sh "$mode.localhost" localhost "$p4"
        [[ -n $p6 ]] && probe_sh "$mode.v6" ::1 "$p6"
        [[ -n $p6 ]] && probe_sh "$mode.localhost6" localhost "$p6"
        [[ $mode == slirp4netns ]] && probe_sh "$mode.gw" 10.0.2.2 "$p4"
        if [[ $mode == none ]]; then
            batch_run 0 --net=none
        else
            WTBOX_NETSTACK=$t batch_run 0 --net=private
        fi
        assert_eq "ok inside" "$(cat "$O/$mode.self")" "$mode: a server inside, from inside"
        assert_unreachable "$mode.v4"
        assert_unreachable "$mode.localhost"
        if [[ -n $p6 ]]; then
            assert_unreachable "$mode.v6"
            assert_unreachable "$mode.localhost6"
        fi
        [[ $mode == slirp4netns ]] && assert_unreachable "$mode.gw"
    done
    # The servers were there all along.
    assert_eq "ok host4" "$(python3 "$O/net.py" probe 127.0.0.1 "$p4")" "host server from the host"
}

# A stand-in host made by the test (a user and network namespace with a
# veth pair: 192.0.2.2/24 and fd00::2/64 with default routes via .1 and
# ::1 that nobody answers, and 192.0.2.3 as a reachable "remote" address),
# so that traffic to the stacks' gateway addresses never leaves this
# machine. Inside it, a server on its loopback must not be reachable
# through the gateway address (IPv4 and IPv6) nor the resolver's address
# (on another port than 53), while a server on
# 192.0.2.3 is (outbound works, and the probe can succeed); a name
# resolves through the stack's resolver to the stand-in's own resolver.
test_gateway_is_not_host_loopback_dns_works() {
    need_sandbox
    need_stack
    write_net_tool
    local ip t
    ip=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || skip "ip (iproute2) is not installed"
    unshare -Urnm sh -c '"$1" link add v0 type veth peer name v1 && mount --bind /dev/null /dev/null' \
        sh "$ip" 2>/dev/null ||
        skip "cannot create a veth pair and bind mounts in user-owned namespaces"
    make_repo repo
    # Inside the sandbox: the gateways (IPv4, and IPv6 when there is one)
    # and the remote address.
    cat >"$O/inside.sh" <<'EOF'
o=$1 p4=$2 p6=$3 pr=$4 pw=$5
gw=$(awk 'NR > 1 && $2 == "00000000" {print $3; exit}' /proc/net/route)
gw=$(printf '%d.%d.%d.%d' "0x$(echo "$gw" | cut -c7-8)" "0x$(echo "$gw" | cut -c5-6)" \
    "0x$(echo "$gw" | cut -c3-4)" "0x$(echo "$gw" | cut -c1-2)")
echo "gw4 $gw"
echo "gw4 $(python3 "$o/net.py" probe "$gw" "$p4")"
gw6=$(awk '$1 == "00000000000000000000000000000000" && $2 == "00" &&
    $5 != "00000000000000000000000000000000" {print $5; exit}' /proc/net/ipv6_route)
if [ -n "$gw6" ]; then
    gw6=$(echo "$gw6" | sed 's/..../&:/g; s/:$//')
    echo "gw6 $gw6"
    echo "gw6 $(python3 "$o/net.py" probe "$gw6" "$p6")"
fi
echo "remote $(python3 "$o/net.py" probe 192.0.2.3 "$pr")"
ns=$(awk '$1 == "nameserver" {print $2; exit}' /etc/resolv.conf)
echo "nsport $(python3 "$o/net.py" probe "$ns" "$pw")"
echo "dns $(python3 -c 'import socket; print(socket.gethostbyname("agent-dns.example"))' 2>&1)"
EOF
    # The stand-in host: its network, its servers, then wtbox in it.
    cat >"$O/outer.sh" <<'EOF'
set -eu
o=$1 ipcmd=$2 repo=$3
ip() { "$ipcmd" "$@"; }
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 192.0.2.2/24 dev v0
ip addr add 192.0.2.3/24 dev v1
ip -6 addr add fd00::2/64 dev v0 nodad
ip link set v0 up
ip link set v1 up
ip route add default via 192.0.2.1 dev v0
ip -6 route add default via fd00::1 dev v0
# Its resolver on its loopback, as systemd-resolved's stub is.
printf 'nameserver 127.0.0.53\n' >"$o/resolv.host"
mount --bind "$o/resolv.host" /etc/resolv.conf
python3 "$o/net.py" dns 127.0.0.53 120 &
python3 "$o/net.py" serve 127.0.0.1 "$o/lo4.port" hostlo 120 &
python3 "$o/net.py" serve ::1 "$o/lo6.port" hostlo6 120 &
python3 "$o/net.py" serve 192.0.2.3 "$o/remote.port" remote 120 &
python3 "$o/net.py" serve 0.0.0.0 "$o/wild.port" hostwild 120 &
for f in lo4 lo6 remote wild; do
    i=0
    while [ ! -s "$o/$f.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
done
cd "$repo"
for t in $STACKS; do
    WTBOX_NETSTACK=$t "$WTBOX" run --net=private --ro "$o" -- \
        sh "$o/inside.sh" "$o" "$(cat "$o/lo4.port")" "$(cat "$o/lo6.port")" \
        "$(cat "$o/remote.port")" "$(cat "$o/wild.port")" >"$o/outer.$t" 2>"$o/outer.$t.err" </dev/null
done
kill $(jobs -p)
EOF
    STACKS="$(stacks | tr '\n' ' ')" timeout 120 unshare -Urnm bash "$O/outer.sh" "$O" "$ip" \
        "$T/repo" </dev/null >"$T/outer.out" 2>&1 &
    local pid=$!
    wait_exit "$pid" 120
    [[ $RC == 0 ]] || fail "the stand-in host failed ($RC): $(_lib_show "$T/outer.out")"
    for t in $(stacks); do
        [[ -f $O/outer.$t ]] || fail "$t: no result: $(_lib_show "$T/outer.out")"
        assert_contains "$O/outer.$t" "remote ok remote"
        assert_match "$O/outer.$t" "^gw4 [0-9.]+$"
        assert_match "$O/outer.$t" "^gw4 no: "
        assert_not_contains "$O/outer.$t" "ok hostlo"
        # The resolver's address forwards port 53 only: not another port
        # of the host's resolver (on its loopback, where a server bound to
        # every address listens).
        assert_match "$O/outer.$t" "^nsport no: "
        # DNS works, through the stack, to the host's resolver on its
        # loopback (port 53 only: see docs/security.md).
        assert_contains "$O/outer.$t" "dns 192.0.2.77"
        if [[ $t == slirp4netns ]]; then
            assert_contains "$O/outer.$t" "gw4 10.0.2.2"
        else
            # pasta copies the (stand-in) host's gateways, v4 and v6.
            assert_contains "$O/outer.$t" "gw4 192.0.2.1"
            assert_match "$O/outer.$t" "^gw6 fd00:"
            assert_match "$O/outer.$t" "^gw6 no: "
        fi
    done
}

# children_of PID: the pids of PID's children.
children_of() {
    cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$' || true
}

# stack_pids SUPERVISOR: slirp4netns, or pasta below its guard.
stack_pids() {
    local c g
    for c in $(children_of "$1"); do
        case "$(cat "/proc/$c/comm" 2>/dev/null)" in
        slirp4netns) printf '%s\n' "$c" ;;
        wtbox)
            for g in $(children_of "$c"); do
                # pasta execs passt.avx2 where the CPU has AVX2.
                case "$(cat "/proc/$g/comm" 2>/dev/null)" in
                pasta* | passt*) printf '%s %s\n' "$c" "$g" ;;
                esac
            done
            ;;
        esac
    done
    return 0
}

# The stack is gone when the run ends, and when its supervisor is
# SIGKILLed.
test_stack_gone_after_run_and_kill() {
    need_sandbox
    need_stack
    make_repo repo
    cd repo
    local t m pid sp p how
    for t in $(stacks); do
        for how in exit kill; do
            m=$(new_marker)
            WTBOX_NETSTACK=$t "$WTBOX" run --name "g-$t" --env M="$m" -- sh -c \
                'sleep "$M" & wait' >"$T/run.out" 2>"$T/run.err" </dev/null &
            pid=$!
            track_pid "$pid"
            wait_marker_appears "$m" 20
            sp=$(stack_pids "$pid")
            [[ -n $sp ]] || fail "$t: no stack process under the supervisor $pid"
            for p in $sp; do track_pid "$p"; done
            if [[ $how == exit ]]; then
                for p in $(marker_pids "$m"); do kill -TERM "$p"; done
                wait_exit "$pid" 20
            else
                kill -KILL "$pid"
                wait_exit "$pid" 10
            fi
            for p in $sp; do wait_pid_gone "$p" 10; done
            wait_marker_gone "$m" 10
        done
    done
}

# The stack's messages go to its log, never to the terminal.
test_stack_quiet_on_stderr() {
    need_sandbox
    need_stack
    make_repo repo
    cd repo
    local t
    for t in $(stacks); do
        expect_exit 0 env WTBOX_NETSTACK="$t" "$WTBOX" run --name "q-$t" -- true
        # The agent's line, its port's line, the verdict: nothing else.
        assert_eq 3 "$(wc -l <"$ERR")" "$t: stderr lines: $(cat "$ERR")"
        assert_not_contains "$ERR" syslog
    done
}

# A host whose /etc/resolv.conf is a link into /run (systemd-resolved's
# stub, resolvconf): the sandbox's own /run is a tmpfs, so the stack's
# resolv.conf is bound where the link points, and the link in the
# read-only /etc leads to it. Played in a stand-in host (user, mount and
# network namespaces of the test's) with a copy of /etc.
test_resolv_conf_through_a_link() {
    need_sandbox
    need_stack
    write_net_tool
    local ip t
    ip=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || skip "ip (iproute2) is not installed"
    unshare -Urnm sh -c '"$1" link add v0 type veth peer name v1 && mount --bind /dev/null /dev/null' \
        sh "$ip" 2>/dev/null ||
        skip "cannot create a veth pair and bind mounts in user-owned namespaces"
    make_repo repo
    cat >"$O/outer.sh" <<'EOF'
set -eu
o=$1 ipcmd=$2 repo=$3
"$ipcmd" link set lo up
"$ipcmd" link add v0 type veth peer name v1
"$ipcmd" addr add 192.0.2.2/24 dev v0
"$ipcmd" link set v0 up
"$ipcmd" route add default via 192.0.2.1 dev v0
mount -t tmpfs tmpfs /run
mkdir -p /run/wtbox-t
printf 'nameserver 127.0.0.53\n' >/run/wtbox-t/resolv.conf
mkdir "$o/etc"
cp -a /etc/. "$o/etc/" 2>/dev/null || true
rm -f "$o/etc/resolv.conf"
ln -s ../run/wtbox-t/resolv.conf "$o/etc/resolv.conf"
mount --bind "$o/etc" /etc
python3 "$o/net.py" dns 127.0.0.53 120 &
cd "$repo"
for t in $STACKS; do
    WTBOX_NETSTACK=$t "$WTBOX" run --dry-run -- true >"$o/dry.$t"
    WTBOX_NETSTACK=$t "$WTBOX" run --net=private -- sh -c '
        echo "link $(readlink /etc/resolv.conf)"
        echo "conf $(grep nameserver /etc/resolv.conf)"
        echo "dns $(python3 -c "import socket; print(socket.gethostbyname(\"agent-dns.example\"))" 2>&1)"
    ' >"$o/link.$t" 2>"$o/link.$t.err" </dev/null
done
kill $(jobs -p)
EOF
    STACKS="$(stacks | tr '\n' ' ')" timeout 120 unshare -Urnm bash "$O/outer.sh" "$O" "$ip" \
        "$T/repo" </dev/null >"$T/outer.out" 2>&1 &
    local pid=$!
    wait_exit "$pid" 120
    [[ $RC == 0 ]] || fail "the stand-in host failed ($RC): $(_lib_show "$T/outer.out")"
    for t in $(stacks); do
        [[ -f $O/link.$t ]] || fail "$t: no result: $(_lib_show "$T/outer.out")"
        assert_match "$O/dry.$t" "^  dns       [0-9.]+ \\(bound at /run/wtbox-t/resolv.conf\\)$"
        assert_match "$O/dry.$t" "^  bind-ro   /run/wtbox-t/resolv.conf  <- .*/resolv.conf$"
        assert_contains "$O/link.$t" "link ../run/wtbox-t/resolv.conf"
        assert_not_contains "$O/link.$t" "127.0.0.53"
        assert_match "$O/link.$t" "^conf nameserver (10.0.2.3|169.254.1.1)$"
        assert_contains "$O/link.$t" "dns 192.0.2.77"
    done
}
