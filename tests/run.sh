#!/usr/bin/env bash
# tests/run.sh: run the unit tests and the integration tests of wtbox.
#
#   BUILD=build tests/run.sh              everything (what `make check` does)
#   tests/run.sh --unit-only              only $BUILD/unit/test_*
#   tests/run.sh t_cli t_paths:test_x     only these integration files / tests
#   TESTS='lifecycle|errors' tests/run.sh integration tests whose
#                                         "t_file:test_name" matches the ERE
#   JOBS=4 tests/run.sh                   run integration tests 4 at a time
#
# Unit tests: every executable $BUILD/unit/test_* prints TAP lines; each
# `ok N` / `not ok N` line counts as a pass / failure, and a binary that exits
# non-zero without a `not ok` line counts as one more failure.
#
# Integration tests: every function test_* in tests/integration/t_*.sh runs in
# its own bash (set -eEuo pipefail) with a fresh temp dir $T, fresh HOME and
# XDG dirs under it, a private git identity, $WTBOX, $WTBOX_FAULTS_BIN and
# $WTBOX_HELPERS (the probes of tests/helpers, see lib.sh).
# The suite runs as the current user; when that is root it runs again as the
# unprivileged user $WTBOX_TEST_USER (default wtbox-test, created if missing)
# from a copy of the binaries and scripts that the user owns, because the
# checkout may live where that user cannot read (/root).
#
# A test that calls `skip REASON` is reported as skipped; with
# WTBOX_MUST_WORK=1 a skip counts as a failure. The last line of the output is
# always `N passed, N failed` (plus `, N skipped` when there are skips); the
# exit status is 1 when anything failed.
#
# Environment: BUILD (default build), JOBS (default 1), TESTS (ERE filter),
# WTBOX_TESTDATA (default ../shared/testdata next to the checkout),
# WTBOX_TEST_TIMEOUT (seconds per test, default 120), WTBOX_MUST_WORK,
# WTBOX_TEST_USER.

set -uo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BUILD=${BUILD:-build}
JOBS=${JOBS:-1}
TEST_TIMEOUT=${WTBOX_TEST_TIMEOUT:-120}
TEST_USER=${WTBOX_TEST_USER:-wtbox-test}
MUST_WORK=${WTBOX_MUST_WORK:-0}
# Set by this script for the unprivileged pass it starts: "user" means run
# the integration suite once, labelled [user], and nothing else.
PASS=${WTBOX_TEST_PASS:-}

# Test data shared between the project's repositories (../shared/testdata
# next to the checkout; the unprivileged pass gets a copy).
TESTDATA=${WTBOX_TESTDATA:-}
if [[ -z $TESTDATA && -d $TESTS_DIR/../../shared/testdata ]]; then
    TESTDATA=$(cd "$TESTS_DIR/../../shared/testdata" && pwd -P)
fi

n_pass=0 n_fail=0 n_skip=0
unit=1 integration=1
filters=()

die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

for arg in "$@"; do
    case $arg in
    --unit-only) integration=0 ;;
    --integration-only) unit=0 ;;
    -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option '$arg'" ;;
    *) filters+=("$arg") ;;
    esac
done
# A filter selects integration tests only.
if ((${#filters[@]})) || [[ -n ${TESTS:-} ]]; then unit=0; fi
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a positive number, not '$JOBS'"

[[ -d $BUILD ]] || die "build directory '$BUILD' does not exist (run make first)"
BUILD=$(cd "$BUILD" && pwd -P)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wtbox-tests.XXXXXX") || die "cannot create a temp dir"
WORK=$(cd "$WORK" && pwd -P)
USERWORK=
cleanup() {
    # Tests may leave read-only files behind; make everything removable.
    local d
    for d in "$WORK" $USERWORK; do
        chmod -R u+rwX "$d" 2>/dev/null
        rm -rf "$d"
    done
}
trap cleanup EXIT

# Interrupted: stop the tests that are running (each runs under timeout(1),
# in its own process group, which timeout signals as a whole) and the
# unprivileged pass, then clean up.
USERPASS_PID=
on_signal() { # EXIT-STATUS
    local f d
    for f in "$WORK"/*/*/tpid; do
        d=${f%/tpid}
        [[ -f $f && ! -f $d/status ]] && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    [[ -n $USERPASS_PID ]] && kill -TERM "$USERPASS_PID" 2>/dev/null
    wait
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

count_skip() { # LINE: a skip, or a failure under WTBOX_MUST_WORK=1
    if [[ $MUST_WORK == 1 ]]; then
        printf 'not ok%s (skip is a failure with WTBOX_MUST_WORK=1)\n' "${1#skip}"
        n_fail=$((n_fail + 1))
    else
        printf '%s\n' "$1"
        n_skip=$((n_skip + 1))
    fi
}

# ---------------------------------------------------------------- unit tests

run_unit_tests() {
    local bin name out rc ok bad
    shopt -s nullglob
    local bins=("$BUILD"/unit/test_*)
    shopt -u nullglob
    for bin in "${bins[@]}"; do
        [[ -f $bin && -x $bin && $bin != *.d ]] || continue
        name=${bin##*/}
        out=$(cd "$WORK" && timeout -k 5 "$TEST_TIMEOUT" "$bin" 2>&1 </dev/null)
        rc=$?
        ok=$(grep -c '^ok ' <<<"$out")
        bad=$(grep -c '^not ok ' <<<"$out")
        local line re='^(not ok|ok) [0-9]+( - )?(.*)$'
        while IFS= read -r line; do
            [[ $line =~ $re ]] && printf '%s - unit/%s: %s\n' "${BASH_REMATCH[1]}" "$name" "${BASH_REMATCH[3]}"
        done <<<"$out"
        n_pass=$((n_pass + ok))
        n_fail=$((n_fail + bad))
        if ((rc != 0 && bad == 0)); then
            printf 'not ok - unit/%s: exited with status %d without a failing test\n' "$name" "$rc"
            n_fail=$((n_fail + 1))
        fi
        if ((rc != 0 || bad > 0)); then
            grep -Ev '^ok ' <<<"$out" | sed 's/^/    /'
        fi
    done
}

# ---------------------------------------------------------- integration tests

# Prints "t_file<TAB>test_name" for every selected test, in file order.
list_tests() {
    local f base t id sel
    for f in "$TESTS_DIR"/integration/t_*.sh; do
        [[ -f $f ]] || continue
        base=${f##*/}
        base=${base%.sh}
        while IFS= read -r t; do
            id="$base:$t"
            if ((${#filters[@]})); then
                sel=0
                for flt in "${filters[@]}"; do
                    flt=${flt%.sh}
                    flt=${flt##*/}
                    [[ $flt == "$base" || $flt == "$id" ]] && sel=1
                done
                ((sel)) || continue
            fi
            if [[ -n ${TESTS:-} ]] && ! [[ $id =~ $TESTS ]]; then continue; fi
            printf '%s\t%s\n' "$base" "$t"
        done < <(grep -oE '^(function +)?test_[A-Za-z0-9_]+ *\(\)' "$f" |
            sed -E 's/^function +//; s/ *\(\)$//')
    done
}

# run_one DIR FILE TEST: runs one test in a clean environment; leaves its
# output in DIR/out, and DIR/status holds the exit status (77 + DIR/skip
# for a skip).
run_one() {
    local d=$1 file=$2 name=$3 rc
    local T="$d/t"
    mkdir -p "$T/home" "$T/data" "$T/state" "$T/config" "$T/tmp"
    cat >"$T/home/.gitconfig" <<'EOF'
[user]
	name = wtbox test
	email = wtbox-test@example.invalid
[init]
	defaultBranch = main
[advice]
	detachedHead = false
[protocol]
	allow = never
[gc]
	auto = 0
EOF
    local envs=(
        PATH="$PATH" LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
        T="$T" HOME="$T/home" TMPDIR="$T/tmp"
        XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
        XDG_RUNTIME_DIR="$T/tmp"
        GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 GIT_CEILING_DIRECTORIES="$d"
        GIT_AUTHOR_NAME="wtbox test" GIT_AUTHOR_EMAIL=wtbox-test@example.invalid
        GIT_COMMITTER_NAME="wtbox test" GIT_COMMITTER_EMAIL=wtbox-test@example.invalid
        WTBOX="$BUILD/wtbox" WTBOX_FAULTS_BIN="$BUILD/wtbox-faults"
        WTBOX_HELPERS="$BUILD/helpers" WTBOX_TEST_LIB="$TESTS_DIR/integration/lib.sh"
        WTBOX_TEST_SKIPFILE="$d/skip" WTBOX_TEST_LABEL="$label"
        WTBOX_TESTDATA="$TESTDATA"
    )
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS WTBOX_MUST_WORK WTBOX_FOREIGN_REPO; do
        [[ -n ${!v:-} ]] && envs+=("$v=${!v}")
    done
    # shellcheck disable=SC2016 # the script is expanded by the test's bash
    (cd "$T" && exec env -i "${envs[@]}" timeout -k 5 "$TEST_TIMEOUT" bash -c '
        set -eEuo pipefail
        . "$WTBOX_TEST_LIB"
        . "$1"
        trap '\''_lib_on_err $? "$BASH_COMMAND" "${BASH_SOURCE[0]##*/}:$LINENO"'\'' ERR
        "$2"
    ' bash "$TESTS_DIR/integration/$file.sh" "$name") >"$d/out" 2>&1 </dev/null &
    echo $! >"$d/tpid"
    wait $!
    rc=$?
    # timeout(1) made the test its own process group: whatever the test
    # started and left running goes with it.
    kill -KILL -- "-$(cat "$d/tpid")" 2>/dev/null
    ((rc == 124)) && echo "test timed out after ${TEST_TIMEOUT}s" >>"$d/out"
    echo "$rc" >"$d/status"
}

report_one() {
    local d=$1 id=$2 rc
    rc=$(cat "$d/status")
    if ((rc == 0)); then
        printf 'ok - [%s] %s\n' "$label" "$id"
        n_pass=$((n_pass + 1))
    elif ((rc == 77)) && [[ -f $d/skip ]]; then
        count_skip "skip - [$label] $id # $(head -n1 "$d/skip")"
    else
        printf 'not ok - [%s] %s\n' "$label" "$id"
        sed 's/^/    /' "$d/out"
        n_fail=$((n_fail + 1))
    fi
    rm -rf "$d" 2>/dev/null || { chmod -R u+rwX "$d"; rm -rf "$d"; }
}

run_integration_tests() { # LABEL
    label=$1
    local -a files=() names=() pids=()
    local line i=0 next=0
    while IFS=$'\t' read -r line name; do
        files+=("$line")
        names+=("$name")
    done < <(list_tests)
    if ((${#names[@]} == 0)); then
        printf 'not ok - [%s] no integration test selected\n' "$label"
        n_fail=$((n_fail + 1))
        return
    fi
    for ((i = 0; i < ${#names[@]}; i++)); do
        mkdir -p "$WORK/$label/$i"
        run_one "$WORK/$label/$i" "${files[i]}" "${names[i]}" &
        pids[i]=$!
        # Report, in order, every test that has finished.
        while ((next <= i)); do
            # Wait for the oldest test when JOBS tests are running.
            if ((next <= i - JOBS + 1)) || [[ -e $WORK/$label/$next/status ]]; then
                wait "${pids[next]}"
                report_one "$WORK/$label/$next" "${files[next]}:${names[next]}"
                next=$((next + 1))
            else
                break
            fi
        done
    done
    for ((; next < ${#names[@]}; next++)); do
        wait "${pids[next]}"
        report_one "$WORK/$label/$next" "${files[next]}:${names[next]}"
    done
}

# Runs the integration suite again as $TEST_USER and adds its counts.
run_user_pass() {
    if ! id -u "$TEST_USER" >/dev/null 2>&1; then
        useradd -m "$TEST_USER" || {
            printf 'not ok - [user] cannot create user %s\n' "$TEST_USER"
            n_fail=$((n_fail + 1))
            return
        }
    fi
    # The user cannot read the checkout (it may be under /root): give it
    # its own copy of the binaries and scripts.
    # /tmp, not $TMPDIR: the user must be able to reach it.
    USERWORK=$(mktemp -d /tmp/wtbox-user.XXXXXX) || {
        printf 'not ok - [user] cannot create a temp dir\n'
        n_fail=$((n_fail + 1))
        return
    }
    local u=$USERWORK
    mkdir -p "$u/build" "$u/home" "$u/tmp" "$u/tests"
    local f
    for f in wtbox wtbox-faults helpers; do
        [[ -e $BUILD/$f ]] && cp -a "$BUILD/$f" "$u/build/"
    done
    cp -a "$TESTS_DIR/run.sh" "$TESTS_DIR/integration" "$u/tests/"
    # build/wtbox finds its policies in ../policies, as in the checkout.
    cp -a "$TESTS_DIR/../policies" "$u/"
    [[ -n $TESTDATA ]] && cp -a "$TESTDATA" "$u/testdata"
    chown -R "$TEST_USER:" "$u"
    chmod 0700 "$u"
    # A repository of another user's (root's), which the user can read.
    git init -q "$u/foreign-repo" &&
        git -C "$u/foreign-repo" -c user.name=wtbox -c user.email=wtbox@example.invalid \
            commit -q --allow-empty -m init && chmod -R go+rX "$u/foreign-repo"

    local envs=(
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        HOME="$u/home" TMPDIR="$u/tmp" LANG=C.UTF-8 BUILD="$u/build"
        WTBOX_TEST_PASS=user JOBS="$JOBS" WTBOX_TEST_TIMEOUT="$TEST_TIMEOUT"
        WTBOX_TESTDATA="${TESTDATA:+$u/testdata}" WTBOX_FOREIGN_REPO="$u/foreign-repo"
    )
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS WTBOX_MUST_WORK TESTS; do
        [[ -n ${!v:-} ]] && envs+=("$v=${!v}")
    done
    local line seen=0 fd re='^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'
    exec {fd}< <(cd "$u" && exec setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups \
        env -i "${envs[@]}" bash "$u/tests/run.sh" --integration-only "${filters[@]}" 2>&1 </dev/null)
    USERPASS_PID=$!
    while IFS= read -r -u "$fd" line; do
        if [[ $line =~ $re ]]; then
            n_pass=$((n_pass + BASH_REMATCH[1]))
            n_fail=$((n_fail + BASH_REMATCH[2]))
            n_skip=$((n_skip + ${BASH_REMATCH[4]:-0}))
            seen=1
        else
            printf '%s\n' "$line"
        fi
    done
    exec {fd}<&-
    wait "$USERPASS_PID" 2>/dev/null
    USERPASS_PID=
    if ((!seen)); then
        printf 'not ok - [user] the unprivileged pass ended without a summary\n'
        n_fail=$((n_fail + 1))
    fi
}

# ------------------------------------------------------------------- main

if [[ $PASS == user ]]; then
    run_integration_tests user
else
    ((unit)) && run_unit_tests
    if ((integration)); then
        if (($(id -u) == 0)); then
            run_integration_tests root
            run_user_pass
        else
            count_skip "skip - [root] integration suite # not running as root"
            run_integration_tests user
        fi
    fi
fi

if ((n_skip)); then
    printf '%d passed, %d failed, %d skipped\n' "$n_pass" "$n_fail" "$n_skip"
else
    printf '%d passed, %d failed\n' "$n_pass" "$n_fail"
fi
((n_fail == 0))
