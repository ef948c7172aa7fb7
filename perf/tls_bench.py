#!/usr/bin/env python3
"""perf/tls_bench.py — TLS servers side by side, interleaved (round 1: A B C, round 2:
B C A, ...), issue 13 §5: the TLS 1.3 echo (perf/tls_loadgen against the plain C epoll +
OpenSSL floor, gev's examples/tls_echo_server on each poller and Go crypto/tls), HTTPS
keep-alive under wrk (nginx, the reference, against gev's examples/http_server
--tls-cert/--tls-key), and new handshakes (perf/tls_loadgen --mode handshake). Server
pinned to core 0, load to core 1; the figure that matters is the server's CPU per round
trip, request or handshake, from /proc/PID/stat. Every server gets the same ECDSA P-256
certificate, made per run with the openssl command into a temp dir. perf/suite.py calls run().
Run: perf/tls_bench.py [--build build-perf] [--rounds 3] [--seconds 3] [--go-tls PATH]
     [--only c_floor,gev_uring,...] [--tables echo,https,handshake]; prints the Markdown section."""
import argparse
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import http.client

import catalog
from echo_bench import free_port, wait_listening
from http_bench import cpu_ticks, fill, parse_wrk, raise_nofile, rotated, which

ROOT = os.path.dirname(os.path.abspath(__file__))


class Server:
    """`argvs`: for each table it takes part in, `argv(port, dir, cert, key)`; extra
    environment; `http`: the tables where it speaks HTTP (its handshake row then sends
    GET / rather than 64 bytes to echo)."""

    def __init__(self, argvs, env=None, http=()):
        self.argvs, self.env, self.http = argvs, env or {}, set(http)


def nginx_argv(nginx):
    def argv(port, d, cert, key):
        conf = fill("nginx_tls.conf.in", os.path.join(d, "nginx.conf"),
                    {"PORT": str(port), "DIR": d, "CERT": cert, "KEY": key})
        return [nginx, "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")]
    return argv


def servers(build, go_tls=None):
    """The TLS servers this build and machine have, and notes on the ones they lack.
    gev on one poller is one column: examples/tls_echo_server for the echo and its
    handshakes, examples/http_server for HTTPS; gev_http_uring is http_server's handshake
    row, the one that sends nginx's request."""
    out, notes = {}, []
    floor = os.path.join(build, "perf", "tls_epoll_echo")
    if os.path.exists(floor):
        argv = lambda p, d, c, k: [floor, str(p), c, k]   # noqa: E731
        out["c_floor"] = Server({"echo": argv, "handshake": argv})
    else:
        notes.append("TLS: the C floor (perf/tls_epoll_echo) is not built")
    nginx = which("nginx")
    if nginx:
        out["nginx"] = Server({"https": nginx_argv(nginx), "handshake": nginx_argv(nginx)}, http=("https", "handshake"))
    else:
        notes.append("TLS: nginx (the HTTPS and handshake reference) skipped: nginx is not installed")
    echo = os.path.join(build, "examples", "tls_echo_server")
    echo_argv = lambda p, d, c, k: [echo, "--port", str(p), "--cert", c, "--key", k, "--quiet"]   # noqa: E731
    hs = os.path.join(build, "examples", "http_server")
    hs_argv = lambda p, d, c, k: [hs, "--port", str(p), "--tls-cert", c, "--tls-key", k]   # noqa: E731
    gev = {}
    if os.path.exists(echo):
        gev.update(echo=echo_argv, handshake=echo_argv)
    if os.path.exists(hs):
        gev.update(https=hs_argv)
    for poller, name in (("epoll", "gev_epoll"), ("io_uring", "gev_uring")):
        if gev:
            out[name] = Server(gev, {"GEV_POLLER": poller}, http=("https",))
    if os.path.exists(hs):
        out["gev_http_uring"] = Server({"handshake": hs_argv}, {"GEV_POLLER": "io_uring"}, http=("handshake",))
    if go_tls:
        argv = lambda p, d, c, k: [go_tls, "--port", str(p), "--cert", c, "--key", k]   # noqa: E731
        out["go"] = Server({"echo": argv, "handshake": argv}, {"GOMAXPROCS": "1"})
    else:
        notes.append("TLS: Go crypto/tls peer skipped (no Go toolchain)")
    return out, notes


def certificate(d):
    """A self-signed ECDSA P-256 certificate for localhost, made with the openssl command."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Running:
    """A server started pinned to core 0 in its own temp dir; killed on exit."""

    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix=f"gev-tls-{self.name}.")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.p = subprocess.Popen(["taskset", "-c", "0"] + self.argv(self.port, self.dir),
                                  env=dict(os.environ, **self.env), stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_listening(self.port, self.p)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def check_https(port, requests):
    """`requests` keep-alive GET / over TLS 1.3 on one connection, each answer checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
    try:
        for _ in range(requests):
            c.request("GET", "/")
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or body != b"Hello, world!":
                raise RuntimeError(f"GET / answered {r.status} with {body[:20]!r}")
    finally:
        c.close()


def loadgen(build, s, args, seconds, warmup):
    argv = [os.path.join(build, "perf", "tls_loadgen"), "--port", str(s.port), "--seconds", str(seconds),
            "--warmup", str(warmup), "--server-pid", str(s.p.pid), "--cpu", "1"] + args
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    kv = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", p.stdout)}
    if p.returncode != 0 or not kv:
        raise RuntimeError(f"tls_loadgen exit {p.returncode}: {(p.stdout + p.stderr).strip()[-300:]}")
    return kv


def wrk_https(s, cfg, seconds):
    check_https(s.port, 200)   # it serves the route right, and is warm
    t0 = cpu_ticks(s.p.pid)
    w = subprocess.run(["taskset", "-c", "1", cfg["wrk"], "-t1", f"-c{cfg['https']}", f"-d{int(seconds)}s",
                        "--latency", "--timeout", "10s", f"https://127.0.0.1:{s.port}/"],
                       capture_output=True, text=True, timeout=seconds + 60)
    ticks = cpu_ticks(s.p.pid) - t0
    r = parse_wrk(w.stdout)
    if w.returncode != 0 or not r.get("requests") or "p99_us" not in r or r["non2xx"]:
        raise RuntimeError(f"wrk exit {w.returncode}: {(w.stdout + w.stderr).strip()[-300:]}")
    r["server_cpu_ns_per_req"] = ticks / os.sysconf("SC_CLK_TCK") * 1e9 / r["requests"]
    return r


def one(build, table, name, server, cfg, seconds, warmup):
    """One run of `table` against a fresh server; (figures, None) or (None, why)."""
    argv = server.argvs[table]
    start = lambda p, d: argv(p, d, cfg["cert"], cfg["key"])   # noqa: E731
    try:
        with Running(name, start, server.env) as s:
            if table == "echo":
                conns, size = cfg["echo"].split("x")
                r = loadgen(build, s, ["--mode", "echo", "--connections", conns, "--size", size], seconds, warmup)
            elif table == "handshake":
                r = loadgen(build, s, ["--mode", "handshake", "--request", "http" if table in server.http else "echo"],
                            seconds, warmup)
                r["server_cpu_ns_per_handshake"] /= 1000.0   # shown in µs
            else:
                r = wrk_https(s, cfg, seconds)
            if s.p.poll() is not None:
                return None, "the server exited during the run"
            return r, None
    except (RuntimeError, OSError, ssl.SSLError, subprocess.TimeoutExpired, http.client.HTTPException) as e:
        return None, str(e)


def run(build, mode, rounds, go_tls, res, log, only=None, tables=None):
    """The TLS tables into res["tls"][table][server] (lists of figures, one per round);
    failures into res["failures"]. `only`, `tables`: subsets to run (default: all)."""
    srvs, notes = servers(build, go_tls)
    res["conditions"].setdefault("notes", []).extend(notes)
    if not os.path.exists(os.path.join(build, "perf", "tls_loadgen")):
        log("tls: skipped, perf/tls_loadgen is not built")
        res["conditions"]["notes"].append("TLS table skipped: perf/tls_loadgen is not built")
        return
    if not which("openssl"):
        log("tls: skipped, the openssl command is not installed")
        res["conditions"]["notes"].append("TLS table skipped: the openssl command is not installed (apt-get install openssl)")
        return
    wrk = which("wrk")
    if not wrk:
        res["conditions"]["notes"].append("TLS: the HTTPS row skipped: wrk is not installed")
    raise_nofile()
    seconds = catalog.TLS_SECONDS[mode]
    warmup = 0.05 if mode == "smoke" else 0.5
    d = tempfile.mkdtemp(prefix="gev-tls-cert.")
    try:
        cert, key = certificate(d)
        cfg = dict(catalog.TLS_SIZES[mode], cert=cert, key=key, wrk=wrk)
        res["tls_sizes"] = catalog.TLS_SIZES[mode]
        for table, *_ in catalog.TLS_TABLES:
            if (tables and table not in tables) or (table == "https" and not wrk):
                continue
            names = [n for n, s in srvs.items() if table in s.argvs and (only is None or n in only)]
            for rnd in range(rounds):
                for name in rotated(names, rnd):
                    secs = 0.3 if mode == "smoke" and table != "https" else seconds   # wrk: whole seconds
                    r, why = one(build, table, name, srvs[name], cfg, secs, warmup)
                    if not r:
                        res["failures"].append(f"tls {table}: {name}: {why}")
                        log(f"tls {table} {name}: FAILED {why}")
                        continue
                    res.setdefault("tls", {}).setdefault(table, {}).setdefault(name, []).append(r)
                    log(f"tls {table} round {rnd + 1}/{rounds} {name}: " +
                        " ".join(f"{k}={v:g}" for k, v in r.items() if k in dict(_metrics(table))))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _metrics(table):
    return next(t[3] for t in catalog.TLS_TABLES if t[0] == table)


def main():
    import tls_report
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(ROOT), "build-perf"))
    ap.add_argument("--mode", choices=list(catalog.TLS_SECONDS), default="full")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--go-tls")
    ap.add_argument("--only", help="comma-separated servers: c_floor,nginx,gev_epoll,gev_uring,gev_http_uring,go")
    ap.add_argument("--tables", help="comma-separated: echo,https,handshake")
    a = ap.parse_args()
    res = {"conditions": {}, "failures": []}
    run(a.build, a.mode, a.rounds, a.go_tls, res, lambda m: print(m, flush=True),
        set(a.only.split(",")) if a.only else None, set(a.tables.split(",")) if a.tables else None)
    missed = []
    print("\n".join(tls_report.lines(res, missed)))
    for m in missed:
        print(f"goal missed: {m}")
    for f in res["failures"]:
        print(f"FAILED: {f}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
