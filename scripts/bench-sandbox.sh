#!/usr/bin/env bash
# Sandbox start-up, side by side in one run: `wtbox run` on an existing
# agent, bubblewrap with every namespace, unshare(1), and a bare /bin/true.
# Run as the unprivileged user the product is for (scripts/bench.sh does
# that when started as root). Prints medians and the wtbox/bwrap ratio,
# and wtbox's own phase times and peak RSS (WTBOX_TIMING=1).
#
#   scripts/bench-sandbox.sh WTBOX-BINARY
set -euo pipefail

wtbox=$1
rounds=${ROUNDS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
	XDG_CONFIG_HOME="$work/config" GIT_CONFIG_NOSYSTEM=1 \
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
mkdir -p "$HOME"

# The clock without a fork (bash's EPOCHREALTIME, in microseconds): a
# `date` per reading would add two process starts to every sample.
now_ns() { printf '%s000' "${EPOCHREALTIME//[!0-9]/}"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

git init -q -b main "$work/repo"
(cd "$work/repo" && for i in $(seq 100); do echo "$i" >"f$i"; done && git add -A && git commit -qm init)
cd "$work/repo"
# An agent with kept work, so every run below reuses it.
# --net=none: bwrap's --unshare-all gives an empty network namespace too
# (the network stack of --net=private is measured by bench-netstack.sh).
"$wtbox" run --net=none --name bench -- sh -c 'echo kept > notes.txt' 2>/dev/null

have_bwrap=1
command -v bwrap >/dev/null || have_bwrap=0
declare -A t
cmds=(wtbox unshare bare)
((have_bwrap)) && cmds=(wtbox bwrap unshare bare)
timing="$work/timing"
for ((r = 0; r < rounds; r++)); do
	# Rotate the order every round: no command always runs first.
	for ((k = 0; k < ${#cmds[@]}; k++)); do
		c=${cmds[(k + r) % ${#cmds[@]}]}
		t0=${EPOCHREALTIME//[!0-9]/}000
		case $c in
		wtbox) WTBOX_TIMING=1 "$wtbox" run --net=none --name bench -- /bin/true 2>>"$timing" ;;
		bwrap) bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc \
			--tmpfs /tmp /bin/true ;;
		unshare) unshare -Urmnpf --mount-proc /bin/true ;;
		bare) /bin/true ;;
		esac
		t1=${EPOCHREALTIME//[!0-9]/}000
		t[$c]+="$((t1 - t0)) "
	done
done

med() { printf '%s\n' ${t[$1]} | median; }
printf '%-44s' "sandbox start, as $(id -un)"
for c in "${cmds[@]}"; do
	awk -v c="$c" -v v="$(med "$c")" 'BEGIN { printf "%s %.2f ms   ", c, v / 1e6 }'
done
echo
if ((have_bwrap)); then
	awk -v w="$(med wtbox)" -v b="$(med bwrap)" -v n="$rounds" 'BEGIN {
		printf "%-44s %.2fx   (median of %d, goal <= 1.50x)\n", "  wtbox run / bwrap, whole run", w / b, n }'
else
	echo "  bwrap not installed: no ratio (scripts/install-deps.sh installs bubblewrap)"
fi
# Phase times from wtbox itself: the sandbox phase alone against bwrap.
# The phase ends when init reports every process gone; init's own exit
# (the kernel taking its namespaces apart, about 0.5 ms) overlaps the
# finish and is in no phase, while bwrap's time includes its teardown.
sandbox_us=$(grep -o 'sandbox=[0-9]*' "$timing" | cut -d= -f2 | median)
# The git and record work: the sum of the three phases' medians (a mean
# would count the first run's one-time work: the index's stat data saved
# after the agent's creation).
git_us=0
for phase in prepare acquire finish; do
	m=$(grep -o "$phase=[0-9]*" "$timing" | cut -d= -f2 | median)
	git_us=$(awk -v a="$git_us" -v b="$m" 'BEGIN { print a + b }')
done
rss=$(grep -o 'rss=[0-9]*' "$timing" | cut -d= -f2 | sort -n | tail -n 1)
anon=$(grep -o 'anon=[0-9]*' "$timing" | cut -d= -f2 | sort -n | tail -n 1)
awk -v s="$sandbox_us" -v b="$( ((have_bwrap)) && med bwrap || echo 0)" -v n="$rounds" \
	-v g="$git_us" 'BEGIN {
	printf "%-44s %.2f ms", "  wtbox sandbox phase alone (median)", s / 1e3
	if (b > 0) printf "   vs bwrap %.2fx (goal <= 1.00x; without init'"'"'s teardown)", s * 1e3 / b
	printf "\n%-44s %.2f ms per run (medians)\n", "  wtbox git + records (prepare, acquire, finish)", g / 1e3 }'
echo "  wtbox supervisor peak RSS: ${rss} kB (goal < 4096 kB); its own (anonymous) memory: ${anon} kB"
bare_ver=$( { /usr/bin/time -f %M "$wtbox" --version >/dev/null; } 2>&1 )
echo "  for scale: 'wtbox --version' alone peaks at ${bare_ver} kB (libgit2 and its libraries loaded)"

# ------------------------------------------------------ background agents
# wtbox ls with 200 records (the bench agent, rec0 and 198 copies of rec0
# under their own names),
# each claiming a running supervisor (a pid that is not one), so ls reads,
# parses and checks the liveness of every one.
echo
"$wtbox" run --name rec0 --keep -- true 2>/dev/null
rec0=$(echo "$XDG_STATE_HOME"/wtbox/*/rec0)
for ((i = 1; i < 199; i++)); do
	mkdir -p "${rec0%/rec0}/rec$i"
	jq --arg n "rec$i" --argjson p "$((4000000 + i))" \
		'.name = $n | .state = "running" | .pid = $p | .sandbox_pid = $p' \
		"$rec0/record.json" >"${rec0%/rec0}/rec$i/record.json"
done
n=$("$wtbox" ls --json | jq length)
hyperfine -N --warmup 3 --runs "$((rounds * 2))" --export-json "$work/ls.json" \
	"$wtbox ls" "$wtbox ls --json" >/dev/null 2>&1
jq -r '.results[] | "\(.command | sub(".*/wtbox"; "wtbox"))\t\(.median * 1000)"' "$work/ls.json" |
	while IFS=$'\t' read -r c m; do
		awk -v c="$c" -v m="$m" -v k="$n" 'BEGIN {
			printf "%-44s %6.2f ms   (median, %d records, goal < 20 ms)\n", c, m, k }'
	done
for ((i = 1; i < 199; i++)); do rm -rf "${rec0%/rec0}/rec$i"; done

# An idle detached supervisor: its peak RSS (with libgit2 and the other
# libraries mapped) and its own anonymous memory.
"$wtbox" run -d --name idle -- sleep 600 >/dev/null
pid=$("$wtbox" ls --json | jq '.[] | select(.name == "idle") | .pid')
sleep 0.5
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
echo "  idle detached supervisor: peak RSS ${hwm} kB (goal < 2048 kB), anonymous ${anon} kB"
"$wtbox" stop -t 5 idle >/dev/null

# 50 detached agents, each on its existing worktree: the time to start
# them one after the other, and the machine's memory they take when idle.
for ((i = 0; i < 50; i++)); do "$wtbox" run --name "bg$i" --keep -- true 2>/dev/null; done
sleep 1
avail0=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
t0=$(now_ns)
for ((i = 0; i < 50; i++)); do "$wtbox" run -d --name "bg$i" -- sleep 600 >/dev/null; done
t1=$(now_ns)
sleep 2
avail1=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
running=$("$wtbox" ls --json | jq '[.[] | select(.status == "running")] | length')
awk -v t="$((t1 - t0))" -v a="$((avail0 - avail1))" -v r="$running" 'BEGIN {
	printf "%-44s %.2f s (%.1f ms each), %d running\n", "  start 50 detached agents (existing worktrees)", t / 1e9, t / 50e6, r
	printf "%-44s %.1f MiB (%.0f kB per agent: supervisor + sandbox)\n", "  MemAvailable drop with the 50 idle", a / 1024, a / 50 }'
t0=$(now_ns)
for ((i = 0; i < 50; i++)); do "$wtbox" stop -t 5 "bg$i" >/dev/null & done
wait
t1=$(now_ns)
awk -v t="$((t1 - t0))" 'BEGIN { printf "%-44s %.2f s\n", "  stop all 50 (in parallel)", t / 1e9 }'
