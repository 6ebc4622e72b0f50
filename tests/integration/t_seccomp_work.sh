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
