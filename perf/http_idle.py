#!/usr/bin/env python3
"""perf/http_idle.py — the client behind the HTTP benchmark's memory row: opens N
keep-alive connections to 127.0.0.1:PORT, sends `GET /` on each and reads the whole
13-byte answer (so every connection has gone through one request and sits idle in
keep-alive), prints `ready connections=N`, then holds them open until its stdin closes
(perf/http_bench.py reads the server's RSS meanwhile). Connections are opened in batches
so a small listen backlog never stalls a connect; every wait has a timeout.
Run: perf/http_idle.py --port P --connections N   (raises RLIMIT_NOFILE to its hard limit)"""
import argparse
import resource
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HELLO = b"Hello, world!"


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def read_answer(s, deadline):
    """Reads one response to GET / (ends with the 13-byte body); the server may use a
    Content-Length or, in principle, a single chunk, so the body's end is what counts."""
    data = b""
    while not (data.endswith(HELLO) or data.endswith(HELLO + b"\r\n0\r\n\r\n")):
        if time.monotonic() > deadline:
            raise TimeoutError("no complete answer to GET /")
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed a keep-alive connection")
        data += chunk
        if len(data) > 65536:
            raise ValueError("answer to GET / is over 64 KiB")
    if not data.startswith(b"HTTP/1.1 200"):
        raise ValueError(f"unexpected answer {data[:40]!r}")


def open_all(port, n, batch, timeout):
    conns = []
    deadline = time.monotonic() + timeout
    while len(conns) < n:
        group = []
        for _ in range(min(batch, n - len(conns))):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(REQUEST)
            group.append(s)
        for s in group:
            read_answer(s, deadline)
        conns += group
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=120, help="seconds for opening them all")
    a = ap.parse_args()
    limit = raise_nofile(a.connections + 64)
    if limit < a.connections + 64:
        print(f"http_idle: RLIMIT_NOFILE is {limit}, too low for {a.connections} connections", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        conns = open_all(a.port, a.connections, a.batch, a.timeout)
    except (OSError, ValueError) as e:   # TimeoutError and ConnectionError are OSErrors
        print(f"http_idle: {e}", file=sys.stderr)
        return 1
    print(f"ready connections={len(conns)} seconds={time.monotonic() - t0:.2f}", flush=True)
    sys.stdin.read()   # hold them until perf/http_bench.py closes our stdin
    for s in conns:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
