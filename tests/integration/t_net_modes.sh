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

# net.py: `serve ADDR PORTFILE TOKEN SECONDS [PORT]` answers TOKEN to every
# connection, for at most SECONDS (on PORT, else on a free one); `probe
# HOST PORT` connects (3 s at most)
# and prints `ok TOKEN` or `no: REASON`; `dns ADDR SECONDS` is a resolver
# on ADDR port 53 that answers 192.0.2.77 to every A query; `raw` says
# whether a packet socket and raw IP sockets can be opened.
write_net_tool() {
    mkdir -p "$O"
    cat >"$O/net.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == "serve":
    addr, portfile, token, secs = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.bind((addr, int(sys.argv[6]) if len(sys.argv) > 6 else 0))
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
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET, socket.SOCK_DGRAM)
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
elif sys.argv[1] == "raw":
    for name, fam, typ in (("packet", socket.AF_PACKET, socket.SOCK_RAW),
                           ("raw4", socket.AF_INET, socket.SOCK_RAW),
                           ("raw6", socket.AF_INET6, socket.SOCK_RAW)):
        try:
            socket.socket(fam, typ, socket.IPPROTO_TCP if typ == socket.SOCK_RAW and
                          fam != socket.AF_PACKET else 0).close()
            print(name, "opened")
        except OSError as e:
            print(name, "refused:", e)
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
    # Not `stacks | head -n 1`: head may leave before stacks prints its
    # second line, which then dies of SIGPIPE and fails the pipeline.
    first=$(stacks)
    first=${first%%$'\n'*}
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
        [[ $mode == slirp4netns && -n $p6 ]] && probe_sh "$mode.gw6" fd00::2 "$p6"
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
        [[ $mode == slirp4netns && -n $p6 ]] && assert_unreachable "$mode.gw6"
    done
    # The servers were there all along.
    assert_eq "ok host4" "$(python3 "$O/net.py" probe 127.0.0.1 "$p4")" "host server from the host"
}

need_slirp() {
    need_stack
    command -v slirp4netns >/dev/null || skip "slirp4netns is not installed (scripts/install-deps.sh)"
}

need_host_ipv6() {
    [[ -e /proc/net/if_inet6 ]] || skip "this kernel has no IPv6 (no /proc/net/if_inet6)"
    python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
        skip "the host has no ::1"
}

# slirp4netns's IPv6 inside: the default route on tap0 (its gateway, in
# /proc/net/ipv6_route's hex) and tap0's addresses.
IPV6_ROUTE='awk "\$1 == \"00000000000000000000000000000000\" && \$2 == \"00\" && \$10 == \"tap0\" {print \$5}" /proc/net/ipv6_route'
IPV6_ADDRS='awk "\$6 == \"tap0\" {print \$1}" /proc/net/if_inet6'

# With slirp4netns the sandbox has IPv6 from the command's first instant
# (fd00::100/64 and a default route via fd00::2, which init sets: SLAAC
# would take seconds), and the host's ::1 stays out of reach: not through
# the gateway fd00::2 (slirp4netns's alias for the host's loopback, off
# with --disable-host-loopback), not as ::1 (the sandbox's own: a server
# there answers). The stack itself would connect a packet addressed to
# the host's loopback (127.0.0.1, ::ffff:127.0.0.1); only a raw or packet
# socket can make one, and the command can open neither.
test_slirp_ipv6_route_host_loopback_unreachable() {
    need_sandbox
    need_slirp
    need_host_ipv6
    write_net_tool
    make_repo repo
    cd repo
    local p6
    serve ::1 host6 120
    p6=$PORT
    # First in the batch: there at once, not seconds later.
    batch_sh route6 "$IPV6_ROUTE"
    batch_sh addr6 "$IPV6_ADDRS"
    batch_sh ra 'cat /proc/sys/net/ipv6/conf/tap0/accept_ra'
    probe_sh gw6 fd00::2 "$p6"
    probe_sh lo6 ::1 "$p6"
    batch_sh self6 "python3 $O/net.py serve ::1 $O/inside6 inside6 30 &
        i=0; while [ ! -e $O/inside6 ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
        python3 $O/net.py probe ::1 \$(cat $O/inside6)"
    batch_sh raw "python3 $O/net.py raw"
    WTBOX_NETSTACK=slirp4netns batch_run 0 --net=private
    assert_eq fd000000000000000000000000000002 "$(cat "$O/route6")" "the IPv6 default route inside"
    assert_contains "$O/addr6" fd000000000000000000000000000100
    # No SLAAC later: no second address and route.
    assert_eq 0 "$(cat "$O/ra")" "router advertisements accepted on tap0"
    assert_unreachable gw6
    assert_unreachable lo6
    assert_eq "ok inside6" "$(cat "$O/self6")" "a server on ::1 inside, from inside"
    assert_contains "$O/raw" "packet refused: "
    assert_contains "$O/raw" "raw4 refused: "
    assert_contains "$O/raw" "raw6 refused: "
    # The host's server was there all along.
    assert_eq "ok host6" "$(python3 "$O/net.py" probe ::1 "$p6")" "the host's server, from the host"
}

# IPv6 missing costs the sandbox IPv6, never the run: with IPv6 disabled
# in the sandbox's network namespace before slirp4netns configures it (a
# wrapper does it, through the namespace's own sysctls, as the stack joins
# it), the command runs with IPv4 and without an IPv6 address or route.
# The same run without the wrapper has IPv6 (so the check can fail).
test_slirp_ipv6_off_in_the_namespace_runs_ipv4_only() {
    need_sandbox
    need_slirp
    need_host_ipv6
    make_repo repo
    cd repo
    local how
    mkdir -p "$T/off"
    # Joins the namespaces as the stack does (the capabilities that come
    # with the user namespace last until an exec: no nsenter + sh).
    cat >"$T/off/off.py" <<'EOF'
import ctypes, os, sys
u = n = None
for a in sys.argv[1:]:
    if a.startswith("--userns-path="):
        u = a.split("=", 1)[1]
    elif a.startswith("/proc/") and a.endswith("/ns/net"):
        n = a
libc = ctypes.CDLL(None, use_errno=True)
for path, flag in ((u, 0x10000000), (n, 0x40000000)):  # CLONE_NEWUSER, CLONE_NEWNET
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, flag) != 0:
        sys.exit("setns '%s': %s" % (path, os.strerror(ctypes.get_errno())))
    os.close(fd)
for k in ("all", "default"):
    with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % k, "w") as f:
        f.write("1")
EOF
    printf '#!/bin/sh\npython3 %q "$@" || exit 1\nexec %q "$@"\n' "$T/off/off.py" \
        "$(command -v slirp4netns)" >"$T/off/slirp4netns"
    chmod +x "$T/off/slirp4netns"
    for how in on off; do
        batch_sh "$how.route6" "$IPV6_ROUTE"
        batch_sh "$how.addr6" "$IPV6_ADDRS"
        batch_sh "$how.route4" 'awk "NR > 1 && \$1 == \"tap0\" && \$2 == \"00000000\"" /proc/net/route'
        if [[ $how == on ]]; then
            WTBOX_NETSTACK=slirp4netns batch_run 0 --net=private
        else
            PATH="$T/off:$PATH" WTBOX_NETSTACK=slirp4netns batch_run 0 --net=private
        fi
        # The agent's line, its port's line, the verdict: no complaint.
        assert_eq 3 "$(wc -l <"$ERR")" "$how: stderr lines: $(cat "$ERR")"
        [[ -s $O/$how.route4 ]] || fail "$how: no IPv4 default route inside"
    done
    assert_eq fd000000000000000000000000000002 "$(cat "$O/on.route6")" "IPv6 on: the default route"
    assert_contains "$O/on.addr6" fd000000000000000000000000000100
    assert_eq "" "$(cat "$O/off.route6")" "IPv6 off: the IPv6 default route"
    assert_eq "" "$(cat "$O/off.addr6")" "IPv6 off: tap0's IPv6 addresses"
}

# A stand-in host made by the test (a user and network namespace with a
# veth pair: 192.0.2.2/24 and fd00::2/64 with default routes via
# 192.0.2.1 and fd00::1 that nobody answers, and 192.0.2.3 and fd01::3 as
# reachable "remote" addresses), so that traffic to the stacks' gateway
# addresses never leaves this machine. Inside it, a server on its loopback
# must not be reachable through the gateway address (IPv4 and IPv6) nor
# the resolver's address (on another port than 53; for slirp4netns also
# its IPv6 resolver fd00::3, the stand-in's resolv.conf naming ::1), while
# servers on 192.0.2.3 and fd01::3 are (outbound works over IPv4 and IPv6,
# and the probe can succeed); a name resolves through the stack's resolver
# to the stand-in's own resolver.
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
o=$1 p4=$2 p6=$3 pr=$4 pw=$5 pr6=$6 t=$7
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
echo "remote6 $(python3 "$o/net.py" probe fd01::3 "$pr6")"
if [ "$t" = slirp4netns ]; then
    # slirp4netns's IPv6 resolver: port 53 to the host's resolver (::1
    # here), any other port nowhere.
    echo "dns6 $(python3 "$o/net.py" probe fd00::3 53)"
    echo "dns6port $(python3 "$o/net.py" probe fd00::3 "$p6")"
fi
ns=$(awk '$1 == "nameserver" {print $2; exit}' /etc/resolv.conf)
echo "nsport $(python3 "$o/net.py" probe "$ns" "$pw")"
echo "dns $(python3 -c 'import socket; print(socket.gethostbyname("agent-dns.example"))' 2>&1)"
echo "nameservers $(grep '^nameserver' /etc/resolv.conf | tr '\n' ' ')"
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
ip -6 addr add fd01::3/64 dev v1 nodad
ip link set v0 up
ip link set v1 up
ip route add default via 192.0.2.1 dev v0
ip -6 route add default via fd00::1 dev v0
# Its resolvers on its loopback, as systemd-resolved's stub is (and, for
# IPv6, a local dnsmasq or unbound); the IPv6 one only takes TCP here.
printf 'nameserver 127.0.0.53\nnameserver ::1\n' >"$o/resolv.host"
mount --bind "$o/resolv.host" /etc/resolv.conf
python3 "$o/net.py" dns 127.0.0.53 120 &
dns4=$!
python3 "$o/net.py" serve ::1 "$o/dns6.port" hostdns6 120 53 &
python3 "$o/net.py" serve 127.0.0.1 "$o/lo4.port" hostlo 120 &
python3 "$o/net.py" serve ::1 "$o/lo6.port" hostlo6 120 &
python3 "$o/net.py" serve 192.0.2.3 "$o/remote.port" remote 120 &
python3 "$o/net.py" serve fd01::3 "$o/remote6.port" remote6 120 &
python3 "$o/net.py" serve 0.0.0.0 "$o/wild.port" hostwild 120 &
for f in lo4 lo6 remote remote6 wild dns6; do
    i=0
    while [ ! -s "$o/$f.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
done
cd "$repo"
for t in $STACKS; do
    WTBOX_NETSTACK=$t "$WTBOX" run --net=private --ro "$o" -- \
        sh "$o/inside.sh" "$o" "$(cat "$o/lo4.port")" "$(cat "$o/lo6.port")" \
        "$(cat "$o/remote.port")" "$(cat "$o/wild.port")" "$(cat "$o/remote6.port")" "$t" \
        >"$o/outer.$t" 2>"$o/outer.$t.err" </dev/null
done
# A host whose one resolver is IPv6 (on its loopback): slirp4netns
# forwards its IPv6 resolver's queries there, and nothing answers on the
# IPv4 side any more.
case " $STACKS " in
*" slirp4netns "*)
    kill "$dns4"
    printf 'nameserver ::1\n' >"$o/resolv.host"
    python3 "$o/net.py" dns ::1 60 &
    WTBOX_NETSTACK=slirp4netns "$WTBOX" run --net=private --ro "$o" -- sh -c '
        echo "nameservers $(grep "^nameserver" /etc/resolv.conf | tr "\n" " ")"
        echo "dns $(python3 -c "import socket; print(socket.gethostbyname(\"v6-dns.example\"))" 2>&1)"' \
        >"$o/v6only" 2>"$o/v6only.err" </dev/null
    ;;
esac
kill $(jobs -p) 2>/dev/null || true
EOF
    STACKS="$(stacks | tr '\n' ' ')" timeout 120 unshare -Urnm bash "$O/outer.sh" "$O" "$ip" \
        "$T/repo" </dev/null >"$T/outer.out" 2>&1 &
    local pid=$!
    wait_exit "$pid" 120
    [[ $RC == 0 ]] || fail "the stand-in host failed ($RC): $(_lib_show "$T/outer.out")"
    for t in $(stacks); do
        [[ -f $O/outer.$t ]] || fail "$t: no result: $(_lib_show "$T/outer.out")"
        assert_contains "$O/outer.$t" "remote ok remote"
        assert_contains "$O/outer.$t" "remote6 ok remote6"
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
            # IPv6 through slirp4netns: its gateway is refused like the
            # IPv4 one, its resolver forwards port 53 only.
            assert_contains "$O/outer.$t" "gw6 fd00:0000:0000:0000:0000:0000:0000:0002"
            assert_match "$O/outer.$t" "^gw6 no: "
            assert_contains "$O/outer.$t" "dns6 ok hostdns6"
            assert_match "$O/outer.$t" "^dns6port no: "
            # A host with IPv4 and IPv6 resolvers: both of the stack's
            # listed, IPv4 first; with IPv6 ones only, IPv6 first, and
            # names resolve.
            assert_contains "$O/outer.$t" "nameservers nameserver 10.0.2.3 nameserver fd00::3 "
            assert_contains "$O/v6only" "nameservers nameserver fd00::3 nameserver 10.0.2.3 "
            assert_contains "$O/v6only" "dns 192.0.2.77"
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
