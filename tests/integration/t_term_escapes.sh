# t_term_escapes.sh: names the agent chose (files, branches, refs) reach
# the user's terminal escaped: control bytes, C1 controls and bytes that
# are not UTF-8 as \xHH, so that a file name cannot set the clipboard
# (OSC 52), clear the screen or forge a line of wtbox's. The JSON report
# keeps them as they are.

OSC52=$'\e]52;c;aGk=\a'     # sets the clipboard to "hi"
CLEAR=$'\e[2Jclear'         # clears the screen
FORGED=$'notes\nwtbox: FORGED line'
C1=$'c1-\xc2\x9b2J'         # U+009B, CSI, in UTF-8
RAW=$'raw-\x9b2J'           # the 8-bit CSI byte (not UTF-8)
UTF=$'\xc3\xa9t\xc3\xa9.txt' # printable UTF-8: kept as it is

# assert_terminal_safe FILE: no raw ESC, BEL or 0x9b (CSI, alone or in
# c2 9b), and no line forged by a newline in a name.
assert_terminal_safe() {
    local b
    for b in $'\x1b' $'\x07' $'\x9b'; do
        ! LC_ALL=C grep -qF -- "$b" "$1" ||
            fail "a raw byte $(printf '%q' "$b") in '$1', which holds: $(cat -v "$1")"
    done
    ! grep -q '^wtbox: FORGED' "$1" || fail "a line forged by a file name in '$1': $(cat -v "$1")"
}

# The lists of the report after a run: staged and untracked names.
test_file_names_escaped_in_run_report() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name x --report "$T/report.json" -- \
        sh -c 'for f in "$@"; do echo x >"$f"; done && git add -- "$1"' sh \
        "$OSC52" "$CLEAR" "$FORGED" "$C1" "$RAW" "$UTF"
    assert_contains "$ERR" "wtbox: agent 'x' kept: 0 commits ahead, 1 staged, 0 modified, 0 deleted, 5 untracked"
    assert_terminal_safe "$ERR"
    assert_terminal_safe "$OUT"
    assert_contains "$ERR" '  staged    \x1b]52;c;aGk=\x07'
    assert_contains "$ERR" '\x1b[2Jclear'
    assert_contains "$ERR" 'notes\x0awtbox: FORGED line'
    assert_contains "$ERR" 'c1-\xc2\x9b2J'
    assert_contains "$ERR" 'raw-\x9b2J'
    assert_contains "$ERR" "$UTF"
    # The report holds the names themselves. jq reads a byte that is not
    # UTF-8 as U+FFFD: that one is looked for byte by byte.
    jq -e --arg s "$OSC52" --arg a "$CLEAR" --arg b "$FORGED" --arg c "$C1" --arg u "$UTF" \
        '.staged == [$s] and (.untracked | length) == 5 and ([$a, $b, $c, $u] - .untracked) == []' \
        "$T/report.json" >/dev/null || fail "the report lost the names: $(cat -v "$T/report.json")"
    LC_ALL=C grep -qF "\"$RAW\"" "$T/report.json" ||
        fail "no \"$(printf '%q' "$RAW")\" in the report: $(cat -v "$T/report.json")"
}

# Refs: a branch the agent made (imported as wtbox/x@...), HEAD on it, a
# tag (not imported) and a loose ref whose name git would refuse.
test_ref_names_escaped_in_import_and_report() {
    need_sandbox
    need_jq
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name x --report "$T/report.json" -- \
        sh -c 'git checkout -q -b "$1" && echo x >f && git add f && git commit -q -m side &&
            git tag "$2" && git rev-parse HEAD >"$(git rev-parse --git-dir)/refs/heads/$3"' sh \
        $'side\xc2\x9b2J' $'t\xc2\x9b2J' "$CLEAR"
    assert_terminal_safe "$ERR"
    assert_contains "$ERR" "wtbox: agent 'x': imported wtbox/x@side\\xc2\\x9b2J -> "
    assert_contains "$ERR" "wtbox: agent 'x': not imported: refs/tags/t\\xc2\\x9b2J: tags are not imported"
    assert_contains "$ERR" "wtbox: agent 'x': ignored refs/heads/\\x1b[2Jclear: not a ref"
    assert_contains "$ERR" "  HEAD      refs/heads/wtbox/x@side\\xc2\\x9b2J"
    assert_contains "$ERR" "  branches  wtbox/x@side\\xc2\\x9b2J"
    jq -e --arg h $'refs/heads/wtbox/x@side\xc2\x9b2J' --arg t $'refs/tags/t\xc2\x9b2J' \
        --arg r "$CLEAR" '.head_ref == $h and .branches == [$h[11:]] and
            .not_imported == [$t + ": tags are not imported"] and
            .git_notes == ["ignored refs/heads/" + $r + ": not a ref"]' \
        "$T/report.json" >/dev/null || fail "the report lost the names: $(cat -v "$T/report.json")"
    git rev-parse -q --verify $'refs/heads/wtbox/x@side\xc2\x9b2J' >/dev/null ||
        fail "the agent's branch was not imported"
}

# rm's refusal (an error: wtb_error_report) and the --force lines: one
# line each, names escaped.
test_rm_listing_escaped() {
    need_sandbox
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name x -- \
        sh -c 'for f in "$1" "$2" "$3"; do echo x >"$f"; done && git add -- "$1" && git branch "$4" &&
            git tag "$5"' sh "$C1" "$OSC52" "$FORGED" $'side\xc2\x9b2J' $'t\xc2\x9b2J'
    expect_exit 125 wtbox rm x
    assert_terminal_safe "$ERR"
    assert_match "$ERR" "^wtbox: cannot remove agent 'x': .*nothing was removed \(--force removes it anyway\)$"
    assert_contains "$ERR" 'wtbox: cannot remove agent '"'x'"': 1 uncommitted change (c1-\xc2\x9b2J); 2 untracked files (\x1b]52;c;aGk=\x07, notes\x0awtbox: FORGED line)'
    assert_contains "$ERR" '; not imported from its git directory: ref refs/tags/t\xc2\x9b2J: tags are not imported; '
    assert_eq "" "$(cat "$OUT")" "stdout of a refused rm"
    assert_dir "$(agent_worktrees x)"
    expect_exit 0 wtbox rm --force x
    assert_terminal_safe "$ERR"
    assert_terminal_safe "$OUT"
    assert_contains "$OUT" 'discarded (--force): 1 uncommitted change (c1-\xc2\x9b2J); 2 untracked files (\x1b]52;c;aGk=\x07, notes\x0awtbox: FORGED line)'
    assert_contains "$OUT" 'branch wtbox/x@side\xc2\x9b2J deleted (was '
    assert_nothing_left . x
}
