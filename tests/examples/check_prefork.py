#!/usr/bin/env python3
"""tests/examples/check_prefork.py — examples/prefork_server's contract, over loopback
(127.0.0.1 only), under the poller named by $GEV_POLLER: 3 workers start and each says
so; echo works on many connections at once, and they are served by more than one worker;
a SIGKILLed worker is replaced within two seconds and service goes on; SIGTERM drains
and stops every worker and the parent exits 0 with no worker left behind. Every wait
is bounded. Usage: check_prefork.py PREFORK_SERVER."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
STARTED = re.compile(r"worker (\d+) started")
SERVES = re.compile(r"worker (\d+) serves")


def fail(what, out=""):
    print(f"FAILED ({os.environ.get('GEV_POLLER', '?')}): {what}\n--- output ---\n{out}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Server:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._collect, daemon=True)
        self.reader.start()

    def _collect(self):
        for line in iter(self.p.stdout.readline, b""):
            with self.cond:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_for(self, pred, what, timeout=10):
        with self.cond:
            if not self.cond.wait_for(lambda: pred(self.lines) or self.p.poll() is not None, timeout=timeout) \
                    or not pred(self.lines):
                self.kill_all()
                fail(what, "\n".join(self.lines))

    def started(self):
        with self.cond:
            return [int(m.group(1)) for line in self.lines for m in [STARTED.search(line)] if m]

    def kill_all(self):
        for pid in self.started():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.kill()
        self.p.wait()


def echo_many(port, n, payload_size):
    """Opens n connections at once, then echoes a distinct payload on each."""
    conns = [socket.create_connection((HOST, port), timeout=10) for _ in range(n)]
    try:
        for i, c in enumerate(conns):
            data = (f"conn {i} " * payload_size).encode()[:payload_size]
            c.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = c.recv(65536)
                if not chunk:
                    break
                got += chunk
            if got != data:
                return f"connection {i}: sent {len(data)} bytes, got {len(got)} back (or different bytes)"
    finally:
        for c in conns:
            c.close()
    return None


def main():
    binary = sys.argv[1]
    port = free_port()
    deadline = time.monotonic() + 60
    # At most 4 connections per worker: 10 held at once must spread over 3 workers.
    s = Server([binary, "--port", str(port), "--workers", "3", "--connections", "4", "--grace", "2",
                "--log-connections"])
    s.wait_for(lambda ls: any("prefork_server: listening on 127.0.0.1:" in l for l in ls), "no ready line")
    s.wait_for(lambda ls: len(s.started()) >= 3, "3 workers did not start")
    first = s.started()[:3]
    if s.p.pid in first or len(set(first)) != 3:
        s.kill_all()
        fail(f"worker pids {first} are not 3 distinct children", s.text())

    err = echo_many(port, 10, 10000)
    if err:
        s.kill_all()
        fail(err, s.text())
    s.wait_for(lambda ls: sum(1 for l in ls if SERVES.search(l)) >= 10, "not every connection was logged")
    serving = {int(m.group(1)) for l in s.text().splitlines() for m in [SERVES.search(l)] if m}
    if len(serving) < 2 or not serving <= set(first):
        s.kill_all()
        fail(f"connections served by workers {sorted(serving)}: expected several of {first}", s.text())

    victim = first[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    s.wait_for(lambda ls: len(s.started()) >= 4, "the killed worker was not replaced", timeout=5)
    replaced_after = time.monotonic() - killed_at
    if replaced_after > 2.5:
        s.kill_all()
        fail(f"the killed worker was replaced after {replaced_after:.1f} s", s.text())
    if not any(f"worker {victim} died (killed by signal 9)" in l for l in s.text().splitlines()):
        s.kill_all()
        fail("no line says that the worker died", s.text())
    err = echo_many(port, 6, 1000)
    if err:
        s.kill_all()
        fail("after the restart: " + err, s.text())

    workers = [p for p in s.started() if p != victim]
    held = socket.create_connection((HOST, port), timeout=10)   # open across the drain
    held.sendall(b"still here")
    if held.recv(64) != b"still here":
        s.kill_all()
        fail("the held connection did not echo", s.text())
    s.p.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    held.sendall(b"draining")   # its worker finishes its connections within the grace period
    got = held.recv(64)
    held.close()
    try:
        rc = s.p.wait(timeout=max(1, min(15, deadline - time.monotonic())))
    except subprocess.TimeoutExpired:
        s.kill_all()
        fail("the parent did not exit after SIGTERM", s.text())
    s.reader.join(timeout=5)
    if rc != 0:
        s.kill_all()
        fail(f"parent exit status {rc}", s.text())
    if got != b"draining":
        s.kill_all()
        fail(f"a connection open at SIGTERM was cut: got {got!r}", s.text())
    left = [p for p in workers if alive(p)]
    if left:
        s.kill_all()
        fail(f"workers {left} outlived the parent", s.text())
    stopped = len(re.findall(r"worker \d+ stopped", s.text()))
    if stopped != 3 or "prefork_server: stopped" not in s.text():
        fail(f"{stopped} workers said they stopped (expected 3)", s.text())
    print(f"prefork_server ok ({os.environ.get('GEV_POLLER', '?')}): served by {len(serving)} workers, "
          f"replaced a killed worker in {replaced_after:.2f} s, drained and stopped")


if __name__ == "__main__":
    main()
