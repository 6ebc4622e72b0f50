#!/usr/bin/env python3
"""TCP peers for the port forwarding tests: servers that run inside a
sandbox and clients that run on the host. Loopback only; every wait is
bounded.

  tcptool.py serve PORT MODE [--host H] [--text T] [--ready FILE] [--seconds S]
      MODE text:  read the request (up to a blank line or EOF), answer T, close
           sum:   read until EOF, answer "<bytes> <sha256>", close
           greet: send T, shut down writing, read until EOF, write
                  "<bytes> <sha256>" to --out FILE
  tcptool.py get PORT [--host H]            print what a text server answers
  tcptool.py load PORT CONNS BYTES          CONNS concurrent connections to a
      sum server, each sending BYTES random bytes then half-closing; checks
      every answer; prints "ok CONNS" or the failures
  tcptool.py greet PORT BYTES               client of a greet server: reads
      until EOF with its own side still open, then sends BYTES and half-closes;
      prints "<greeting> <bytes> <sha256>"
  tcptool.py expect-reset PORT              connect, send a line, and report
      how the connection ended: "reset", "eof" or "data" (or "refused")
  tcptool.py try PORT [--host H]            prints "open" or "refused" (or
      "timeout")
"""
import argparse
import asyncio
import errno
import hashlib
import os
import resource
import socket
import sys


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def read_all(reader, limit=64 << 20):
    h, n = hashlib.sha256(), 0
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return n, h.hexdigest()
        n += len(chunk)
        h.update(chunk)
        if n > limit:
            raise ValueError("too much data")


async def serve(args):
    async def handle(reader, writer):
        try:
            if args.mode == "text":
                data = b""
                while b"\r\n\r\n" not in data and b"\n\n" not in data:
                    chunk = await asyncio.wait_for(reader.read(4096), args.seconds)
                    if not chunk:
                        break
                    data += chunk
                writer.write(args.text.encode() + b"\n")
                await writer.drain()
            elif args.mode == "sum":
                n, digest = await asyncio.wait_for(read_all(reader), args.seconds)
                writer.write(f"{n} {digest}\n".encode())
                await writer.drain()
            elif args.mode == "greet":
                writer.write(args.text.encode())
                await writer.drain()
                writer.write_eof()
                n, digest = await asyncio.wait_for(read_all(reader), args.seconds)
                with open(args.out + ".tmp", "w") as f:
                    f.write(f"{n} {digest}\n")
                os.rename(args.out + ".tmp", args.out)
        except (OSError, asyncio.TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = await asyncio.start_server(handle, args.host, args.port, family=family,
                                        backlog=4096, reuse_address=True)
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(args.ready + ".tmp", args.ready)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), args.seconds)
        except asyncio.TimeoutError:
            pass


async def load(args):
    sem = asyncio.Semaphore(args.conns)
    failures = []
    ready = asyncio.Event()
    connected = 0

    async def one(i):
        nonlocal connected
        payload = os.urandom(args.bytes)
        want = f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(args.host, args.port), args.seconds)
                connected += 1
                if connected == args.conns:
                    ready.set()
                # Every connection is open before any sends: they are
                # concurrent, not merely many.
                await asyncio.wait_for(ready.wait(), args.seconds)
                writer.write(payload)
                await writer.drain()
                writer.write_eof()
                got = (await asyncio.wait_for(reader.read(), args.seconds)).decode().strip()
                writer.close()
                if got != want:
                    failures.append(f"conn {i}: got '{got}', want '{want}'")
            except (OSError, asyncio.TimeoutError) as e:
                ready.set()
                failures.append(f"conn {i}: {type(e).__name__} {e}")

    await asyncio.gather(*(one(i) for i in range(args.conns)))
    if failures:
        print(f"failed {len(failures)} of {args.conns}")
        for f in failures[:10]:
            print(f)
        return 1
    print(f"ok {args.conns}")
    return 0


def connect(args):
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(args.seconds)
    s.connect((args.host, args.port))
    return s


def get(args):
    with connect(args) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    sys.stdout.write(out.decode())
    return 0


def greet(args):
    with connect(args) as s:
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        payload = os.urandom(args.bytes)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        print(got.decode(), len(payload), hashlib.sha256(payload).hexdigest())
    return 0


def expect_reset(args):
    try:
        s = connect(args)
    except ConnectionRefusedError:
        print("refused")
        return 0
    except ConnectionResetError:
        # The reset came before connect() returned (loopback is quick).
        print("reset")
        return 0
    with s:
        try:
            s.sendall(b"hello\n")
            data = s.recv(4096)
            print("data" if data else "eof")
        except ConnectionResetError:
            print("reset")
        except socket.timeout:
            print("timeout")
    return 0


def try_connect(args):
    try:
        with connect(args):
            print("open")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(f"error {e.errno}")
    return 0


def bindable(family, host, port):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            # No IPv6 loopback here: 127.0.0.1 alone counts, as for wtbox.
            return family == socket.AF_INET6 and e.errno in (
                errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL)
    return True


def free(args):
    """Prints the ports of PORT..PORT+COUNT-1 that wtbox could not take
    now (bound on 127.0.0.1 or ::1); exits 1 if there is one."""
    taken = [p for p in range(args.port, args.port + args.count)
             if not (bindable(socket.AF_INET, "127.0.0.1", p)
                     and bindable(socket.AF_INET6, "::1", p))]
    for p in taken:
        print(p)
    return 1 if taken else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "get", "load", "greet", "expect-reset", "try", "free"):
        sp = sub.add_parser(name)
        sp.add_argument("port", type=int)
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--seconds", type=float, default=20)
        if name == "serve":
            sp.add_argument("mode", choices=("text", "sum", "greet"))
            sp.add_argument("--text", default="hello")
            sp.add_argument("--ready")
            sp.add_argument("--out")
        if name == "load":
            sp.add_argument("conns", type=int)
            sp.add_argument("bytes", type=int)
        if name == "greet":
            sp.add_argument("bytes", type=int)
        if name == "free":
            sp.add_argument("count", type=int)
    args = p.parse_args()
    raise_nofile()
    if args.cmd == "serve":
        asyncio.run(serve(args))
        return 0
    if args.cmd == "load":
        return asyncio.run(load(args))
    return {"get": get, "greet": greet, "expect-reset": expect_reset,
            "try": try_connect, "free": free}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
