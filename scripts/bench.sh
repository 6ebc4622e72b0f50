#!/usr/bin/env bash
# wtbox benchmarks: each one times wtbox side by side with its peer, in one
# run, alternating the order every round, and prints the median ratio.
# Numbers are reported, never asserted: record them in docs/BENCHMARKS.md.
#
#   scripts/bench.sh [REPO...]      extra local repositories to measure too
#   ROUNDS=N (default 15)           rounds per measurement
#   BUILD=dir (default build)       where wtbox was built
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
wtbox="$here/${BUILD:-build}/wtbox"
rounds=${ROUNDS:-15}
[[ -x $wtbox ]] || { echo "bench: build wtbox first (make)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
	XDG_CONFIG_HOME="$work/config" GIT_CONFIG_NOSYSTEM=1 WTBOX_TRASH_GRACE=0 \
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
mkdir -p "$HOME"

now_ns() { date +%s%N; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# A repository of N files in nested directories, one commit.
make_repo() {
	local dir=$1 n=$2
	git init -q -b main "$dir"
	(
		cd "$dir"
		for ((i = 0; i < n; i++)); do
			d="src/d$((i % 50))/e$((i % 7))"
			[[ -d $d ]] || mkdir -p "$d"
			printf 'file %d\nline two\n' "$i" >"$d/f$i.txt"
		done
		git add -A
		git commit -qm "bench: $n files"
	)
}

# Create + run `true` + remove, wtbox against git worktree, in one repo.
bench_lifecycle() {
	local repo=$1 label=$2
	local wt_git="$work/git-wt" tw=() tg=()
	for ((r = 0; r < rounds; r++)); do
		for which in $( ((r % 2)) && echo "git wtbox" || echo "wtbox git"); do
			local t0 t1
			t0=$(now_ns)
			if [[ $which == wtbox ]]; then
				"$wtbox" -C "$repo" run --name bench -- true 2>/dev/null
			else
				git -C "$repo" worktree add -q -b wtbox/bench-git "$wt_git" HEAD
				(cd "$wt_git" && true)
				git -C "$repo" worktree remove "$wt_git"
				git -C "$repo" branch -q -D wtbox/bench-git
			fi
			t1=$(now_ns)
			if [[ $which == wtbox ]]; then tw+=($((t1 - t0))); else tg+=($((t1 - t0))); fi
		done
	done
	local mw mg
	mw=$(printf '%s\n' "${tw[@]}" | median)
	mg=$(printf '%s\n' "${tg[@]}" | median)
	awk -v l="$label" -v w="$mw" -v g="$mg" -v n="$rounds" 'BEGIN {
		printf "%-44s wtbox %8.1f ms   git %8.1f ms   ratio %.2fx   (median of %d, goal <= 1.20x)\n",
			l, w / 1e6, g / 1e6, w / g, n }'
}

# A repository of N files whose history reaches about M objects, written
# with git fast-import: the N files, then commits that each change 40 of
# them. Same worktree size as make_repo's, ten times the objects.
make_object_repo() {
	local dir=$1 files=$2 objects=$3
	git init -q -b main "$dir"
	awk -v want="$objects" -v nf="$files" 'BEGIN {
		n = 0; c = 0
		while (n < want) {
			printf "commit refs/heads/main\ncommitter bench <b@x> %d +0000\n", 1700000000 + c
			printf "data 8\ncommit%02d\n", c % 100
			count = (c == 0) ? nf : 40
			for (i = 0; i < count; i++) {
				f = (c == 0) ? i : (c * 7 + i * 13) % nf
				body = sprintf("file %d version %d\n", f, c)
				printf "M 100644 inline src/d%d/e%d/f%d.txt\ndata %d\n%s\n", f % 50, f % 7, f, length(body), body
			}
			n += (c == 0) ? nf + 402 : 3 * count + 2; c++
		}
	}' | git -C "$dir" fast-import --quiet
	git -C "$dir" checkout -q main
}

# One small commit made inside the sandbox, imported when the run ends:
# the import's own time (WTBOX_TIMING), per repository.
bench_import_in() {
	local repo=$1 timing=$2
	"$wtbox" -C "$repo" run --name imp --keep -- true 2>/dev/null
	for ((r = 0; r < rounds; r++)); do
		WTBOX_TIMING=1 "$wtbox" -C "$repo" run --name imp -- \
			sh -c 'echo "$$" >>bench-import.txt && git add bench-import.txt &&
				git commit -qm "bench import"' 2>>"$timing" >/dev/null
	done
	grep -o 'import=[0-9]*' "$timing" | cut -d= -f2 | median
}

bench_import() {
	local small big objects
	make_object_repo "$work/repo50k" 5000 50000
	objects=$(git -C "$work/repo50k" count-objects -v | awk '/^count:|^in-pack:/ {n += $2} END {print n}')
	small=$(bench_import_in "$work/repo5k" "$work/timing-import-5k")
	big=$(bench_import_in "$work/repo50k" "$work/timing-import-50k")
	awk -v s="$small" -v b="$big" -v o="$objects" -v n="$rounds" 'BEGIN {
		printf "%-44s %8.2f ms   (median of %d, goal < 50 ms)\n", "import of one commit, 5,000 files", s / 1e3, n
		printf "%-44s %8.2f ms   (median of %d)\n", "import of one commit, 5,000 files, " o " objects", b / 1e3, n
		r = (s > b) ? s / b : b / s
		printf "%-44s %8.2fx   (goal < 2x)\n", "ratio, larger over smaller", r }'
}

echo "wtbox benchmarks on $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "$("$wtbox" --version); $(git --version)"
echo

make_repo "$work/repo5k" 5000
bench_lifecycle "$work/repo5k" "worktree lifecycle, 5,000 files"

bench_import

for extra in "$@"; do
	bench_lifecycle "$(cd "$extra" && pwd)" "worktree lifecycle, $(basename "$extra")"
done

# The sandbox as the product's main user runs it: without root. As root,
# run it as the unprivileged test user from a copy it can read.
echo
if (($(id -u) == 0)); then
	user=${WTBOX_TEST_USER:-wtbox-test}
	id -u "$user" >/dev/null 2>&1 || useradd -m "$user"
	copy=$(mktemp -d /tmp/wtbox-bench.XXXXXX)
	# The policies too: the copy is not in a source tree, where wtbox
	# would find them next to its build directory.
	cp -r "$wtbox" "$here/scripts/bench-sandbox.sh" "$here/scripts/bench-netstack.sh" \
		"$here/policies" "$copy/"
	chown -R "$user:" "$copy"
	(cd "$copy" && setpriv --reuid="$user" --regid="$user" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin ROUNDS="$rounds" \
		WTBOX_POLICY_DIR="$copy/policies" \
		bash "$copy/bench-sandbox.sh" "$copy/wtbox") || true
	echo
	(cd "$copy" && setpriv --reuid="$user" --regid="$user" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$copy" ROUNDS="$rounds" \
		bash "$copy/bench-netstack.sh") || true
	rm -rf "$copy"
else
	"$here/scripts/bench-sandbox.sh" "$wtbox"
	echo
	"$here/scripts/bench-netstack.sh"
fi

# The port forwarder against direct loopback, pasta and slirp4netns; it
# runs itself as the unprivileged test user when started as root.
echo
"$here/scripts/bench-forward.sh" "$wtbox" "$here/${BUILD:-build}/helpers/tcpbench" || true
