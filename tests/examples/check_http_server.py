#!/usr/bin/env python3
"""tests/examples/check_http_server.py — interop check of examples/http_server's contract
(issue 12) with two real clients: Python's http.client (100 keep-alive requests on one
connection, chunked POST /echo, PUT /echo with a Content-Length, /stream?n=5 as chunked
lines, 404) and the curl command (100 URLs in one invocation over one connection, a
chunked upload). Runs the server on a free loopback port with --threads 1 and 2 under
the poller named by $GEV_POLLER, then stops it with SIGINT (1 thread) or SIGTERM (2)
while a keep-alive connection sits idle, and expects a clean exit. Every wait is bounded;
the server is killed on any failure. Usage: check_http_server.py HTTP_SERVER_BINARY"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
HELLO = b"Hello, world!"
STOP_SECONDS = 10   # the server's graceful stop, idle keep-alive connection included


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """The binary on a free port; its output goes to a temp file (no pipe to fill)."""

    def __init__(self, binary, threads):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen([binary, "--port", str(self.port), "--threads", str(threads)],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            expect(self.p.poll() is None, f"the server exited at start with status {self.p.returncode}")
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                expect(time.monotonic() < deadline, "the server did not listen within 10 s")
                time.sleep(0.02)

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def local_port(conn):
    return conn.sock.getsockname()[1] if conn.sock else None


def check_keep_alive(port):
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    first = None
    for i in range(100):
        c.request("GET", "/")
        r = c.getresponse()
        body = r.read()
        expect(r.status == 200, f"GET / #{i}: status {r.status}")
        expect(r.getheader("Content-Type") == "text/plain", f"GET / #{i}: Content-Type {r.getheader('Content-Type')}")
        expect(body == HELLO, f"GET / #{i}: body {body!r}")
        expect(r.getheader("Content-Length") == "13", f"GET / #{i}: Content-Length {r.getheader('Content-Length')}")
        expect(not r.will_close, f"GET / #{i}: the server ends the keep-alive connection")
        first = first or local_port(c)
        expect(local_port(c) == first, f"GET / #{i}: http.client had to open a new connection")
    return c


def check_requests(c):
    """The rest of the contract on the keep-alive connection check_keep_alive() left."""
    pieces = [b"hello ", b"chunked ", bytes(range(256)) * 256, b"", b" end"]   # an empty piece is skipped
    c.request("POST", "/echo", body=iter(pieces), encode_chunked=True,
              headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse()
    body = r.read()
    expect(r.status == 200 and body == b"".join(pieces),
           f"chunked POST /echo: status {r.status}, {len(body)} bytes back of {len(b''.join(pieces))}")
    payload = os.urandom(10000)
    c.request("PUT", "/echo", body=payload)   # http.client sends a Content-Length
    r = c.getresponse()
    body = r.read()
    expect(r.status == 200 and body == payload, f"PUT /echo: status {r.status}, {len(body)} bytes back of 10000")
    c.request("POST", "/echo", body=b"")
    r = c.getresponse()
    body = r.read()
    expect(r.status == 200 and body == b"", f"empty POST /echo: status {r.status}, body {body[:40]!r}")
    c.request("GET", "/stream?n=5")
    r = c.getresponse()
    chunked = r.chunked   # read() resets it
    body = r.read()
    lines = body.split(b"\n")
    expect(r.status == 200, f"GET /stream?n=5: status {r.status}")
    expect(chunked and r.getheader("Transfer-Encoding", "").lower() == "chunked",
           f"GET /stream?n=5: not chunked (headers {r.getheaders()})")
    expect(len(lines) == 6 and lines[-1] == b"" and all(lines[:5]), f"GET /stream?n=5: body {body!r}")
    c.request("GET", "/no/such/path")
    r = c.getresponse()
    r.read()
    expect(r.status == 404, f"GET /no/such/path: status {r.status}")
    c.request("GET", "/")
    r = c.getresponse()
    expect(r.status == 200 and r.read() == HELLO, "GET / after a 404")


def curl(args, what, stdin=None):
    p = subprocess.run(["curl", "-sS", "--max-time", "30"] + args, input=stdin, capture_output=True, timeout=60)
    expect(p.returncode == 0, f"curl {what}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
    return p.stdout


def check_curl(port):
    base = f"http://{HOST}:{port}"
    args = ["-w", "%{num_connects} %{http_code} %{size_download}\\n"]
    for _ in range(100):
        args += ["-o", "/dev/null", base + "/"]
    rows = [line.split() for line in curl(args, "100 × GET /").decode().splitlines()]
    expect(len(rows) == 100, f"curl printed {len(rows)} lines for 100 URLs")
    expect(all(r[1:] == ["200", "13"] for r in rows), f"curl: answers {sorted(set(' '.join(r[1:]) for r in rows))}")
    connects = sum(int(r[0]) for r in rows)
    expect(connects == 1, f"curl opened {connects} connections for 100 requests (keep-alive reuse)")
    payload = os.urandom(5000)
    back = curl(["--data-binary", "@-", "-H", "Transfer-Encoding: chunked", "-H",
                 "Content-Type: application/octet-stream", base + "/echo"], "chunked POST /echo", payload)
    expect(back == payload, f"curl chunked POST /echo: {len(back)} bytes back of 5000")
    back = curl(["-T", "-", base + "/echo"], "PUT /echo", payload)   # stdin upload: chunked PUT
    expect(back == payload, f"curl PUT /echo: {len(back)} bytes back of 5000")


def check_stop(server, idle, sig):
    """A signal stops the server within STOP_SECONDS though `idle` still holds a
    keep-alive connection; the server closes it and exits 0."""
    server.p.send_signal(sig)
    try:
        status = server.p.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        raise Failed(f"{signal.Signals(sig).name}: still running after {STOP_SECONDS} s (idle keep-alive open)")
    expect(status == 0, f"{signal.Signals(sig).name}: exit status {status}")
    idle.sock.settimeout(5)
    try:
        rest = idle.sock.recv(1)
    except ConnectionResetError:   # a reset also ends it; a timeout is a failure
        rest = b""
    expect(rest == b"", f"the idle keep-alive connection got {rest!r} after the stop")


def run_one(binary, threads, sig):
    server = Server(binary, threads)
    try:
        idle = check_keep_alive(server.port)
        check_requests(idle)
        check_curl(server.port)
        check_stop(server, idle, sig)
        idle.close()
    except (Failed, OSError, http.client.HTTPException, subprocess.TimeoutExpired) as e:
        server.kill()
        print(f"FAILED ({os.environ.get('GEV_POLLER', '?')}, --threads {threads}): {e}\n"
              f"--- server output ---\n{server.output()}", file=sys.stderr)
        return False
    finally:
        server.kill()
    print(f"ok: --threads {threads}, {signal.Signals(sig).name} ({os.environ.get('GEV_POLLER', 'default poller')})")
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_http_server.py HTTP_SERVER_BINARY")
    if not shutil.which("curl"):
        print("curl is not installed (Debian package curl): skipped")
        return 77
    ok = run_one(sys.argv[1], 1, signal.SIGINT)
    ok = run_one(sys.argv[1], 2, signal.SIGTERM) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
