# tests/integration/lib.sh: helpers for the integration tests.
#
# Sourced by tests/run.sh before a t_*.sh file, in a bash running with
# set -eEuo pipefail, cwd $T (a fresh temp dir). The environment has HOME,
# XDG_DATA_HOME, XDG_STATE_HOME, XDG_CONFIG_HOME and TMPDIR under $T, a git
# identity, WTBOX (the binary) and WTBOX_FAULTS_BIN (the fault-injection
# build). Helpers that check something call `fail` (exit 1) with a message
# that says what was expected and what was found.

OUT=$T/.stdout # stdout of the last expect_exit
ERR=$T/.stderr # stderr of the last expect_exit

# The generated-name format of the contract.
NAME_RE='^[a-z]+-[a-z]+(-[0-9]+)?$'

wtbox() { "$WTBOX" "$@"; }

# ---------------------------------------------------------------- outcomes

_lib_where() { # the test file line that called into lib.sh
    local i
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        if [[ ${BASH_SOURCE[i]} != */lib.sh ]]; then
            printf '  at %s:%s\n' "${BASH_SOURCE[i]##*/}" "${BASH_LINENO[i - 1]}" >&2
            return
        fi
    done
}

_lib_on_err() { # STATUS COMMAND WHERE (the ERR trap set by run.sh)
    printf 'FAIL: command exited with status %s: %s\n  at %s\n' "$1" "$2" "$3" >&2
}

fail() { # MESSAGE...
    printf 'FAIL: %s\n' "$*" >&2
    _lib_where
    exit 1
}

skip() { # REASON
    printf '%s\n' "$*" >"$WTBOX_TEST_SKIPFILE"
    exit 77
}

_lib_dump_last() { # the captured output of the last expect_exit
    local f
    for f in "$OUT" "$ERR"; do
        [[ -f $f ]] || continue
        printf '  --- %s:\n' "${f##*/.}" >&2
        sed 's/^/  | /' "$f" >&2
    done
}

# ------------------------------------------------------------- processes

# Processes a test starts and that may outlive it are killed, by pid, when
# the test ends, unless the pid now belongs to another process.
_lib_starttime() { # PID: field 22 of /proc/PID/stat
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $stat
    printf '%s\n' "${20}"
}

track_pid() { # PID
    local st
    st=$(_lib_starttime "$1") || return 0
    printf '%s %s\n' "$1" "$st" >>"$T/.pids"
}

# A directory a test makes outside $T (run.sh removes $T) is removed when
# the test ends.
remove_at_exit() { # DIR
    printf '%s\n' "$1" >>"$T/.rm"
}

# at_exit CMD ARGS...: runs CMD when the test ends (to undo what the test
# made outside $T that is neither a process nor a directory).
at_exit() {
    printf '%q ' "$@" >>"$T/.atexit"
    printf '\n' >>"$T/.atexit"
}

_lib_cleanup() {
    local pid st dir line
    if [[ -f $T/.atexit ]]; then
        while IFS= read -r line; do
            eval "$line" >/dev/null 2>&1 || true
        done <"$T/.atexit"
    fi
    if [[ -f $T/.pids ]]; then
        while read -r pid st; do
            # It may be gone between the check and the kill: not an error.
            if [[ $(_lib_starttime "$pid" 2>/dev/null) == "$st" ]]; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done <"$T/.pids"
    fi
    if [[ -f $T/.rm ]]; then
        while IFS= read -r dir; do
            [[ -n $dir ]] && rm -rf -- "$dir"
        done <"$T/.rm"
    fi
    return 0
}
trap _lib_cleanup EXIT

pid_alive() { # PID (a zombie counts as dead)
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [[ ${st:0:1} != Z ]]
}

wait_for_file() { # FILE [SECONDS=10]
    local i max=$((${2:-10} * 20))
    for ((i = 0; i < max; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.05
    done
    fail "'$1' did not appear within ${2:-10}s"
}

wait_pid_gone() { # PID [SECONDS=10] (for processes that are not our children)
    local i max=$((${2:-10} * 20))
    for ((i = 0; i < max; i++)); do
        pid_alive "$1" || return 0
        sleep 0.05
    done
    fail "process $1 still alive after ${2:-10}s"
}

# --------------------------------------------------------------- commands

# expect_exit CODE CMD...: runs CMD (stdin /dev/null), stdout to $OUT,
# stderr to $ERR, and fails unless it exits with CODE.
expect_exit() {
    local want=$1 rc=0
    shift
    "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
    if [[ $rc != "$want" ]]; then
        printf 'FAIL: expected exit status %s, got %s from: %s\n' "$want" "$rc" "$*" >&2
        _lib_where
        _lib_dump_last
        exit 1
    fi
}

# --------------------------------------------------------------- asserts

assert_eq() { # EXPECTED ACTUAL [WHAT]
    [[ $1 == "$2" ]] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() { # UNEXPECTED ACTUAL [WHAT]
    [[ $1 != "$2" ]] || fail "${3:-value}: expected anything but '$1'"
}

_lib_text() { # FILE|STRING -> text on stdout
    if [[ $1 != *$'\n'* && -f $1 ]]; then cat -- "$1"; else printf '%s\n' "$1"; fi
}

_lib_show() { # FILE|STRING -> a description for a failure message
    if [[ $1 != *$'\n'* && -f $1 ]]; then
        printf "'%s' which holds:\n%s" "$1" "$(sed 's/^/  | /' -- "$1")"
    else
        printf "'%s'" "$1"
    fi
}

assert_contains() { # FILE|STRING TEXT (a fixed string)
    _lib_text "$1" | grep -qF -- "$2" || fail "expected '$2' in $(_lib_show "$1")"
}

assert_not_contains() { # FILE|STRING TEXT (a fixed string)
    ! _lib_text "$1" | grep -qF -- "$2" || fail "did not expect '$2' in $(_lib_show "$1")"
}

assert_match() { # FILE|STRING REGEX (extended, per line)
    _lib_text "$1" | grep -qE -- "$2" || fail "expected a line matching /$2/ in $(_lib_show "$1")"
}

assert_file() { [[ -f $1 ]] || fail "expected file '$1'"; }
assert_dir() { [[ -d $1 ]] || fail "expected directory '$1'"; }
assert_missing() { [[ ! -e $1 && ! -L $1 ]] || fail "expected '$1' not to exist"; }

# assert_wtbox_error TEXT: $ERR is one line, `wtbox: ...` containing TEXT.
assert_wtbox_error() {
    local n
    n=$(wc -l <"$ERR")
    [[ $n == 1 ]] || fail "expected exactly one line on stderr, got $n: $(_lib_show "$ERR")"
    assert_match "$ERR" '^wtbox: '
    assert_contains "$ERR" "$1"
}

# ------------------------------------------------------------------ json

need_jq() { command -v jq >/dev/null || skip "jq is not installed"; }

jget() { # FILE FILTER: prints the raw value
    need_jq
    jq -r "$2" "$1"
}

# assert_report EXPR [FILE=$T/report.json]: the jq expression is true.
assert_report() {
    local f=${2:-$T/report.json}
    need_jq
    [[ -f $f ]] || fail "report '$f' was not written"
    jq -e . "$f" >/dev/null 2>&1 || fail "report is not valid JSON: $(_lib_show "$f")"
    jq -e "$1" "$f" >/dev/null || fail "report: expected ($1) in $(_lib_show "$f")"
}

# ------------------------------------------------------------------- git

# make_repo DIR: a repository on main with three commits and a .gitignore.
make_repo() {
    local dir=$1
    git init -q -b main "$dir"
    printf 'node_modules/\n.env.local\n*.log\n' >"$dir/.gitignore"
    printf '# demo\n' >"$dir/README.md"
    mkdir -p "$dir/src"
    printf 'int main(void) { return 0; }\n' >"$dir/src/main.c"
    git -C "$dir" add -A
    git -C "$dir" commit -q -m "initial"
    printf 'more text\n' >>"$dir/README.md"
    git -C "$dir" commit -q -am "second"
    printf 'int util(void) { return 1; }\n' >"$dir/src/util.c"
    git -C "$dir" add src/util.c
    git -C "$dir" commit -q -m "third"
}

# Prints the `git worktree list --porcelain` block of worktree PATH.
wt_block() { # REPO PATH
    git -C "$1" worktree list --porcelain |
        awk -v p="worktree $2" '$0 == p { on = 1 } on && $0 == "" { exit } on'
}

assert_fsck() { # REPO: `git fsck --full` succeeds and reports no error
    local rc=0
    git -C "$1" fsck --full >"$T/.fsck" 2>&1 || rc=$?
    [[ $rc == 0 ]] || fail "git fsck --full exited $rc: $(_lib_show "$T/.fsck")"
    ! grep -qiE '^(error|fatal|missing|broken|bad)' "$T/.fsck" ||
        fail "git fsck --full complained: $(_lib_show "$T/.fsck")"
}

common_dir() { # REPO: absolute common git dir
    (cd "$1" && cd "$(git rev-parse --git-common-dir)" && pwd -P)
}

# Agent paths, found by name (the repo-id part is whatever wtbox chose).
agent_worktrees() { # NAME: matching worktree dirs, one per line
    local d
    for d in "$XDG_DATA_HOME"/wtbox/*/"$1"; do
        [[ -e $d && $d != "$XDG_DATA_HOME/wtbox/trash/$1" ]] && printf '%s\n' "$d"
    done
    return 0
}

agent_records() { # NAME: matching record dirs, one per line
    local d
    for d in "$XDG_STATE_HOME"/wtbox/*/"$1"; do
        [[ -e $d ]] && printf '%s\n' "$d"
    done
    return 0
}

trash_entries() { # entries in the trash, one per line
    local d
    for d in "$XDG_DATA_HOME"/wtbox/trash/*; do
        [[ -e $d ]] && printf '%s\n' "$d"
    done
    return 0
}

# assert_nothing_left REPO NAME: no branch, worktree, dirs or admin dir of
# agent NAME remain.
assert_nothing_left() {
    local repo=$1 name=$2 x
    x=$(git -C "$repo" branch --list "wtbox/$name")
    [[ -z $x ]] || fail "branch wtbox/$name still exists"
    x=$(git -C "$repo" worktree list --porcelain)
    ! grep -qxF "branch refs/heads/wtbox/$name" <<<"$x" ||
        fail "a worktree on wtbox/$name is still registered: $x"
    ! grep -qE "^worktree .*/$name\$" <<<"$x" ||
        fail "a worktree named $name is still registered: $x"
    x=$(agent_worktrees "$name")
    [[ -z $x ]] || fail "worktree directory left behind: $x"
    x=$(agent_records "$name")
    [[ -z $x ]] || fail "record directory left behind: $x"
    x="$(common_dir "$repo")/worktrees/wtbox-$name"
    assert_missing "$x"
}

# assert_no_agents [REPO]: no agent exists: no worktree dir, no record dir
# (a lock file is not an agent; trash entries are not agents), and in REPO no
# wtbox branch, no linked worktree, no admin dir.
assert_no_agents() {
    local d
    for d in "$XDG_DATA_HOME"/wtbox/*/* "$XDG_STATE_HOME"/wtbox/*/*; do
        [[ $d == "$XDG_DATA_HOME"/wtbox/trash/* ]] && continue
        [[ -d $d ]] && fail "expected no agent, found '$d'"
    done
    if [[ -n ${1:-} ]]; then
        d=$(git -C "$1" branch --list 'wtbox/*')
        [[ -z $d ]] || fail "expected no wtbox branch, found: $d"
        d=$(git -C "$1" worktree list --porcelain | grep -c '^worktree ')
        [[ $d -le 1 ]] || fail "expected no linked worktree: $(git -C "$1" worktree list)"
        d="$(common_dir "$1")/worktrees"
        [[ ! -d $d ]] || [[ -z $(ls -A "$d") ]] || fail "admin dirs left in $d: $(ls -A "$d")"
    fi
    return 0
}

# --------------------------------------------------------------- sandbox

# The probe (tests/helpers/probe.c) reports what a process sees, one
# `key=value` per line; it exits 0 when the action it attempted worked, 1
# when it failed, 2 when it could not do its job.
PROBE=$WTBOX_HELPERS/probe
# The helpers may live where the sandbox hides the host (under /tmp or a
# home directory): every run that uses the probe grants them read-only.
PROBE_RO=(--ro "$WTBOX_HELPERS")

# need_sandbox: the kernel lets this user make the namespaces wtbox uses;
# otherwise the test is skipped (a failure with WTBOX_MUST_WORK=1).
need_sandbox() {
    [[ -x $PROBE ]] || fail "no probe at '$PROBE' (make check builds it)"
    local e
    e=$(unshare --user --map-root-user --mount --pid --fork --ipc --net --uts --cgroup true 2>&1) ||
        skip "cannot create user, mount, pid, ipc, net, uts and cgroup namespaces: $e"
}

# slow_netstack DIR MARKER: puts in DIR a `slirp4netns` that touches
# MARKER, waits 2 s, then runs the real one: a run's start that lasts,
# for signals sent meanwhile. Use with PATH=DIR:$PATH and
# WTBOX_NETSTACK=slirp4netns.
slow_netstack() {
    local real
    real=$(command -v slirp4netns) || skip "slirp4netns is not installed"
    mkdir -p "$1"
    printf '#!/bin/sh\ntouch %q\nsleep 2\nexec %q "$@"\n' "$2" "$real" >"$1/slirp4netns"
    chmod +x "$1/slirp4netns"
}

# interrupt_start NAME [RUN OPTIONS...]: `wtbox run --name NAME` whose
# network stack starts slowly (slow_netstack), sent SIGINT meanwhile: it
# must exit 130 saying the command was not started, the command (which
# would leave a file) must not have run. The caller checks what is left.
interrupt_start() {
    local name=$1 pid
    shift
    slow_netstack "$T/slow" "$O/stack-starting"
    mkdir -p "$O"
    # A marker of an earlier call would send the signal too soon.
    rm -f "$O/stack-starting"
    PATH="$T/slow:$PATH" WTBOX_NETSTACK=slirp4netns "$WTBOX" run --name "$name" "$@" --rw "$O" -- \
        sh -c 'touch "$1/ran"' sh "$O" >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    track_pid "$pid"
    wait_for_file "$O/stack-starting"
    kill -INT "$pid"
    wait_exit "$pid" 30
    assert_eq 130 "$RC" "exit status of wtbox run $* (stderr: $(cat "$ERR"))"
    assert_contains "$ERR" "wtbox: interrupted by signal 2; command not started"
    assert_missing "$O/ran"
}

# kernel_runs_x32: this kernel takes x32 system calls (x86_64 only; most
# kernels do not). wtbox's filter covers x32 only then, and refuses every
# x32 call with ENOSYS otherwise.
kernel_runs_x32() {
    [[ $(uname -m) == x86_64 && $("$WTBOX_HELPERS/sysprobe" x32_getpid) == x32_getpid=ok ]]
}

# kv FILE KEY: the value of the last `KEY=...` line of FILE.
kv() {
    local line v=
    while IFS= read -r line; do
        [[ $line == "$2="* ]] && v=${line#*=}
    done <"$1"
    printf '%s\n' "$v"
}

# assert_kv FILE KEY VALUE: FILE has a `KEY=...` line, and the last one is
# KEY=VALUE.
assert_kv() {
    grep -q "^$2=" "$1" || fail "no '$2=' line in $(_lib_show "$1")"
    [[ $(kv "$1" "$2") == "$3" ]] || fail "expected $2=$3 in $(_lib_show "$1")"
}

# A batch of probes run in one sandbox: the checks a test makes from inside
# are written to a script in $T/out (granted read-write), each one leaves
# its report in $T/out/KEY and its exit status in $T/out/KEY.rc.
#
#   batch_probe KEY PROBE-ARGS...     one probe
#   batch_sh KEY 'shell code'         sh -c CODE, stdout+stderr in $T/out/KEY
#   batch_run RC [RUN OPTIONS...]     wtbox run OPTIONS -- bash <the batch>
#                                     (starts a new batch afterwards)
#   assert_probe KEY RC [LINE...]     KEY exited RC and printed every LINE
O=$T/out
_BATCH=$O/.batch.sh

_batch_add() { # LINE
    mkdir -p "$O"
    [[ -f $_BATCH ]] || printf 'cd "${WTBOX_WORKTREE:-.}" || exit 99\n' >"$_BATCH"
    printf '%s\n' "$1" >>"$_BATCH"
}

batch_probe() { # KEY PROBE-ARGS...
    local key=$1 q
    shift
    rm -f "$O/$key" "$O/$key.rc"
    q=$(printf ' %q' "$@")
    _batch_add "$(printf '%q -o %q%s </dev/null; echo $? >%q' "$PROBE" "$O/$key" "$q" "$O/$key.rc")"
}

batch_sh() { # KEY CODE
    rm -f "$O/$1" "$O/$1.rc"
    _batch_add "$(printf 'sh -c %q >%q 2>&1 </dev/null; echo $? >%q' "$2" "$O/$1" "$O/$1.rc")"
}

batch_run() { # RC [RUN OPTIONS...]
    local want=$1
    shift
    [[ -f $_BATCH ]] || fail "batch_run: nothing in the batch"
    mv "$_BATCH" "$_BATCH.run"
    # bash, not sh: the lines are quoted with printf %q.
    expect_exit "$want" "$WTBOX" run "${PROBE_RO[@]}" --rw "$O" "$@" -- bash "$_BATCH.run"
}

assert_probe() { # KEY RC [LINE...]
    local key=$1 want=$2 f=$O/$1 line
    shift 2
    [[ -f $f.rc ]] || fail "'$key' did not run inside the sandbox (no $f.rc)"
    [[ $(cat "$f.rc") == "$want" ]] ||
        fail "'$key': expected exit status $want, got $(cat "$f.rc"), report $(_lib_show "$f")"
    for line in "$@"; do
        grep -qxF -- "$line" "$f" || fail "'$key': expected the line '$line' in $(_lib_show "$f")"
    done
}

# A marker for processes a sandbox starts, e.g. `sleep MARKER`: a number
# unique to this test, and an argument that appears in no other command line
# as long as the test builds it inside the sandbox (sh -c 'sleep "$1"' sh M).
new_marker() { printf '1000.%d%05d\n' "$$" "$RANDOM"; }

# marker_pids MARKER: host pids of processes that have MARKER as one of
# their arguments (only builtins: this runs in polling loops).
marker_pids() {
    local f pid a
    local -a argv
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
        for a in "${argv[@]}"; do
            if [[ $a == "$1" ]]; then
                printf '%s\n' "$pid"
                break
            fi
        done
    done
    return 0
}

wait_marker_appears() { # MARKER [SECONDS=10]
    local i max=$((${2:-10} * 20))
    for ((i = 0; i < max; i++)); do
        [[ -n $(marker_pids "$1") ]] && return 0
        sleep 0.05
    done
    fail "no process with argument '$1' appeared within ${2:-10}s"
}

# wait_marker_gone MARKER SECONDS: no process with MARKER is left within
# SECONDS; the ones that are left are killed when the test ends.
wait_marker_gone() {
    local i max=$(($2 * 20)) pid
    for ((i = 0; i < max; i++)); do
        [[ -z $(marker_pids "$1") ]] && return 0
        sleep 0.05
    done
    local left
    left=$(marker_pids "$1")
    for pid in $left; do track_pid "$pid"; done
    fail "processes with argument '$1' still alive after $2s: $(for pid in $left; do
        printf '%s: ' "$pid"; tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null; done)"
}

# wait_exit PID SECONDS: waits (bounded) for a child started with `&` and
# sets $RC to its exit status; a child still running after SECONDS fails
# the test (and is killed when the test ends).
wait_exit() {
    local pid=$1 i max=$(($2 * 20))
    track_pid "$pid"
    for ((i = 0; i < max; i++)); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    pid_alive "$pid" && fail "process $pid still running after $2s"
    RC=0
    wait "$pid" || RC=$?
}

# ------------------------------------------------------------- terminals

need_tmux() { command -v tmux >/dev/null || skip "tmux is not installed"; }

# tmux_start SCRIPT: runs `bash SCRIPT` in a terminal of 100 columns and 40
# rows: a detached session of a tmux server of this test's own ($TMUX_SOCK),
# which is killed when the test ends. The pane has this test's environment.
TMUX_SOCK=$T/.tmux.sock
tmux_start() {
    need_tmux
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 40 -s t "bash $(printf %q "$1")"
    local pid
    # The server leaves when the script ends: it may be gone already.
    if pid=$(tmux -S "$TMUX_SOCK" display-message -p '#{pid}' 2>/dev/null); then
        track_pid "$pid"
    fi
}

# ------------------------------------------------------------- git state

# agent_gitdir NAME: the private git directory of agent NAME.
agent_gitdir() {
    local d
    for d in "$XDG_STATE_HOME"/wtbox/*/"$1"/git; do
        [[ -d $d ]] && printf '%s\n' "$d"
    done
    return 0
}

# git_snapshot REPO FILE [ADMIN...]: into FILE, every entry under the common
# git dir of REPO (type, mode, path) and the sha256 of every file in it,
# except what is under worktrees/ADMIN for each ADMIN given.
git_snapshot() {
    local common file=$2 a
    common=$(common_dir "$1")
    shift 2
    local -a prune=()
    for a in "$@"; do prune+=(-path "./worktrees/$a" -prune -o); done
    (cd "$common" && {
        find . "${prune[@]}" -printf '%y %m %p\n' | LC_ALL=C sort
        find . "${prune[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    }) >"$file"
}

# assert_same_file BEFORE AFTER WHAT: the files are identical.
assert_same_file() {
    cmp -s "$1" "$2" || fail "$3 changed: $(diff "$1" "$2" | head -n 40)"
}

# batch_run_within SECONDS RC [RUN OPTIONS...]: batch_run, but wtbox is
# stopped (and the test fails) if it has not ended after SECONDS.
batch_run_within() {
    local secs=$1 want=$2
    shift 2
    [[ -f $_BATCH ]] || fail "batch_run_within: nothing in the batch"
    mv "$_BATCH" "$_BATCH.run"
    expect_exit "$want" timeout -k 5 "$secs" "$WTBOX" run "${PROBE_RO[@]}" --rw "$O" "$@" -- bash "$_BATCH.run"
}

# ------------------------------------------------- agents in the background

# start_agent NAME [RUN-OPTIONS...] -- CMD...: `wtbox run -n NAME -k ...` in
# the background (output in $T/NAME.out), tracked; returns once its record
# names the sandbox (sandbox_pid != 0), at most 20 s. Sets AGENT_PID (the
# supervisor) and AGENT_REC (its record.json).
start_agent() {
    _start_agent -k "$@"
}

# start_agent_unkept NAME [RUN OPTIONS...] -- CMD...: the same without
# --keep: the run removes the agent when it ends if it changed nothing.
start_agent_unkept() {
    _start_agent "" "$@"
}

_start_agent() {
    local keep=$1 name=$2 i
    shift 2
    "$WTBOX" run -n "$name" ${keep:+"$keep"} "$@" >"$T/$name.out" 2>&1 </dev/null &
    AGENT_PID=$!
    track_pid "$AGENT_PID"
    AGENT_REC=
    for ((i = 0; i < 400; i++)); do
        AGENT_REC=$(agent_records "$name")/record.json
        if [[ -f $AGENT_REC ]] && [[ $(jq -r '.sandbox_pid // 0' "$AGENT_REC" 2>/dev/null) != 0 ]]; then
            return 0
        fi
        pid_alive "$AGENT_PID" || fail "agent '$name' ended early: $(cat "$T/$name.out")"
        sleep 0.05
    done
    fail "agent '$name' did not start within 20s: $(cat "$T/$name.out")"
}

# keep_text PID [BOOT]: what an import of wtbox process PID writes in the
# keep file beside its pack (BOOT: the boot id, else the current one).
keep_text() {
    printf 'wtbox import %s on %s, pid namespace %s, boot %s\n' "$1" "$(uname -n)" \
        "$(stat -L -c %i /proc/self/ns/pid)" "${2:-$(cat /proc/sys/kernel/random/boot_id)}"
}

# kill_supervisor [MARKER]: SIGKILL the wtbox start_agent started (as a
# crash would), reap it, and wait until the agent's command (the process
# whose command line has MARKER) is gone with its sandbox.
kill_supervisor() {
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    wait_pid_gone "$AGENT_PID" 5
    if [[ -n ${1:-} ]]; then
        wait_marker_gone "$1" 10
    fi
}

# tree_snapshot PATH...: every entry under PATHs (type, mode, size, link
# target) and the sha256 of every file, sorted: equal snapshots mean
# nothing changed.
tree_snapshot() {
    find "$@" -printf '%y %m %s %p -> %l\n' 2>/dev/null | sort
    find "$@" -type f -exec sha256sum {} + 2>/dev/null | sort -k2
}
