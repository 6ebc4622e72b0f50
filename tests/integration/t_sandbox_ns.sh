# t_sandbox_ns.sh: who the command is and what it shares: ids, capabilities,
# hostname, environment, processes, network, IPC; two agents side by side.

test_ids_default_are_the_callers() {
    need_sandbox
    make_repo repo
    cd repo
    local u g
    u=$(id -u)
    g=$(id -g)
    batch_probe ids ids
    batch_sh touch 'echo x >owned.txt'
    batch_run 0 --name ids --report "$T/report.json"
    assert_probe ids 0 "uid=$u" "euid=$u" "gid=$g" "egid=$g" setgroups=deny
    assert_kv "$O/ids" uid_map "$u $u 1"
    assert_kv "$O/ids" gid_map "$g $g 1"
    assert_eq "$u:$g" "$(stat -c %u:%g "$(jget "$T/report.json" .worktree)/owned.txt")" \
        "owner on the host of a file made inside"
}

test_ids_with_root() {
    need_sandbox
    make_repo repo
    cd repo
    local u g
    u=$(id -u)
    g=$(id -g)
    batch_probe ids ids
    batch_sh touch 'echo x >owned.txt'
    batch_run 0 --name ids --root --report "$T/report.json"
    assert_probe ids 0 uid=0 euid=0 suid=0 gid=0 egid=0
    assert_kv "$O/ids" uid_map "0 $u 1"
    assert_kv "$O/ids" gid_map "0 $g 1"
    assert_eq "$u:$g" "$(stat -c %u:%g "$(jget "$T/report.json" .worktree)/owned.txt")" \
        "owner on the host of a file made inside with --root"
}

test_no_capabilities_no_new_privs() {
    need_sandbox
    make_repo repo
    cd repo
    local opt c
    for opt in "" --root; do
        batch_probe caps caps
        # And after another execve (uid 0 gains capabilities on exec unless
        # the bounding set is empty).
        batch_sh caps_exec "$(printf '%q caps' "$PROBE")"
        # shellcheck disable=SC2086 # no option is no word
        batch_run 0 --name caps $opt
        for c in caps caps_exec; do
            assert_probe "$c" 0 CapInh=0000000000000000 CapPrm=0000000000000000 \
                CapEff=0000000000000000 CapBnd=0000000000000000 CapAmb=0000000000000000 NoNewPrivs=1
        done
    done
}

test_hostname_is_agent_name() {
    need_sandbox
    make_repo repo
    cd repo
    local host
    host=$(hostname)
    batch_probe h hostname
    batch_run 0 --name fix-987
    assert_probe h 0 hostname=fix-987 nodename=fix-987
    assert_eq "$host" "$(hostname)" "the host's hostname afterwards"
}

# Exactly the documented environment, whatever the caller has.
test_environment_allowlist() {
    need_sandbox
    make_repo repo
    cd repo
    local rc=0
    env USER="$(id -un)" TERM=xterm-test LC_TIME=C SSH_AUTH_SOCK="$T/agent.sock" \
        GITHUB_TOKEN=ghp_notarealtoken AWS_SECRET_ACCESS_KEY=notreal FOO=foo-value \
        DISPLAY=:0 "$WTBOX" run --name envy --report "$T/report.json" \
        --env FOO --env BAR=baz --env UNSET_IN_HOST_X -- env >"$OUT" 2>"$ERR" </dev/null || rc=$?
    assert_eq 0 "$rc" "exit status ($(cat "$ERR"))"
    local names
    names=$(cut -d= -f1 "$OUT" | sort | xargs)
    assert_eq "BAR FOO HOME LANG LC_ALL LC_TIME PATH PORT TERM TMPDIR TZ USER WTBOX_BRANCH WTBOX_NAME WTBOX_PORT WTBOX_WORKTREE XDG_CACHE_HOME" \
        "$names" "variables inside"
    assert_kv "$OUT" PATH "$PATH"
    assert_kv "$OUT" TERM xterm-test
    assert_kv "$OUT" LANG "$LANG"
    assert_kv "$OUT" LC_ALL "$LC_ALL"
    assert_kv "$OUT" LC_TIME C
    assert_kv "$OUT" TZ "$TZ"
    assert_kv "$OUT" USER "$(id -un)"
    assert_kv "$OUT" HOME "$HOME"
    assert_kv "$OUT" TMPDIR /tmp
    assert_kv "$OUT" XDG_CACHE_HOME "$HOME/.cache"
    assert_kv "$OUT" WTBOX_NAME envy
    assert_kv "$OUT" WTBOX_BRANCH wtbox/envy
    assert_kv "$OUT" WTBOX_WORKTREE "$(jget "$T/report.json" .worktree)"
    # PORT: the agent's host port, forwarded to the same number inside.
    assert_match "$OUT" '^PORT=[0-9]+$'
    assert_kv "$OUT" WTBOX_PORT "$(kv "$OUT" PORT)"
    assert_contains "$ERR" "envy: http://127.0.0.1:$(kv "$OUT" PORT) -> :$(kv "$OUT" PORT)"
    assert_kv "$OUT" FOO foo-value
    assert_kv "$OUT" BAR baz
    # A variable named with --env passes even when it is one of the denied.
    env GITHUB_TOKEN=ghp_notarealtoken "$WTBOX" run --name envy --env GITHUB_TOKEN -- env \
        >"$OUT" 2>"$ERR" </dev/null || fail "exit status $? ($(cat "$ERR"))"
    assert_kv "$OUT" GITHUB_TOKEN ghp_notarealtoken
}

# Two agents at the same time: different /tmp, processes and hostnames.
test_two_agents_at_once() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$O"
    local ma mb
    ma=$(new_marker)
    mb=$(new_marker)
    [[ $ma != "$mb" ]] || mb=${mb}1
    remove_at_exit "/tmp/mine-alpha-$ma"
    remove_at_exit "/tmp/mine-beta-$mb"
    # $1 me, $2 other, $3 out dir, $4 my marker, $5 the other's marker
    cat >"$T/agent.sh" <<'EOF'
me=$1 other=$2 o=$3
echo "$me" >"/tmp/mine-$me-$4"
sleep "$4" </dev/null >/dev/null 2>&1 &
# Started means the sleep runs (not a shell still on its way to exec it).
s=$! i=0
until tr '\0' ' ' <"/proc/$s/cmdline" 2>/dev/null | grep -q "sleep $4" || [ $i -ge 200 ]; do
    sleep 0.05; i=$((i + 1))
done
touch "$o/$me.started"
i=0
while [ ! -e "$o/$other.started" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$o/$other.started" ] || { echo "the other agent never started" >"$o/$me.err"; exit 3; }
ls -A /tmp >"$o/$me.tmp"
hostname >"$o/$me.hostname"
for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f"; echo; done >"$o/$me.ps" 2>/dev/null
touch "$o/$me.done"
# Both stay alive until both have looked.
i=0
while [ ! -e "$o/$other.done" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
EOF
    "$WTBOX" run --name alpha --ro "$T/agent.sh" --rw "$O" -- sh "$T/agent.sh" alpha beta "$O" "$ma" "$mb" \
        >"$T/out.alpha" 2>"$T/err.alpha" </dev/null &
    local pa=$!
    "$WTBOX" run --name beta --ro "$T/agent.sh" --rw "$O" -- sh "$T/agent.sh" beta alpha "$O" "$mb" "$ma" \
        >"$T/out.beta" 2>"$T/err.beta" </dev/null &
    local pb=$!
    wait_exit "$pa" 30
    assert_eq 0 "$RC" "exit status of alpha ($(cat "$T/err.alpha" "$O/alpha.err" 2>/dev/null))"
    wait_exit "$pb" 30
    assert_eq 0 "$RC" "exit status of beta ($(cat "$T/err.beta" "$O/beta.err" 2>/dev/null))"

    assert_contains "$O/alpha.tmp" "mine-alpha-$ma"
    assert_not_contains "$O/alpha.tmp" "mine-beta-$mb"
    assert_contains "$O/beta.tmp" "mine-beta-$mb"
    assert_not_contains "$O/beta.tmp" "mine-alpha-$ma"
    assert_eq alpha "$(cat "$O/alpha.hostname")" "alpha's hostname"
    assert_eq beta "$(cat "$O/beta.hostname")" "beta's hostname"
    assert_contains "$O/alpha.ps" "sleep $ma"
    assert_not_contains "$O/alpha.ps" "sleep $mb"
    assert_contains "$O/beta.ps" "sleep $mb"
    assert_not_contains "$O/beta.ps" "sleep $ma"
    wait_marker_gone "$ma" 2
    wait_marker_gone "$mb" 2
}

test_loopback_up_and_private() {
    need_sandbox
    make_repo repo
    cd repo
    batch_probe net net
    batch_sh py 'python3 -c "
import socket
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
s.listen(1)
c = socket.create_connection(s.getsockname())
a, _ = s.accept()
c.sendall(b\"ping over lo\")
print(a.recv(64).decode())
"'
    batch_run 0 --name lo --net=none
    assert_probe net 0 ifaces=lo lo_up=1 loopback=ok
    assert_probe py 0 "ping over lo"
}

# SysV IPC objects of the host are not there (IPC namespace).
test_ipc_private() {
    need_sandbox
    command -v ipcmk >/dev/null || skip "ipcmk (util-linux) is not installed"
    make_repo repo
    cd repo
    local id
    id=$(ipcmk -Q | grep -oE '[0-9]+$') || skip "cannot create a SysV message queue here"
    at_exit ipcrm -q "$id"
    [[ $(wc -l </proc/sysvipc/msg) -ge 2 ]] || fail "setup: the queue is not in /proc/sysvipc/msg"
    batch_sh ipcs 'cat /proc/sysvipc/msg'
    batch_run 0 --name ipc
    assert_probe ipcs 0
    [[ $(wc -l <"$O/ipcs") -le 1 ]] || fail "host message queues visible inside: $(_lib_show "$O/ipcs")"
}

# The command's cgroup is the root of its cgroup namespace.
test_cgroup_namespace() {
    need_sandbox
    make_repo repo
    cd repo
    batch_sh cgroups 'cat /proc/self/cgroup'
    batch_run 0 --name cg
    assert_probe cgroups 0
    local line lines
    lines=$(cat "$O/cgroups")
    [[ -n $lines ]] || fail "no /proc/self/cgroup inside"
    while IFS= read -r line; do
        [[ $line == *:/ ]] || fail "cgroup outside the namespace's root: '$line' in: $lines"
    done <<<"$lines"
}

# The command is not pid 1: wtbox's init is, and it is the command's parent.
test_command_runs_under_init() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name init "${PROBE_RO[@]}" -- "$PROBE" pids
    assert_kv "$OUT" ppid 1
    [[ $(kv "$OUT" self) != 1 ]] || fail "the command is pid 1: $(_lib_show "$OUT")"
}
