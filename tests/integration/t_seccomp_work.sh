# t_seccomp_work.sh: ordinary work of a coding agent under default.json:
# build with make and cc, python3 threads, node worker threads, git commit,
# a dev server on loopback, a tarball unpack.

test_build_with_make_and_cc() {
    need_sandbox
    command -v cc >/dev/null && command -v make >/dev/null || skip "no cc or make"
    make_repo repo
    cd repo
    batch_sh build 'mkdir -p b && cd b &&
        printf "#include <stdio.h>\nint main(void){puts(\"built\");return 0;}\n" >hello.c &&
        printf "hello: hello.c\n\tcc -O2 -pthread -o hello hello.c\n" >Makefile &&
        make -s && ./hello'
    batch_run 0 --name build --policy default
    assert_probe build 0 built
}

test_python_threads_and_dev_server() {
    need_sandbox
    local py prefix
    # The system's python: a pyenv shim in a hidden home does not work
    # inside. Another one is granted with its prefix.
    py=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"
    prefix=$("$py" -c 'import sys; print(sys.base_prefix)')
    make_repo repo
    cd repo
    cat >"$T/serve.py" <<'PY'
import http.server, threading, urllib.request
results = []
def work(i):
    results.append(sum(range(i * 1000)))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print("threads", len(results))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"dev server up")
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
with urllib.request.urlopen("http://127.0.0.1:%d/" % srv.server_address[1], timeout=10) as r:
    print(r.read().decode())
srv.shutdown()
PY
    batch_sh py "$(printf '%q %q' "$py" "$T/serve.py")"
    batch_run 0 --name py --policy default --ro "$T/serve.py" --ro "$prefix"
    assert_probe py 0 "threads 8" "dev server up"
}

test_node_worker_thread() {
    need_sandbox
    local node
    node=$(command -v node) || skip "node is not installed"
    node=$(readlink -f "$node")
    make_repo repo
    cd repo
    cat >"$T/w.js" <<'JS'
const { Worker } = require("worker_threads");
const http = require("http");
const w = new Worker("require('worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
w.on("message", (v) => {
  console.log("worker " + v);
  const srv = http.createServer((q, s) => s.end("node server up")).listen(0, "127.0.0.1", () => {
    http.get({ host: "127.0.0.1", port: srv.address().port }, (r) => {
      let d = "";
      r.on("data", (c) => (d += c));
      r.on("end", () => { console.log(d); srv.close(); });
    });
  });
});
JS
    batch_sh node "$(printf '%q %q' "$node" "$T/w.js")"
    batch_run 0 --name node --policy default --ro "$T/w.js" --ro "$(dirname "$node")"
    assert_probe node 0 "worker 42" "node server up"
}

test_git_commit_and_tarball_unpack() {
    need_sandbox
    make_repo repo
    cd repo
    mkdir -p "$T/in/package/lib"
    printf '{"name": "x", "version": "1.0.0"}\n' >"$T/in/package/package.json"
    printf 'module.exports = 1;\n' >"$T/in/package/lib/index.js"
    chmod 0755 "$T/in/package/lib"
    tar -C "$T/in" -czf "$T/in.tgz" package
    rm -rf "$T/in"
    mkdir "$T/in" && mv "$T/in.tgz" "$T/in/"
    batch_sh tar "mkdir -p node_modules/x && tar -xzf $(printf %q "$T/in/in.tgz") -C node_modules/x \
        --strip-components=1 && cat node_modules/x/package.json"
    batch_sh commit 'echo change >>README.md && git commit -qam "agent work" && git log -1 --format=%s'
    batch_run 0 --name gc --policy default --ro "$T/in" --report "$T/report.json"
    assert_probe tar 0 '{"name": "x", "version": "1.0.0"}'
    assert_probe commit 0 "agent work"
    assert_eq "agent work" "$(git log -1 --format=%s wtbox/gc)" "the commit on the agent's branch"
}

# The command is the leader of a session of its own, in the sandbox's
# directory, with none of wtbox's files: whether it loaded its filter
# while init built the sandbox (the default policy lets the last steps
# through) or, with a policy that refuses one of them, only after it
# took its session, cwd and fds, as it does with a terminal.
test_command_setup_with_and_without_early_filter() {
    need_sandbox
    local check
    command -v python3 >/dev/null || skip "no python3"
    make_repo repo
    cd repo
    # Field 6 of /proc/self/stat is the session (sh's name has no space).
    check='read -r pid comm state ppid pgrp sid rest </proc/self/stat
        [ "$sid" = "$$" ] && echo leader
        [ "$(pwd -P)" = "$WTBOX_WORKTREE" ] && echo cwd
        ls /proc/self/fd | wc -l'
    printf '%s\n' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["setsid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}' >"$T/nosetsid.json"
    expect_exit 0 wtbox run --name es --policy "$T/nosetsid.json" -- sh -c "$check"
    assert_contains "$OUT" leader
    assert_contains "$OUT" cwd
    # The command's own files: 0, 1, 2 and the one ls opened.
    assert_eq 4 "$(tail -n 1 "$OUT")" "open fds"
    expect_exit 0 wtbox run --name es -- sh -c "$check"
    assert_contains "$OUT" leader
    assert_contains "$OUT" cwd
    assert_eq 4 "$(tail -n 1 "$OUT")" "open fds"
    # The policy is in force: a child of the command (not a session
    # leader, so setsid would work) is refused, and allowed without it.
    cat >"$T/setsid.py" <<'PY'
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.setsid()
        os._exit(0)
    except PermissionError:
        os._exit(1)
sys.exit(os.waitpid(pid, 0)[1] >> 8)
PY
    expect_exit 1 wtbox run --name es --policy "$T/nosetsid.json" --ro "$T/setsid.py" -- \
        python3 "$T/setsid.py"
    expect_exit 0 wtbox run --name es --ro "$T/setsid.py" -- python3 "$T/setsid.py"
}

# init keeps the early command off its own CPU until the command's go;
# the command then has every CPU wtbox had, with the early start and
# without it (--log-denials starts the command late).
test_command_gets_every_cpu() {
    need_sandbox
    local want
    want=$(grep '^Cpus_allowed_list:' /proc/self/status)
    (($(nproc) >= 2)) || skip "one CPU: the early command cannot be kept off init's"
    make_repo repo
    cd repo
    expect_exit 0 wtbox run --name c -- grep '^Cpus_allowed_list:' /proc/self/status
    assert_eq "$want" "$(cat "$OUT")" "the early command's CPUs"
    expect_exit 0 wtbox run --name c --log-denials -- grep '^Cpus_allowed_list:' /proc/self/status
    assert_eq "$want" "$(cat "$OUT")" "the late command's CPUs"
    # A narrower set wtbox is started with is the command's set too.
    local list=${want#*:} one
    list=${list//[[:space:]]/}
    one=${list%%[-,]*}
    expect_exit 0 taskset -c "$one" "$WTBOX" run --name c -- \
        grep '^Cpus_allowed_list:' /proc/self/status
    assert_eq "Cpus_allowed_list:	$one" "$(cat "$OUT")" "under taskset -c $one"
}
