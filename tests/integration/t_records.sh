# t_records.sh: agent records as ls, logs, wait and stop read them: the
# columns, every repository, corrupt records, a reboot, a reused pid, a
# state directory that is missing or cannot be used.

rec() { # NAME FILTER
    need_jq
    "$WTBOX" ls --json 2>/dev/null | jq -r --arg n "$1" ".[] | select(.name == \$n) | $2"
}

# edit_record NAME JQ-FILTER: rewrite agent NAME's record (atomically,
# as wtbox does).
edit_record() {
    local f
    f=$(agent_records "$1")/record.json
    jq "$2" "$f" >"$f.new" && mv "$f.new" "$f"
}

test_ls_empty_and_outside_repository() {
    make_repo repo
    cd repo
    # No state directory at all yet.
    assert_missing "$XDG_STATE_HOME/wtbox"
    expect_exit 0 wtbox ls
    assert_eq "NAME  STATUS  BRANCH  PORTS  SINCE  CHANGES" "$(cat "$OUT")" "empty ls"
    [[ ! -s $ERR ]] || fail "stderr: $(_lib_show "$ERR")"
    expect_exit 0 wtbox ls --json
    assert_eq "[]" "$(cat "$OUT")" "empty ls --json"
    expect_exit 0 wtbox ls --all --json
    assert_eq "[]" "$(cat "$OUT")" "empty ls --all --json"
    cd "$T"
    mkdir -p plain
    expect_exit 125 wtbox -C plain ls
    assert_wtbox_error "not a git repository"
    expect_exit 0 wtbox -C plain ls --all
    expect_exit 125 wtbox ls extra
    assert_contains "$ERR" "wtbox ls: unexpected argument 'extra'"
    expect_exit 0 wtbox ls --help
    assert_contains "$OUT" "usage: wtbox ls [--all] [--json]"
    expect_exit 0 wtbox help
    local c
    for c in ls logs wait stop; do assert_match "$OUT" "^  $c "; done
}

test_ls_columns_and_json_fields() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name work -- sh -c '
        echo a >a.txt && git add a.txt && git commit -q -m one &&
        echo b >b.txt && echo c >c.txt && echo more >>README.md && git add README.md &&
        echo again >>README.md'
    expect_exit 0 wtbox run --name clean --keep -p 8080 -- true
    expect_exit 0 wtbox ls
    assert_match "$OUT" '^NAME +STATUS +BRANCH +PORTS +SINCE +CHANGES$'
    # b.txt, c.txt, README.md (staged and modified: once).
    local port p2
    port=$(rec work '.ports[0].host')
    # Ports are held only while the agent runs.
    assert_match "$OUT" "^work +exited 0 +wtbox/work +- +[0-9]+s +\\+1 ~3\$"
    # The agent's PORT, then the published one (host port -> 8080).
    port=$(rec clean '.ports[0].host')
    p2=$(rec clean '.ports[1].host')
    assert_eq 8080 "$(rec clean '.ports[1].inside')" "published port inside"
    assert_match "$OUT" "^clean +exited 0 +wtbox/clean +- +[0-9]+s +\\+0 ~0\$"
    # While it runs: the agent's PORT, then the published one (host port
    # -> 8080), the same ports again (they were free).
    expect_exit 0 wtbox run -d --name clean -p 8080 -- sleep 60
    expect_exit 0 wtbox ls
    assert_match "$OUT" "^clean +running +wtbox/clean +$port,$p2->8080 +[0-9]+s +-\$"
    expect_exit 0 wtbox stop clean
    assert_eq "clean work" "$(wtbox ls | awk 'NR > 1 { printf "%s%s", s, $1; s = " " }')" "sorted by name"
    "$WTBOX" ls --json >"$T/ls.json"
    jq -e '.[] | select(.name == "work") |
        .status == "exited" and .exit_status == 0 and .since >= 0 and
        .changes == {"ahead": 1, "dirty": 3} and .ahead == 1 and .dirty == 3 and
        .detached == false and .log == null and .command[0] == "sh" and .signal == 0 and
        .stopped == false and .state == "exited" and .branch == "refs/heads/wtbox/work" and
        (.worktree | type) == "string" and (.ports | type) == "array" and .policy == "default"' \
        "$T/ls.json" >/dev/null || fail "ls --json: $(_lib_show "$T/ls.json")"
}

test_ls_all_repositories() {
    need_sandbox
    make_repo one
    make_repo two
    expect_exit 0 wtbox -C one run --name in-one --keep -- true
    expect_exit 0 wtbox -C two run --name in-two --keep -- true
    expect_exit 0 wtbox -C one ls
    assert_contains "$OUT" in-one
    assert_not_contains "$OUT" in-two
    cd two
    expect_exit 0 wtbox ls
    assert_contains "$OUT" in-two
    assert_not_contains "$OUT" in-one
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" '^REPO +NAME +STATUS +BRANCH +PORTS +SINCE +CHANGES$'
    assert_match "$OUT" "^$T/one +in-one +exited 0 "
    assert_match "$OUT" "^$T/two +in-two +exited 0 "
    expect_exit 0 wtbox ls -a --json
    assert_eq "in-one in-two" "$(jq -r '[.[].name] | sort | join(" ")' "$OUT")" "ls --all --json"
}

# ls --all lines its columns up by what a terminal shows: a path in UTF-8
# takes a column per character (two for a wide one), and a control
# character in it is shown escaped, never sent to the terminal.
test_ls_all_columns_of_any_path() {
    need_sandbox
    local wide=$T/日本-é esc=$T/a$'\e'[31mb
    make_repo "$wide"
    make_repo "$esc"
    expect_exit 0 wtbox -C "$wide" run --name w --keep -- true
    expect_exit 0 wtbox -C "$esc" run --name e --keep -- true
    expect_exit 0 wtbox ls --all
    # The widest path: $T plus "/日本-é", 7 columns (the escaped one,
    # "/a\x1b[31mb", takes 11).
    local width=$((${#T} + 11)) pad
    printf -v pad '%*s' $((width - ${#T} - 7 + 2)) ''
    assert_eq "REPO$(printf '%*s' $((width - 4 + 2)) '')NAME  STATUS    BRANCH   PORTS  SINCE  CHANGES" \
        "$(head -n 1 "$OUT")" "the header"
    assert_contains "$OUT" "$wide${pad}w     exited 0  wtbox/w  -      "
    assert_contains "$OUT" "$T/a\x1b[31mb  e     exited 0  wtbox/e  -      "
    assert_not_contains "$OUT" $'\e'
}

test_corrupt_records_skipped_by_name() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name good --keep -- true
    local good dir
    good=$(agent_records good)
    dir=$(dirname "$good")
    mkdir "$dir/trunc" "$dir/garbage" "$dir/empty" "$dir/wrongtype"
    head -c 120 "$good/record.json" >"$dir/trunc/record.json"
    printf '\x00\xffgarbage' >"$dir/garbage/record.json"
    : >"$dir/empty/record.json"
    jq '.pid = "12"' "$good/record.json" >"$dir/wrongtype/record.json"
    expect_exit 0 wtbox ls
    assert_eq 2 "$(wc -l <"$OUT")" "ls lines (header + good)"
    assert_match "$OUT" '^good +exited 0 '
    assert_eq 4 "$(wc -l <"$ERR")" "one line per corrupt record"
    local n
    for n in trunc garbage empty; do
        assert_match "$ERR" "^wtbox: agent '$n' skipped: corrupt agent record '$dir/$n/record.json': not valid JSON \('wtbox rm --force $n' moves the agent to the trash\)\$"
    done
    assert_match "$ERR" "^wtbox: agent 'wrongtype' skipped: corrupt agent record '.*': field 'pid' is not a non-negative integer \('wtbox rm --force wrongtype' moves the agent to the trash\)\$"
    expect_exit 0 wtbox ls --json
    assert_eq good "$(jq -r '[.[].name] | join(" ")' "$OUT")" "ls --json lists the good one"
    expect_exit 0 wtbox ls --all
    assert_match "$OUT" " good +exited 0 "
    # By name: a clear error, one line.
    for n in logs wait stop; do
        expect_exit 125 wtbox "$n" trunc
        assert_wtbox_error "corrupt agent record '$dir/trunc/record.json': not valid JSON"
    done
    # The others are unaffected.
    expect_exit 0 wtbox wait good
    expect_exit 0 wtbox stop good
    assert_contains "$OUT" "agent 'good' is not running (exited 0"
    expect_exit 0 wtbox run -d --name next -- true
    expect_exit 0 wtbox wait next
}

# The way out of a corrupt record: rm refuses and names it, gc skips it and
# says so, rm --force moves the agent to the trash with its record (kept
# aside as it was) and deletes its branch, printing the id.
test_corrupt_record_removed_with_force() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name bad --keep -- sh -c 'echo mine >"$HOME/note"; echo wip >wip.txt'
    local dir wt tip
    dir=$(agent_records bad)
    wt=$(agent_worktrees bad)
    tip=$(git rev-parse wtbox/bad)
    printf '{garbage' >"$dir/record.json"
    expect_exit 125 wtbox rm bad
    assert_wtbox_error "corrupt agent record '$dir/record.json': not valid JSON ('wtbox rm --force bad' moves the agent to the trash)"
    expect_exit 125 wtbox run --name bad -- true
    assert_contains "$ERR" "('wtbox rm --force bad' moves the agent to the trash)"
    expect_exit 125 wtbox gc
    assert_eq "gc: nothing done; 1 skipped (above)" "$(cat "$OUT")" "gc output"
    assert_contains "$ERR" "wtbox: gc: skipped: corrupt agent record '$dir/record.json'"
    assert_dir "$wt"
    expect_exit 0 wtbox rm --force bad
    assert_contains "$ERR" "wtbox: agent 'bad': its record cannot be read; kept as '$dir/record.json.unreadable."
    assert_contains "$OUT" "wtbox: removed agent 'bad'"
    assert_contains "$OUT" "branch wtbox/bad deleted (was $tip; to restore: git branch wtbox/bad $tip)"
    assert_contains "$OUT" "discarded (--force): 1 untracked file (wip.txt)"
    assert_missing "$wt"
    assert_missing "$dir"
    # All of it in the trash, the unreadable record as it was.
    local entry
    entry=$(trash_entries | grep '\.bad\.')
    assert_eq wip "$(cat "$entry/worktree/wip.txt")" "the worktree in the trash"
    assert_eq mine "$(cat "$entry"/state/home/note)" "the home in the trash"
    assert_eq "{garbage" "$(cat "$entry"/state/record.json.unreadable.*)" "the record in the trash"
    assert_nothing_left . bad
    expect_exit 0 wtbox run --name bad -- true
    assert_nothing_left . bad
}

# rm --force killed once it set the unreadable record aside: the agent has
# the rebuilt record, and a plain rm finishes the job. A worktree that git
# puts somewhere wtbox does not is not touched.
test_corrupt_record_salvage_killed_or_refused() {
    need_sandbox
    make_repo repo
    cd repo
    [[ -x $WTBOX_FAULTS_BIN ]] || fail "no fault build at '$WTBOX_FAULTS_BIN'"
    expect_exit 0 wtbox run --name bad --keep -- true
    local dir
    dir=$(agent_records bad)
    printf '{garbage' >"$dir/record.json"
    WTBOX_FAULT=rm-salvaged:crash expect_exit 137 "$WTBOX_FAULTS_BIN" rm --force bad
    assert_eq "{garbage" "$(cat "$dir"/record.json.unreadable.*)" "the record kept aside"
    expect_exit 0 wtbox ls
    assert_match "$OUT" "^bad +exited 0 "
    expect_exit 0 wtbox rm bad
    assert_nothing_left . bad
    # git's worktree of that name elsewhere (its gitdir file edited).
    expect_exit 0 wtbox run --name odd --keep -- true
    dir=$(agent_records odd)
    printf '{garbage' >"$dir/record.json"
    mkdir "$T/elsewhere"
    echo "$T/elsewhere/.git" >"$(common_dir .)/worktrees/wtbox-odd/gitdir"
    expect_exit 125 wtbox rm --force odd
    assert_contains "$ERR" "wtbox: agent 'odd': its record cannot be read and git's worktree 'wtbox-odd' is at '$T/elsewhere', not where wtbox puts agents; nothing was removed"
    assert_eq "{garbage" "$(cat "$dir/record.json")" "the record"
    assert_dir "$T/elsewhere"
}

# A worktree of wtbox's whose record is gone (the state directory deleted):
# run says so.
test_record_gone() {
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name gone --keep -- true
    local wt
    wt=$(agent_worktrees gone)
    rm -rf "$(agent_records gone)"
    expect_exit 125 wtbox run --name gone -- true
    assert_wtbox_error "git worktree 'wtbox-gone' (at '$wt') is wtbox's but its agent record is gone; 'git worktree remove' it (its branch 'wtbox/gone' stays) or choose another agent name"
}

# rm --force does not take an agent whose record cannot be read while the
# wtbox that runs it (named in git's lock on the worktree) lives.
test_corrupt_record_of_running_agent() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    start_agent busy -- sleep 60
    printf '{garbage' >"$AGENT_REC"
    expect_exit 125 wtbox rm --force busy
    assert_contains "$ERR" "wtbox: agent 'busy': its record cannot be read and git's lock on its worktree names pid $AGENT_PID, which is alive; stop it first (or, if it is not wtbox, 'git worktree unlock $(agent_worktrees busy)')"
    assert_eq "{garbage" "$(cat "$AGENT_REC")" "the record"
    assert_dir "$(agent_worktrees busy)"
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    expect_exit 0 wtbox rm --force busy
    assert_nothing_left . busy
}

test_other_boot_is_not_running() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run -d --name boot -- sleep 300
    local sup sb f
    sup=$(rec boot .pid)
    sb=$(rec boot .sandbox_pid)
    track_pid "$sup"
    track_pid "$sb"
    f=$(agent_records boot)/record.json
    cp "$f" "$T/record.real"
    edit_record boot '.boot_id = "00000000-0000-4000-8000-000000000000"'
    assert_eq orphaned "$(rec boot .status)" "status with another boot id"
    expect_exit 0 wtbox stop -t 0 boot
    assert_contains "$OUT" "agent 'boot' is not running (orphaned"
    # Nothing was signalled: the record was not believed.
    pid_alive "$sup" || fail "the supervisor was signalled"
    pid_alive "$sb" || fail "the sandbox was signalled"
    cp "$T/record.real" "$f"
    assert_eq running "$(rec boot .status)" "status with the real record"
    expect_exit 0 wtbox stop boot
    wait_pid_gone "$sup" 5
}

# A pid that now belongs to another process is not the agent's: not its
# supervisor, and not its sandbox, which stop would SIGKILL.
test_reused_pid_not_mistaken() {
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name reuse --keep -- true
    sleep 300 &
    local decoy=$! decoy2 start
    track_pid "$decoy"
    sleep 300 &
    decoy2=$!
    track_pid "$decoy2"
    start=$(_lib_starttime "$decoy")
    # The supervisor's pid, with a start time that is not its process's.
    edit_record reuse ".state = \"running\" | .pid = $decoy | .pid_start = $((start + 1)) |
        .boot_id = \"$(cat /proc/sys/kernel/random/boot_id)\""
    assert_eq orphaned "$(rec reuse .status)" "status with a reused pid"
    expect_exit 0 wtbox stop -t 0 reuse
    assert_contains "$OUT" "is not running (orphaned"
    pid_alive "$decoy" || fail "stop signalled a process that only has the agent's old pid"
    expect_exit 125 wtbox wait reuse
    assert_wtbox_error "agent 'reuse' has no exit status"
    # Now the supervisor is "real" (right start time) but the sandbox's
    # pid is another process's: SIGTERM may go to the supervisor, SIGKILL
    # never to the pid that is not the sandbox's.
    edit_record reuse ".pid_start = $start | .sandbox_pid = $decoy2 |
        .sandbox_start = $(($(_lib_starttime "$decoy2") + 1))"
    assert_eq running "$(rec reuse .status)" "status with a live supervisor"
    expect_exit 0 wtbox stop -t 0 reuse
    wait_pid_gone "$decoy" 5
    pid_alive "$decoy2" || fail "stop SIGKILLed a pid it had not verified"
}

test_state_dir_missing_or_unusable() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name keep-me --keep -- true
    # Missing: no agents, nothing to find.
    XDG_STATE_HOME=$T/nowhere expect_exit 0 wtbox ls
    assert_eq 1 "$(wc -l <"$OUT")" "header only"
    XDG_STATE_HOME=$T/nowhere expect_exit 125 wtbox logs keep-me
    assert_wtbox_error "no agent 'keep-me' in repository"
    # Unusable, for root as for anyone: the path goes through a file.
    : >"$T/file"
    XDG_STATE_HOME=$T/file/state expect_exit 125 wtbox ls
    assert_wtbox_error "cannot list the agents in '$T/file/state/wtbox/"
    assert_contains "$ERR" "Not a directory"
    XDG_STATE_HOME=$T/file/state expect_exit 125 wtbox ls --all
    assert_wtbox_error "cannot list the agents in '$T/file/state/wtbox': Not a directory"
    XDG_STATE_HOME=$T/file/state expect_exit 125 wtbox run -d --name new -- true
    assert_wtbox_error "Not a directory"
    assert_nothing_left . new
    XDG_STATE_HOME=$T/file/state expect_exit 125 wtbox stop keep-me
    assert_wtbox_error "no agent 'keep-me'"
    # The real state directory and its agent are untouched.
    expect_exit 0 wtbox ls
    assert_match "$OUT" '^keep-me +exited 0 '
}

test_names_are_validated() {
    make_repo repo
    cd repo
    local c
    for c in logs wait stop; do
        expect_exit 125 wtbox "$c" ../etc
        assert_wtbox_error "invalid agent name '../etc'"
        expect_exit 125 wtbox "$c"
        assert_contains "$ERR" "wtbox $c: no agent name given"
        expect_exit 125 wtbox "$c" a b
        assert_contains "$ERR" "wtbox $c: one agent name only"
        expect_exit 0 wtbox "$c" --help
        assert_contains "$OUT" "usage: wtbox $c"
    done
}
