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

now_ns() { date +%s%N; }
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
		t0=$(now_ns)
		case $c in
		wtbox) WTBOX_TIMING=1 "$wtbox" run --net=none --name bench -- /bin/true 2>>"$timing" ;;
		bwrap) bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc \
			--tmpfs /tmp /bin/true ;;
		unshare) unshare -Urmnpf --mount-proc /bin/true ;;
		bare) /bin/true ;;
		esac
		t1=$(now_ns)
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
sandbox_us=$(grep -o 'sandbox=[0-9]*' "$timing" | cut -d= -f2 | median)
git_us=$(grep -o 'prepare=[0-9]*\|acquire=[0-9]*\|finish=[0-9]*' "$timing" |
	cut -d= -f2 | awk '{s += $1} END {print s}')
rss=$(grep -o 'rss=[0-9]*' "$timing" | cut -d= -f2 | sort -n | tail -n 1)
anon=$(grep -o 'anon=[0-9]*' "$timing" | cut -d= -f2 | sort -n | tail -n 1)
awk -v s="$sandbox_us" -v b="$( ((have_bwrap)) && med bwrap || echo 0)" -v n="$rounds" \
	-v g="$git_us" 'BEGIN {
	printf "%-44s %.2f ms", "  wtbox sandbox phase alone (median)", s / 1e3
	if (b > 0) printf "   vs bwrap %.2fx (goal <= 1.00x)", s * 1e3 / b
	printf "\n%-44s %.2f ms per run\n", "  wtbox git + records (prepare, acquire, finish)", g / n / 1e3 }'
echo "  wtbox supervisor peak RSS: ${rss} kB (goal < 4096 kB); its own (anonymous) memory: ${anon} kB"
bare_ver=$( { /usr/bin/time -f %M "$wtbox" --version >/dev/null; } 2>&1 )
echo "  for scale: 'wtbox --version' alone peaks at ${bare_ver} kB (libgit2 and its libraries loaded)"
