#!/usr/bin/env bash
# The port forwarder, side by side in one run, as an unprivileged user:
# bulk TCP throughput from the host into a server and connect + request +
# close latency, for
#   direct   tcpbench serve on the host's 127.0.0.1, nothing between (the limit)
#   wtbox    `wtbox run -- tcpbench serve $PORT`, client on 127.0.0.1:P
#   pasta    `pasta --config-net -t 127.0.0.1/P -- tcpbench serve P`
#   slirp    slirp4netns add_hostfwd 127.0.0.1:P into `unshare -Urn tcpbench serve`
# then the wtbox supervisor's memory with 100 relayed connections open.
# Prints medians and the ratios against the goals of issue 4; a peer that is
# not installed (or cannot start here) is skipped with a message. Started as
# root, it runs itself as the unprivileged user wtbox-test, from a copy that
# user can read.
#
#   scripts/bench-forward.sh [WTBOX [TCPBENCH]]   (default: build/wtbox,
#                                                  build/helpers/tcpbench)
#   FWD_ROUNDS=N (5)    bulk and latency rounds, the order rotated each round
#   FWD_BYTES=N (1 GiB) bytes per bulk transfer
#   FWD_CONNS=N (1000)  sequential connections per latency round
#   FWD_HOLD=N (100)    connections held open for the memory measurement
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
wtbox=$(realpath "${1:-$here/${BUILD:-build}/wtbox}")
tcpbench=$(realpath "${2:-$here/${BUILD:-build}/helpers/tcpbench}")
[[ -x $wtbox ]] || { echo "bench-forward: build wtbox first (make)" >&2; exit 1; }
[[ -x $tcpbench ]] || {
	echo "bench-forward: build the client first (make build/helpers/tcpbench)" >&2
	exit 1
}

if (($(id -u) == 0)); then
	user=${WTBOX_TEST_USER:-wtbox-test}
	id -u "$user" >/dev/null 2>&1 || useradd -m "$user"
	copy=$(mktemp -d /tmp/wtbox-bench-fwd.XXXXXX)
	trap 'rm -rf "$copy"' EXIT
	cp "$wtbox" "$tcpbench" "$0" "$copy/"
	cp -r "$here/policies" "$copy/policies"
	chown -R "$user:" "$copy"
	rc=0
	(cd "$copy" && setpriv --reuid="$user" --regid="$user" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin WTBOX_POLICY_DIR="$copy/policies" \
		${FWD_ROUNDS:+FWD_ROUNDS=$FWD_ROUNDS} ${FWD_BYTES:+FWD_BYTES=$FWD_BYTES} \
		${FWD_CONNS:+FWD_CONNS=$FWD_CONNS} ${FWD_HOLD:+FWD_HOLD=$FWD_HOLD} \
		bash "$copy/$(basename "$0")" "$copy/wtbox" "$copy/tcpbench") || rc=$?
	exit "$rc"
fi

rounds=${FWD_ROUNDS:-5}
bytes=${FWD_BYTES:-1073741824}
conns=${FWD_CONNS:-1000}
hold=${FWD_HOLD:-100}
bindir=$(dirname "$tcpbench")

work=$(mktemp -d)
pids=()
cleanup() {
	local p i
	exec 9>&- 2>/dev/null || true
	# Newest first: a client before its server, a server before its
	# forwarder. TERM, a bounded wait, then KILL.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		p=${pids[i]}
		kill "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
	XDG_CONFIG_HOME="$work/config" GIT_CONFIG_NOSYSTEM=1 WTBOX_TRASH_GRACE=0 \
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
mkdir -p "$HOME"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Wait (at most 10 s) for PATTERN in FILE while process PID lives.
wait_for() {
	local file=$1 pattern=$2 pid=$3
	for _ in $(seq 100); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# A port nothing listens on, outside wtbox's default range (20000-29999)
# and the ephemeral range. Checked, then used: a rare clash shows as a
# column that did not start.
used_ports=" "
free_port() {
	local p busy
	busy=$(awk 'NR > 1 && $4 == "0A" {split($2, a, ":"); print strtonum("0x" a[2])}' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' ')
	for _ in $(seq 100); do
		p=$((30000 + RANDOM % 2700))
		[[ " $busy $used_ports " == *" $p "* ]] || { used_ports+="$p "; echo "$p"; return; }
	done
	echo "bench-forward: no free port" >&2
	return 1
}

declare -A port skip
cols=()

start_direct() {
	port[direct]=$(free_port)
	"$tcpbench" serve "${port[direct]}" >"$work/direct.out" 2>&1 &
	pids+=($!)
	wait_for "$work/direct.out" listening= $! || { skip[direct]="did not start: $(cat "$work/direct.out")"; return; }
}

wtbox_pid=
start_wtbox() {
	git init -q -b main "$work/repo"
	(cd "$work/repo" && echo bench >README && git add -A && git commit -qm init)
	# /tmp and the home directory are hidden in the sandbox: the server's
	# directory is granted read-only. -t bounds the run if this script
	# dies without its cleanup.
	(cd "$work/repo" && exec "$wtbox" run --name fwd -t 600 --ro "$bindir" -- \
		/bin/sh -c 'exec "$0" serve "$PORT"' "$tcpbench" >"$work/wtbox.out" 2>"$work/wtbox.err") &
	wtbox_pid=$!
	pids+=($wtbox_pid)
	if ! wait_for "$work/wtbox.out" listening= $wtbox_pid; then
		skip[wtbox]="did not start: $(tr '\n' ' ' <"$work/wtbox.err")"
		return
	fi
	# "fwd: http://127.0.0.1:P -> :P"
	port[wtbox]=$(sed -n 's|^fwd: http://127\.0\.0\.1:\([0-9]*\) -> .*|\1|p' "$work/wtbox.err" | head -n 1)
	[[ -n ${port[wtbox]} ]] || skip[wtbox]="no port mapping printed: $(tr '\n' ' ' <"$work/wtbox.err")"
}

pasta_pid=
start_pasta() {
	command -v pasta >/dev/null || { skip[pasta]="pasta not installed (Debian package passt)"; return; }
	port[pasta]=$(free_port)
	# Only the one TCP port, bound on the host's loopback; nothing else
	# forwarded either way.
	pasta --config-net -f -q -t "127.0.0.1/${port[pasta]}" -u none -T none -U none -- \
		"$tcpbench" serve "${port[pasta]}" >"$work/pasta.out" 2>&1 &
	pasta_pid=$!
	pids+=($pasta_pid)
	wait_for "$work/pasta.out" listening= $pasta_pid || {
		skip[pasta]="did not start: $(grep -v '^Failed to send' "$work/pasta.out" | tr '\n' ' ')"
		return
	}
	# The server is pid 1 of pasta's pid namespace: end it by its host pid.
	local c
	for c in $(cat "/proc/$pasta_pid/task/$pasta_pid/children" 2>/dev/null); do pids+=("$c"); done
}

slirp_pid=
start_slirp() {
	command -v slirp4netns >/dev/null || { skip[slirp]="slirp4netns not installed"; return; }
	command -v unshare >/dev/null || { skip[slirp]="unshare not installed (util-linux)"; return; }
	port[slirp]=$(free_port)
	# unshare execs the server: its pid is the namespace's process.
	unshare --user --map-root-user --net -- "$tcpbench" serve "${port[slirp]}" 0.0.0.0 \
		>"$work/slirp-srv.out" 2>&1 &
	local srv=$!
	pids+=($srv)
	wait_for "$work/slirp-srv.out" listening= $srv || {
		skip[slirp]="server did not start in a new user+net namespace: $(cat "$work/slirp-srv.out")"
		return
	}
	# slirp4netns also ends when fd 9's other end closes, even if this
	# script is killed before its cleanup.
	mkfifo "$work/slirp.exit"
	exec 9<>"$work/slirp.exit"
	slirp4netns --configure --mtu 65520 --exit-fd 8 --api-socket "$work/slirp.api" "$srv" tap0 \
		8<"$work/slirp.exit" 9>&- >"$work/slirp.out" 2>&1 &
	slirp_pid=$!
	pids+=($slirp_pid)
	for _ in $(seq 100); do
		[[ -S $work/slirp.api ]] && break
		kill -0 $slirp_pid 2>/dev/null || break
		sleep 0.1
	done
	"$tcpbench" call "$work/slirp.api" "{\"execute\": \"add_hostfwd\", \"arguments\":
		{\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": ${port[slirp]},
		\"guest_port\": ${port[slirp]}}}" >"$work/slirp.api.out" 2>&1 ||
		skip[slirp]="add_hostfwd failed: $(cat "$work/slirp.out" "$work/slirp.api.out" | tr '\n' ' ')"
}

start_direct
start_wtbox
start_pasta
start_slirp

# A short transfer and a few connections each: the column works, and the
# first connections' costs (socket pools, page cache) are paid outside the
# measurement.
for c in direct wtbox pasta slirp; do
	if [[ -z ${skip[$c]:-} ]]; then
		if "$tcpbench" send 127.0.0.1 "${port[$c]}" 67108864 >/dev/null 2>"$work/warm.err" &&
			"$tcpbench" rr 127.0.0.1 "${port[$c]}" 50 >/dev/null 2>>"$work/warm.err"; then
			cols+=("$c")
		else
			skip[$c]="warm-up failed: $(tr '\n' ' ' <"$work/warm.err")"
		fi
	fi
	[[ -z ${skip[$c]:-} ]] || echo "forward bench: $c column skipped: ${skip[$c]}"
done

declare -A mbps lat50 lat99
for ((r = 0; r < rounds; r++)); do
	for ((k = 0; k < ${#cols[@]}; k++)); do
		c=${cols[(k + r) % ${#cols[@]}]}
		out=$("$tcpbench" send 127.0.0.1 "${port[$c]}" "$bytes")
		mbps[$c]+="$(sed 's/.*mbps=\([0-9.]*\).*/\1/' <<<"$out") "
		out=$("$tcpbench" rr 127.0.0.1 "${port[$c]}" "$conns")
		lat50[$c]+="$(sed 's/.*median_us=\([0-9.]*\).*/\1/' <<<"$out") "
		lat99[$c]+="$(sed 's/.*p99_us=\([0-9.]*\).*/\1/' <<<"$out") "
	done
done
med() { printf '%s\n' $1 | median; }

awk -v u="$(id -un)" -v b="$bytes" -v n="$rounds" -v c="$conns" 'BEGIN {
	printf "port forwarding, as %s: %.0f MiB bulk host -> server, %d sequential connections, median of %d rounds\n",
		u, b / 1048576, c, n }'
for c in "${cols[@]}"; do
	awk -v c="$c" -v t="$(med "${mbps[$c]}")" -v l="$(med "${lat50[$c]}")" \
		-v p="$(med "${lat99[$c]}")" 'BEGIN {
		printf "  %-8s %9.1f MB/s   latency median %7.1f us   p99 %8.1f us\n", c, t, l, p }'
done

have() { [[ " ${cols[*]} " == *" $1 "* ]]; }
if have wtbox && have direct; then
	awk -v w="$(med "${mbps[wtbox]}")" -v d="$(med "${mbps[direct]}")" \
		-v wl="$(med "${lat50[wtbox]}")" -v dl="$(med "${lat50[direct]}")" \
		-v wp="$(med "${lat99[wtbox]}")" -v dp="$(med "${lat99[direct]}")" 'BEGIN {
		printf "  wtbox / direct, throughput   %6.2fx   (goal >= 0.80x)%s\n", w / d, (w / d >= 0.8) ? "" : "   NOT MET"
		printf "  wtbox / direct, latency      %6.2fx   (goal <= 2.00x)%s\n", wl / dl, (wl / dl <= 2) ? "" : "   NOT MET"
		printf "  wtbox / direct, p99 latency  %6.2fx\n", wp / dp }'
fi
if have wtbox && have pasta; then
	awk -v w="$(med "${mbps[wtbox]}")" -v p="$(med "${mbps[pasta]}")" \
		-v wl="$(med "${lat50[wtbox]}")" -v pl="$(med "${lat50[pasta]}")" 'BEGIN {
		printf "  wtbox / pasta, throughput    %6.2fx   (goal > 1.00x)%s\n", w / p, (w / p > 1) ? "" : "   NOT MET"
		printf "  wtbox / pasta, latency       %6.2fx\n", wl / pl }'
fi
if have wtbox && have slirp; then
	awk -v w="$(med "${mbps[wtbox]}")" -v s="$(med "${mbps[slirp]}")" 'BEGIN {
		printf "  wtbox / slirp4netns, throughput %5.2fx\n", w / s }'
fi

# Memory: the supervisor (the `wtbox run` process, which relays) idle and
# with FWD_HOLD connections open through it, each answered by the server.
# Pss shares each page among the processes that map it (the libraries, and
# the pages init still shares with the supervisor since clone); '?' where
# it cannot be read (pasta makes itself non-dumpable).
kb() {
	local v
	v=$(awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/${3:-status}" 2>/dev/null) || true
	echo "${v:-?}"
}
mem_line() {
	local label=$1 pid=$2
	printf '  %-30s VmRSS %6s kB  VmHWM %6s kB  RssAnon %6s kB  RssFile %6s kB  Pss %6s kB\n' \
		"$label" "$(kb "$pid" VmRSS)" "$(kb "$pid" VmHWM)" "$(kb "$pid" RssAnon)" \
		"$(kb "$pid" RssFile)" "$(kb "$pid" Pss smaps_rollup)"
}
hold_open() {
	local c=$1
	rm -f "$work/hold.in" "$work/hold.out"
	mkfifo "$work/hold.in"
	"$tcpbench" hold 127.0.0.1 "${port[$c]}" "$hold" 60 <"$work/hold.in" >"$work/hold.out" 2>&1 &
	hold_pid=$!
	pids+=($hold_pid)
	exec 7>"$work/hold.in"
	wait_for "$work/hold.out" held= $hold_pid
}
hold_close() {
	exec 7>&-
	for _ in $(seq 100); do kill -0 "$hold_pid" 2>/dev/null || break; sleep 0.1; done
	wait "$hold_pid" 2>/dev/null || true
}
if have wtbox; then
	echo "  memory, $hold connections held open (goal: wtbox supervisor VmRSS < 8192 kB):"
	mem_line "wtbox supervisor, idle" "$wtbox_pid"
	fds0=$(ls "/proc/$wtbox_pid/fd" | wc -l)
	if hold_open wtbox; then
		mem_line "wtbox supervisor, $hold open" "$wtbox_pid"
		fds1=$(ls "/proc/$wtbox_pid/fd" | wc -l)
		awk -v r="$(kb "$wtbox_pid" VmRSS)" -v a="$(kb "$wtbox_pid" RssAnon)" \
			-v f0="$fds0" -v f1="$fds1" -v n="$hold" 'BEGIN {
			printf "  %-30s VmRSS %6d kB%s; %d fds for %d connections (%.1f each)\n",
				"", r, (r < 8192) ? " (goal met)" : " (goal < 8192 kB) NOT MET",
				f1 - f0, n, (f1 - f0) / n }'
	else
		echo "  wtbox: could not hold $hold connections: $(cat "$work/hold.out")"
	fi
	hold_close
	for c in pasta slirp; do
		have "$c" || continue
		[[ $c == pasta ]] && p=$pasta_pid || p=$slirp_pid
		if hold_open "$c"; then
			mem_line "for scale: $c, $hold open" "$p"
		fi
		hold_close
	done
fi
