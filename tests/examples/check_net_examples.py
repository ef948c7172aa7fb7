#!/usr/bin/env python3
"""tests/examples/check_net_examples.py — runs the network examples against each other
over loopback (127.0.0.1 only) and checks what they print, under the poller named by
$GEV_POLLER. Every server is started with --seconds so it stops by itself, and every
wait has a timeout. Usage: check_net_examples.py BINARY... (echo_server, echo_client,
stress_client, select_server, select_client, http_hello, found by file name)."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
HTTP_RESPONSE = (b"HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n"
                 b"Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")
SUMMARY = re.compile(r"connections=(\d+) round_trips=(\d+) seconds=([\d.]+) rps=(\d+) "
                     r"p50_us=([\d.]+) p99_us=([\d.]+) mismatches=(\d+) errors=(\d+)")


def expect(cond, what, out=""):
    if not cond:
        print(f"FAILED ({os.environ.get('GEV_POLLER', '?')}): {what}\n--- output ---\n{out}", file=sys.stderr)
        sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server process whose stdout and stderr are collected by two threads."""

    def __init__(self, argv, ready):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._collect, args=(f, buf), daemon=True)
                        for f, buf in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.threads:
            t.start()
        with self.cond:
            ok = self.cond.wait_for(lambda: ready in self.text() or self.p.poll() is not None, timeout=10)
        expect(ok and self.p.poll() is None, f"{argv[0]} did not start (waited for {ready!r})", self.text())

    def _collect(self, f, buf):
        for chunk in iter(lambda: f.read1(4096), b""):
            with self.cond:
                buf.append(chunk)
                self.cond.notify_all()

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stdout(self):
        return b"".join(self.out)

    def text(self):
        return (self.stdout() + b"".join(self.err)).decode(errors="replace")

    def finish(self, timeout=10):
        """Waits for the server to stop by itself; returns its stdout."""
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            expect(False, "the server did not stop by itself", self.text())
        for t in self.threads:
            t.join(timeout=5)
        expect(rc == 0, f"server exit status {rc}", self.text())
        return self.stdout()


def run(argv, stdin=b"", timeout=20):
    p = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check_echo(bins):
    port = free_port()
    server = Server([bins["echo_server"], "--port", str(port), "--seconds", "5", "--quiet"], "listening on")
    client = [bins["echo_client"], "--host", HOST, "--port", str(port)]

    rc, out, err = run(client, b"hi\nhello world\n")
    expect(rc == 0, f"echo_client exit status {rc}: {err}", out)
    expect(out == ">>:Received b'hi'\n>>:Received b'hello world'\n>>:\n", "echo_client transcript", out)

    rc, out, err = run(client, b"\nit's\n")   # an empty line sends nothing and waits for nothing
    expect(rc == 0 and out == ">>:>>:Received b\"it's\"\n>>:\n", "empty line, then Python's repr", out + err)

    stress = [bins["stress_client"], "--host", HOST, "--port", str(port)]
    rc, out, err = run(stress + ["--connections", "20", "--seconds", "1", "--quiet"])
    lines = out.splitlines()
    expect(len(lines) == 1, "--quiet prints only the summary line", out + err)
    m = SUMMARY.fullmatch(lines[0])
    expect(m is not None, "summary line shape", out)
    conns, trips, _, _, _, _, mismatches, errors = m.groups()
    expect(rc == 0 and conns == "20" and int(trips) > 0 and mismatches == "0" and errors == "0",
           f"stress_client: exit status {rc}, 20 connections, round trips, no mismatch or error", out + err)

    rc, out, err = run(stress + ["--connections", "3", "--count", "2", "--size", "1000"])
    expect(rc == 0, f"stress_client --size: exit status {rc}", out + err)
    lines = out.splitlines()
    expect(sorted(lines[:-1]) == sorted(f"[{c}]recv from server: 1000 bytes" for c in range(3) for _ in range(2)),
           "one line per response", out)

    # SIGQUIT prints every fiber (the accept loop among them) and the server goes on.
    server.p.send_signal(signal.SIGQUIT)
    with server.cond:
        dumped = server.cond.wait_for(lambda: "spawned at" in server.text(), timeout=10)
    expect(dumped and "gev: fibers of 1 hub" in server.text() and server.p.poll() is None,
           "SIGQUIT dumps the fibers and the server goes on", server.text())

    rc, out, err = run(stress + ["--connections", "3", "--count", "2"])
    lines = out.splitlines()
    want = sorted(f"[{c}]recv from server: hello {n}" for c in range(3) for n in range(2))
    expect(rc == 0 and sorted(lines[:-1]) == want, "the seed's lines, hello 0 and 1 on each connection", out)
    m = SUMMARY.fullmatch(lines[-1])
    expect(m is not None and m.group(2) == "6", "6 round trips", out)
    server.finish()

    rc, out, err = run([bins["stress_client"], "--host", HOST, "--port", str(free_port()), "--connections", "3",
                        "--count", "1", "--quiet"])
    m = SUMMARY.fullmatch(out.strip())
    expect(rc != 0 and m is not None and m.group(8) == "3", "a refused connection is an error, not a crash",
           out + err)


def check_select(bins):
    port = free_port()
    server = Server([bins["select_server"], "--host", HOST, "--port", str(port), "--seconds", "8",
                     "--clients", "2"], "waiting for next event...")
    rc, out, err = run([bins["select_client"], "--host", HOST, "--port", str(port)])
    expect(rc == 0, f"select_client exit status {rc}: {err}", out)
    lines = out.splitlines()
    expect(lines[0] == f"connecting to {HOST} port {port}", "first line", out)
    ports = re.findall(r"^\('127\.0\.0\.1', (\d+)\): sending", out, re.M)[:2]
    expect(len(ports) == 2 and ports[0] != ports[1], "two client sockets", out)
    want = []
    for msg in ["This is the message. ", "It will be sent ", "in parts."]:
        want += [f"('127.0.0.1', {a}): sending \"b'{msg}'\"" for a in ports]
        want += [f"('127.0.0.1', {a}): received \"b'{msg.upper()}'\"" for a in ports]
    expect(lines[1:] == want, "the seed's 12 lines, replies upper-cased", out)

    sout = server.finish().decode()   # stops by itself after its 2 clients
    slines = sout.splitlines()
    expect(slines[0] == f"starting up on {HOST} port {port}" and slines[1] == "waiting for next event...",
           "server start lines", sout)
    for a in ports:
        expect(f"new connection from ('127.0.0.1', {a})" in slines, f"accepted {a}", sout)
        expect(any(l.startswith("客户端断开了 <socket.socket fd=") and l.endswith(f"raddr=('127.0.0.1', {a})>")
                   for l in slines), f"disconnect of {a}", sout)
    for msg in ["This is the message. ", "It will be sent ", "in parts."]:
        expect(slines.count(f"收到来自[127.0.0.1]的数据: b'{msg}'") == 2, f"received {msg!r} twice", sout)
        expect(slines.count(f"sending msg to [127.0.0.1] b'{msg}'") == 2, f"sent {msg!r} twice", sout)


def http_get(port, request):
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):   # the server closes after the response
            data += chunk
        return data


def check_http(bins):
    port = free_port()
    server = Server([bins["http_hello"], "--port", str(port), "--seconds", "3"], "listening on")
    data = http_get(port, b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    expect(data == HTTP_RESPONSE and len(data) == 114, "exactly the seed's 114 bytes, then close", repr(data))
    expect(http_get(port, b"GET /x HTTP/1.0\n\n") == HTTP_RESPONSE, "a request ended by \\n\\n", "")
    cpu0 = server.cpu_seconds()
    with socket.create_connection((HOST, port), timeout=5) as s:   # leaves mid-request
        s.sendall(b"GET / HTTP/1.0\r\n")
    expect(http_get(port, b"GET / HTTP/1.0\r\n\r\n") == HTTP_RESPONSE, "still serving after an aborted request", "")
    time.sleep(0.5)
    cpu = server.cpu_seconds() - cpu0   # the seed spun at 100 % here
    expect(cpu < 0.25, f"the server used {cpu:.2f} s of CPU in 0.5 s after a client left mid-request",
           server.text())
    out = server.finish()
    expect(("-" * 40 + "\nGET / HTTP/1.0\r\nHost: localhost\r\n\n").encode() in out, "the seed's request print",
           out.decode(errors="replace"))


def main():
    bins = {os.path.basename(p): p for p in sys.argv[1:]}
    need = ["echo_server", "echo_client", "stress_client", "select_server", "select_client", "http_hello"]
    expect(all(n in bins for n in need), f"binaries {need} on the command line, got {sorted(bins)}")
    check_echo(bins)
    check_select(bins)
    check_http(bins)


if __name__ == "__main__":
    main()
