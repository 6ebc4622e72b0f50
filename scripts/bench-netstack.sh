#!/usr/bin/env bash
# The user-mode network stacks of `wtbox run --net=private`, side by side in
# one run: slirp4netns and pasta, started with the options wtbox gives them.
#   - memory: AGENTS (default 50) network namespaces, each with its stack
#     attached; the sum of the stacks' RSS and of their own (anonymous,
#     unshared) memory, and how much the machine's MemAvailable dropped;
#   - start: from starting the stack to the default route in the
#     namespace (what `wtbox run --net=private` waits for), median of ROUNDS;
#   - throughput: bulk TCP from inside a namespace to a server on the
#     host's loopback, median of ROUNDS (default 5, at most 15) transfers of
#     MIB MiB (default 256), with direct loopback as the limit. For this
#     only, each stack runs with host-loopback access (slirp4netns without
#     --disable-host-loopback, to 10.0.2.2; pasta without --no-map-gw, to
#     its gateway address): wtbox never enables it.
# Traffic stays on the loopback and in the namespaces made here. Run as the
# unprivileged user the product is for (scripts/bench.sh does that).
#
#   scripts/bench-netstack.sh
set -euo pipefail

agents=${AGENTS:-50}
mib=${MIB:-256}
rounds=${ROUNDS:-5}
((rounds > 15)) && rounds=15
work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

tools=()
for t in slirp4netns pasta; do command -v "$t" >/dev/null && tools+=("$t"); done
if ((${#tools[@]} == 0)); then
	echo "network stacks: neither slirp4netns nor pasta installed (scripts/install-deps.sh)"
	exit 0
fi
if [[ ! -r /dev/net/tun || ! -w /dev/net/tun ]]; then
	echo "network stacks: /dev/net/tun is not usable by $(id -un) (scripts/install-deps.sh)"
	exit 0
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mem_available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# A network namespace (and its user namespace) held by a sleeping process;
# its pid in H. (No command substitution: its pipe would wait for them.)
holder() {
	unshare -Urn sleep 600 </dev/null >/dev/null 2>&1 &
	H=$!
	pids+=("$H")
}

# Start TOOL on the namespace of HOLDER, in the background; LOOPBACK=1
# gives it host-loopback access (throughput only). The stack's pid in S.
attach() { # TOOL HOLDER LOOPBACK
	local tool=$1 h=$2 lo=$3 opts=()
	case $tool in
	slirp4netns)
		((lo)) || opts+=(--disable-host-loopback)
		slirp4netns --configure --mtu=65520 "${opts[@]}" --userns-path="/proc/$h/ns/user" \
			--netns-type=path "/proc/$h/ns/net" tap0 >/dev/null 2>&1 &
		;;
	pasta)
		((lo)) || opts+=(--no-map-gw)
		pasta --foreground --quiet --config-net -t none -u none -T none -U none "${opts[@]}" \
			--dns-forward 169.254.1.1 --userns "/proc/$h/ns/user" \
			--netns "/proc/$h/ns/net" >/dev/null 2>&1 &
		;;
	esac
	S=$!
	pids+=("$S")
}

# Wait (bounded) until the namespace of HOLDER has a default route.
wait_route() { # HOLDER
	local i
	for ((i = 0; i < 1000; i++)); do
		awk 'NR > 1 && $2 == "00000000" {f = 1} END {exit !f}' "/proc/$1/net/route" && return 0
		sleep 0.01
	done
	echo "bench-netstack: no default route in the namespace of $1" >&2
	return 1
}

# The default gateway of HOLDER's namespace, dotted.
gateway_of() {
	local g
	g=$(awk 'NR > 1 && $2 == "00000000" {print $3; exit}' "/proc/$1/net/route")
	printf '%d.%d.%d.%d\n' "0x${g:6:2}" "0x${g:4:2}" "0x${g:2:2}" "0x${g:0:2}"
}

stop_all() { # PID...
	local p
	for p in "$@"; do kill "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# Sum of FIELD (kB) of /proc/PID/status over PIDs. (smaps_rollup, for PSS,
# is not readable: both tools make themselves non-dumpable; RssAnon, the
# memory a process does not share, stands for it.)
kb_of() { # FIELD PID...
	local f=$1
	shift
	local p
	for p in "$@"; do cat "/proc/$p/status"; done | awk -v f="$f:" '$1 == f {s += $2} END {print s + 0}'
}

declare -A rss anon avail tput ready failed
bench_memory() { # TOOL
	local tool=$1 hs=() ss=() h before after i
	for ((i = 0; i < agents; i++)); do
		holder
		hs+=("$H")
	done
	sleep 0.5
	before=$(mem_available_kb)
	for h in "${hs[@]}"; do
		attach "$tool" "$h" 0
		ss+=("$S")
	done
	for h in "${hs[@]}"; do wait_route "$h"; done
	sleep 1
	after=$(mem_available_kb)
	rss[$tool]=$(kb_of VmRSS "${ss[@]}")
	anon[$tool]=$(kb_of RssAnon "${ss[@]}")
	avail[$tool]=$((before - after))
	stop_all "${ss[@]}" "${hs[@]}"
}

# The sink: counts what each connection sends, answers the count.
cat >"$work/sink.py" <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
    c.sendall(b"%d\n" % n)
    c.close()
EOF
# The source: MIB MiB to ADDR:PORT, prints MiB/s once the sink counted them.
cat >"$work/source.py" <<'EOF'
import socket, sys, time
addr, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
buf = b"x" * (1 << 20)
c = socket.create_connection((addr, port), timeout=60)
t0 = time.monotonic()
for _ in range(mib):
    c.sendall(buf)
c.shutdown(socket.SHUT_WR)
got = int(c.makefile().readline())
dt = time.monotonic() - t0
assert got == mib << 20, got
print("%.1f" % (mib / dt))
EOF
python3 "$work/sink.py" </dev/null >"$work/port" 2>/dev/null &
pids+=($!)
for ((i = 0; i < 500; i++)); do [[ -s $work/port ]] && break; sleep 0.01; done
port=$(cat "$work/port")

# Throughput: one namespace per tool (and direct loopback), measured in
# turns, the order rotating every round, so that the machine's other load
# falls on all of them alike.
bench_throughput() {
	local -A hold addr v
	local t r k c got
	for t in "${tools[@]}"; do
		holder
		hold[$t]=$H
		sleep 0.2
		attach "$t" "$H" 1
		wait_route "$H"
		if [[ $t == slirp4netns ]]; then addr[$t]=10.0.2.2; else addr[$t]=$(gateway_of "$H"); fi
	done
	local order=("${tools[@]}" direct)
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < ${#order[@]}; k++)); do
			c=${order[(k + r) % ${#order[@]}]}
			# A transfer that fails is counted, not measured.
			if [[ $c == direct ]]; then
				got=$(timeout 120 python3 "$work/source.py" 127.0.0.1 "$port" "$mib" 2>/dev/null) || got=""
			else
				got=$(nsenter --preserve-credentials -U -n -t "${hold[$c]}" \
					timeout 120 python3 "$work/source.py" "${addr[$c]}" "$port" "$mib" 2>/dev/null) || got=""
			fi
			if [[ -n $got ]]; then v[$c]+="$got "; else failed[$c]=$((${failed[$c]:-0} + 1)); fi
		done
	done
	for c in "${order[@]}"; do
		# shellcheck disable=SC2086 # one value per word
		tput[$c]=$(printf '%s\n' ${v[$c]} | median)
	done
}

now_ns() { date +%s%N; }

# Start: from starting the stack to the default route, one namespace at a
# time.
bench_start() { # TOOL
	local tool=$1 h r t0 v=()
	for ((r = 0; r < rounds; r++)); do
		holder
		h=$H
		sleep 0.1
		t0=$(now_ns)
		attach "$tool" "$h" 0
		wait_route "$h"
		v+=($(($(now_ns) - t0)))
		stop_all "$S" "$h"
	done
	ready[$tool]=$(printf '%s\n' "${v[@]}" | median)
}

for t in "${tools[@]}"; do
	bench_start "$t"
	bench_memory "$t"
done
bench_throughput

echo "network stacks, as $(id -un): $agents namespaces each with its stack; throughput: median of $rounds x $mib MiB"
for t in "${tools[@]}"; do
	printf '%-12s %s\n' "$t" "$(awk -v r="${rss[$t]}" -v p="${anon[$t]}" -v a="${avail[$t]}" \
		-v n="$agents" -v rd="${ready[$t]}" -v tp="${tput[$t]}" -v d="${tput[direct]}" 'BEGIN {
		printf "per agent: RSS %.2f MiB, anon %.2f MiB, MemAvailable drop %.2f MiB;  ready in %.1f ms;  throughput %.0f MiB/s (%.2fx direct loopback)",
			r / n / 1024, p / n / 1024, a / n / 1024, rd / 1e6, tp, (d > 0 ? tp / d : 0) }')"
done
printf '%-12s %s MiB/s\n' "direct" "${tput[direct]}"
for c in "${!failed[@]}"; do
	echo "  $c: ${failed[$c]} of $rounds transfers failed (not counted)"
done
if ((${#tools[@]} == 2)); then
	awk -v rs="${rss[slirp4netns]}" -v rp="${rss[pasta]}" -v ps="${anon[slirp4netns]}" \
		-v pp="${anon[pasta]}" -v as="${avail[slirp4netns]}" -v ap="${avail[pasta]}" \
		-v ts="${tput[slirp4netns]}" -v tp="${tput[pasta]}" 'BEGIN {
		printf "pasta / slirp4netns: RSS %.2fx, anon %.2fx, MemAvailable drop %.2fx, throughput %.2fx\n",
			rp / rs, pp / ps, (as > 0 ? ap / as : 0), (ts > 0 ? tp / ts : 0) }'
fi
