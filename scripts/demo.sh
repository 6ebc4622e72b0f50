#!/usr/bin/env bash
# A demo agent, end to end: a throwaway repository, one agent that commits
# work (kept), one that changes nothing (removed), and what git sees after.
# Everything lives in a temporary directory that is deleted at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
wtbox="$here/${BUILD:-build}/wtbox"
[[ -x $wtbox ]] || { echo "demo: build wtbox first (make)" >&2; exit 1; }

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export XDG_DATA_HOME="$demo/data" XDG_STATE_HOME="$demo/state" XDG_CONFIG_HOME="$demo/config"

step() { printf '\n$ %s\n' "$*"; }

git init -q -b main "$demo/app"
cd "$demo/app"
git config user.name "Demo User"
git config user.email "demo@example.invalid"
printf 'node_modules/\n' >.gitignore
printf 'console.log("hello");\n' >index.js
git add -A
git commit -qm "initial commit"

step "wtbox run --name fix-1 -- sh -c '<an agent that fixes a bug and commits>'"
"$wtbox" run --name fix-1 --report "$demo/fix-1.json" -- sh -c '
	echo "agent $WTBOX_NAME working in $PWD on $WTBOX_BRANCH"
	printf "console.log(\"hello, world\");\n" > index.js
	git commit -qam "fix: greet the world"
	echo "notes for the reviewer" > NOTES.md
'

step "git log --oneline main..wtbox/fix-1"
git log --oneline main..wtbox/fix-1

step "cat fix-1.json   (--report)"
cat "$demo/fix-1.json"

step "wtbox run --name peek -- sh -c '<look around the sandbox>'"
"$wtbox" run --name peek -- sh -c '
	echo "hostname: $(hostname)"
	echo "processes: $(ls /proc | grep -c "^[0-9]")"
	echo "home: $HOME ($(ls -A "$HOME" | wc -l) entries)"
	grep -E "^Cap(Eff|Bnd)" /proc/self/status
	{ echo x > /etc/demo; } 2>/dev/null || echo "writing /etc: refused"
	touch "$HOME/.ssh/planted" 2>/dev/null || echo "no ~/.ssh of yours in here"
'

step "wtbox run --name look-around -- sh -c 'ls; mkdir -p node_modules/x && touch node_modules/x/y.js'"
"$wtbox" run --name look-around -- sh -c 'ls; mkdir -p node_modules/x && touch node_modules/x/y.js'

step "git worktree list"
git worktree list

step "git branch --list 'wtbox/*'"
git branch --list 'wtbox/*'
