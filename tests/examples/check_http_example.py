#!/usr/bin/env python3
"""tests/examples/check_http_example.py — examples/http_server's contract, spoken to with
Python's http.client only (127.0.0.1): GET / (200, text/plain, "Hello, world!"), one
connection reused for many requests, POST/PUT /echo with Content-Length and chunked
bodies, GET /stream?n=K in chunked encoding, 404, HEAD, then a graceful stop on SIGTERM
(and on SIGINT), with 1 and 2 hubs, and SIGQUIT's fiber dump; with --debug (2 hubs) the
debug page: /debug/stats valid JSON with one entry per hub, /debug/fibers the dump,
/debug/monkey, and the contract unchanged beside it. Usage: check_http_example.py BINARY"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"


def expect(cond, what):
    if not cond:
        print(f"FAILED ({os.environ.get('GEV_POLLER', '?')}): {what}", file=sys.stderr)
        sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(binary, threads, extra=()):
    port = free_port()
    p = subprocess.Popen([binary, "--port", str(port), "--threads", str(threads), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return p, port
        except OSError:
            time.sleep(0.02)
    p.kill()
    expect(False, "the server did not start listening")


def plain_connection(port):
    return http.client.HTTPConnection(HOST, port, timeout=10)


# `connect` makes the client connection (check_https_example.py passes an HTTPS one).
def check_contract(port, connect=plain_connection):
    c = connect(port)
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    expect(r.status == 200 and body == b"Hello, world!", f"GET / -> {r.status} {body!r}")
    expect(r.getheader("Content-Type") == "text/plain", f"Content-Type {r.getheader('Content-Type')}")
    expect(r.getheader("Content-Length") == "13", "Content-Length 13")
    first_sock = c.sock
    for i in range(100):   # keep-alive: the same socket all along
        c.request("GET", "/")
        r = c.getresponse()
        expect(r.read() == b"Hello, world!", "a keep-alive GET /")
    expect(c.sock is first_sock, "100 requests over one connection")
    payload = os.urandom(100_000)
    for method in ("POST", "PUT"):
        c.request(method, "/echo", body=payload)
        r = c.getresponse()
        expect(r.status == 200 and r.read() == payload, f"{method} /echo with Content-Length")
    c.request("POST", "/echo", body=iter([b"abc", b"", b"defg", b"x" * 5000]), encode_chunked=True)
    r = c.getresponse()
    expect(r.status == 200 and r.read() == b"abcdefg" + b"x" * 5000, "POST /echo chunked")
    c.request("GET", "/stream?n=5")
    r = c.getresponse()
    expect(r.getheader("Transfer-Encoding") == "chunked", "/stream is chunked")
    lines = r.read().decode().splitlines()
    expect(len(lines) == 5, f"/stream?n=5 gave {lines}")
    c.request("GET", "/nowhere")
    r = c.getresponse()
    r.read()
    expect(r.status == 404, f"unknown path -> {r.status}")
    c.request("HEAD", "/")
    r = c.getresponse()
    expect(r.status == 200 and r.read() == b"" and r.getheader("Content-Length") == "13", "HEAD /")
    expect(c.sock is first_sock, "every request on one connection")
    c.close()


def stop(p, sig):
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        expect(False, f"no stop within 10 s of signal {sig}")
    expect(p.returncode == 0, f"exit status {p.returncode} after signal {sig}: {err.decode()}")
    expect(b"stopped" in out, "the server says it stopped")


def check_sigquit(binary):
    p, port = start(binary, 1)
    p.send_signal(signal.SIGQUIT)
    c = http.client.HTTPConnection(HOST, port, timeout=10)   # still serving after the dump
    c.request("GET", "/")
    expect(c.getresponse().read() == b"Hello, world!", "serving after SIGQUIT")
    c.close()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    expect(b"hub 0" in err, f"SIGQUIT printed the fibers: {err.decode()!r}")


def get(c, path):
    c.request("GET", path)
    r = c.getresponse()
    return r, r.read()


def check_debug(binary):
    p, port = start(binary, 2, ["--debug"])
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=10)
        r, body = get(c, "/debug/stats")
        expect(r.status == 200 and r.getheader("Content-Type") == "application/json", f"/debug/stats -> {r.status}")
        hubs = json.loads(body)["hubs"]
        expect([h["hub"] for h in hubs] == [0, 1], f"one stats entry per hub: {body!r}")
        expect(all(h["answered"] and h["fibers"] >= 1 and h["switches"] >= 1 for h in hubs), f"stats {hubs}")
        r, body = get(c, "/debug/fibers")
        expect(r.status == 200 and body.startswith(b"gev: fibers of 2 hubs, asked from hub "), f"/debug/fibers {body!r}")
        expect(b"hub 0 (" in body and b"hub 1 (" in body, f"/debug/fibers lists both hubs: {body!r}")
        r, body = get(c, "/debug/monkey")
        expect(r.status == 200 and body.startswith(b"monkey: not loaded"), f"/debug/monkey {body!r}")
        r, body = get(c, "/debug/")
        expect(r.status == 200 and b'href="/debug/stats"' in body, f"/debug/ index {body!r}")
        r, body = get(c, "/debug/nothing")
        expect(r.status == 404, f"/debug/nothing -> {r.status}")
        c.close()
        check_contract(port)
    except Exception:
        p.kill()
        raise
    stop(p, signal.SIGTERM)
    p, port = start(binary, 1)   # off by default
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    r, body = get(c, "/debug/stats")
    expect(r.status == 404, f"/debug/stats without --debug -> {r.status}")
    c.close()
    stop(p, signal.SIGTERM)


def main():
    binary = sys.argv[1]
    for threads, sig in ((1, signal.SIGTERM), (2, signal.SIGINT)):
        p, port = start(binary, threads)
        try:
            check_contract(port)
        except Exception:
            p.kill()
            raise
        stop(p, sig)
    check_sigquit(binary)
    check_debug(binary)


if __name__ == "__main__":
    main()
