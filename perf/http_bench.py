#!/usr/bin/env python3
"""perf/http_bench.py — HTTP/1.1 servers side by side under wrk, interleaved (round 1:
A B C, round 2: B C A, ...): gev's examples/http_server on each poller, nginx (one
process, the reference), Go net/http (GOMAXPROCS=1), gevent pywsgi and h2o, whichever
are installed. Server pinned to core 0, wrk (one thread) to core 1. Primary figure:
server CPU per request (utime+stime from /proc/PID/stat over wrk's run); then wrk's
requests/s and p50/p99. The memory row opens N idle keep-alive connections
(perf/http_idle.py) and divides the server's RSS growth by N. perf/suite.py calls run().
Run: perf/http_bench.py [--build build] [--rounds 3] [--seconds 3] [--configs get-100,...]
     [--idle 10000] [--go-http PATH] [--gevent-python PATH] [--only nginx,go,...]
     prints the Markdown section perf/report.py would write."""
import argparse
import getpass
import http.client
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from echo_bench import free_port, wait_listening

ROOT = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(ROOT, "peers")
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
BODY_4K = b"0123456789abcdef" * 256   # what perf/http_echo_4k.lua posts
# A route: how wrk drives it (script, path) and one request that checks the answer.
ROUTES = {"get": (None, "/"), "echo4k": (os.path.join(ROOT, "http_echo_4k.lua"), "/echo")}


def which(name):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)),
                                      None)


def fill(template, out, values):
    with open(os.path.join(PEERS, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    with open(out, "w") as f:
        f.write(text)
    return out


class Server:
    """How to start one server: `argv(port, tmpdir)`, extra environment, the routes it
    serves (nginx's /echo needs the echo module), and for a server that allocates a slot
    per configured connection at start (nginx), `sized(n)`: the same server sized for n."""

    def __init__(self, argv, env=None, routes=("get", "echo4k"), sized=None):
        self.argv, self.env, self.routes, self.sized = argv, env or {}, set(routes), sized


def nginx_argv(nginx, connections=4096):
    def argv(port, d):
        echo = os.path.exists(ECHO_MODULE)
        conf = fill("nginx.conf.in", os.path.join(d, "nginx.conf"), {
            "PORT": str(port), "DIR": d, "CONNECTIONS": str(connections),
            "ECHO_MODULE": f"load_module {ECHO_MODULE};" if echo else "",
            "ECHO_BODY": "echo_read_request_body; echo_request_body;" if echo else "return 501;"})
        return [nginx, "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")]
    return argv


def h2o_argv(h2o):
    def argv(port, d):
        with open(os.path.join(d, "hello.txt"), "w") as f:
            f.write("Hello, world!")
        conf = fill("h2o.conf.in", os.path.join(d, "h2o.conf"), {
            "PORT": str(port), "DIR": d, "USER_LINE": f"user: {getpass.getuser()}" if os.geteuid() == 0 else ""})
        return [h2o, "-c", conf]
    return argv


def servers(build, go_http=None, gevent_python=None):
    """The servers this machine has, nginx first (the reference), and notes on the rest."""
    out, notes = {}, []
    nginx, h2o = which("nginx"), which("h2o")
    if nginx:
        routes = ("get", "echo4k") if os.path.exists(ECHO_MODULE) else ("get",)
        out["nginx"] = Server(nginx_argv(nginx), routes=routes,
                              sized=lambda n: Server(nginx_argv(nginx, n), routes=routes))
        if not os.path.exists(ECHO_MODULE):
            notes.append("nginx skipped in the 4 KiB row: libnginx-mod-http-echo is not installed")
    gev = os.path.join(build, "examples", "http_server")
    if os.path.exists(gev):
        gev_argv = lambda p, d: [gev, "--port", str(p)]   # noqa: E731
        out["gev_epoll"] = Server(gev_argv, {"GEV_POLLER": "epoll"})
        out["gev_uring"] = Server(gev_argv, {"GEV_POLLER": "io_uring"})
    if go_http:
        out["go"] = Server(lambda p, d: [go_http, "--port", str(p)], {"GOMAXPROCS": "1"})
    if gevent_python:
        script = os.path.join(PEERS, "gevent_http.py")
        out["gevent"] = Server(lambda p, d: [gevent_python, script, "--port", str(p)])
    if h2o:
        out["h2o"] = Server(h2o_argv(h2o))
    return out, notes


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s*(\d+)", f.read()).group(1))


def check(port, route, requests):
    """`requests` keep-alive requests on one connection, each answer checked: the
    server serves the route right before it is measured, and is warm."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(requests):
            if route == "get":
                c.request("GET", "/")
                want = b"Hello, world!"
            else:
                c.request("POST", "/echo", body=BODY_4K, headers={"Content-Type": "application/octet-stream"})
                want = BODY_4K
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or body != want:
                raise RuntimeError(f"{route}: answered {r.status} with {len(body)} bytes {body[:20]!r}")
    finally:
        c.close()


class Running:
    """A server started pinned to core 0 in its own temp dir; killed on exit."""

    def __init__(self, name, server):
        self.name, self.server = name, server

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix=f"gev-http-{self.name}.")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.p = subprocess.Popen(["taskset", "-c", "0"] + self.server.argv(self.port, self.dir),
                                  env=dict(os.environ, **self.server.env), stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_listening(self.port, self.p)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def output(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()[-400:].strip()

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def parse_wrk(out):
    """wrk's figures: requests, rps, p50_us, p99_us, errors (socket), non2xx."""
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            r[key] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(map(int, m.groups())) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def one(wrk, name, server, route, conns, seconds):
    """One wrk run against a fresh server; (figures, None) or (None, why)."""
    script, path = ROUTES[route]
    try:
        with Running(name, server) as s:
            check(s.port, route, 200)
            argv = ["taskset", "-c", "1", wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
            argv += ["-s", script] if script else []
            t0 = cpu_ticks(s.p.pid)
            w = subprocess.run(argv + [f"http://127.0.0.1:{s.port}{path}"], capture_output=True, text=True,
                               timeout=seconds + 60)
            ticks = cpu_ticks(s.p.pid) - t0
            if s.p.poll() is not None:
                return None, f"the server exited during the run: {s.output()}"
    except (RuntimeError, OSError, subprocess.TimeoutExpired, http.client.HTTPException) as e:
        return None, str(e)
    r = parse_wrk(w.stdout)
    if w.returncode != 0 or not r.get("requests") or "p99_us" not in r:
        return None, f"wrk exit {w.returncode}: {(w.stdout + w.stderr).strip()[-300:]}"
    if r["non2xx"]:
        return None, f"{r['non2xx']} answers were not 2xx"
    r["server_cpu_ns_per_req"] = ticks / os.sysconf("SC_CLK_TCK") * 1e9 / r["requests"]
    return r, None


IDLE_SPARE = 1024   # connection slots beyond the idle ones: the checks, a listener, slack


def idle(name, server, conns):
    """RSS per idle keep-alive connection: (figures, None) or (None, why). A server
    that allocates per configured connection (nginx) is measured sized for `conns`
    against itself sized for a few, so its preallocated slots count as what they cost."""
    try:
        base = None
        if server.sized:
            with Running(name, server.sized(IDLE_SPARE)) as s:
                check(s.port, "get", 10)
                base = rss_kib(s.p.pid)
            server = server.sized(conns + IDLE_SPARE)
        with Running(name, server) as s:
            check(s.port, "get", 10)
            before = rss_kib(s.p.pid) if base is None else base
            after, why = hold_idle(s, conns)
            if after is None:
                return None, why
    except (RuntimeError, OSError, http.client.HTTPException) as e:
        return None, str(e)
    return {"kib_per_conn": (after - before) / conns, "rss_before_kib": before, "rss_after_kib": after,
            "connections": conns}, None


def hold_idle(s, conns):
    """The server's RSS while perf/http_idle.py holds `conns` idle connections to it."""
    client = subprocess.Popen(["taskset", "-c", "1", sys.executable, os.path.join(ROOT, "http_idle.py"),
                               "--port", str(s.port), "--connections", str(conns)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = client.stdout.readline()   # http_idle.py's own timeout bounds this
        if not line.startswith("ready"):
            return None, f"idle client: {line.strip()} {client.stderr.read().strip()[-300:]}"
        time.sleep(0.3)   # let the server finish its last reads
        return rss_kib(s.p.pid), None
    finally:
        client.stdin.close()
        try:
            client.wait(timeout=30)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()


def raise_nofile():
    """wrk and the servers inherit this process's limit: 1,000 connections need more
    than the usual 1,024 descriptors once listeners and pipes are counted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rotated(names, rnd):
    k = rnd % len(names) if names else 0
    return names[k:] + names[:k]


def run(build, configs, idle_conns, rounds, seconds, go_http, gevent_python, res, log, only=None):
    """The HTTP table into res["http"][config][server] and res["http_idle"][server]
    (lists of figures, one per round); failures into res["failures"]. `only`: a set of
    server names to run (default: every one available)."""
    wrk = which("wrk")
    if not wrk:
        log("http: skipped, wrk is not installed")
        return
    srvs, notes = servers(build, go_http, gevent_python)
    srvs = {n: s for n, s in srvs.items() if only is None or n in only}
    res["conditions"].setdefault("notes", []).extend(notes)
    limit = raise_nofile()
    for cfg in configs:
        route, conns = cfg.split("-")
        names = [n for n, s in srvs.items() if route in s.routes]
        for rnd in range(rounds):
            for name in rotated(names, rnd):
                r, why = one(wrk, name, srvs[name], route, int(conns), seconds)
                if not r:
                    res["failures"].append(f"http {cfg}: {name}: {why}")
                    log(f"http {cfg} {name}: FAILED {why}")
                    continue
                res["http"].setdefault(cfg, {}).setdefault(name, []).append(r)
                log(f"http {cfg} round {rnd + 1}/{rounds} {name}: cpu_ns_per_req={r['server_cpu_ns_per_req']:.0f} "
                    f"rps={r['rps']:.0f} p50_us={r['p50_us']:.0f} p99_us={r['p99_us']:.0f} errors={r['errors']}")
    if idle_conns and limit < idle_conns + 100:
        res["conditions"]["notes"].append(f"http idle row at {limit - 100} connections: RLIMIT_NOFILE's hard limit is {limit}")
        idle_conns = limit - 100
    for rnd in range(rounds if idle_conns else 0):
        for name in rotated(list(srvs), rnd):
            r, why = idle(name, srvs[name], idle_conns)
            if not r:
                res["failures"].append(f"http idle {idle_conns}: {name}: {why}")
                log(f"http idle {name}: FAILED {why}")
                continue
            res["http_idle"].setdefault(name, []).append(r)
            log(f"http idle {idle_conns} round {rnd + 1}/{rounds} {name}: {r['kib_per_conn']:.2f} KiB/connection "
                f"(RSS {r['rss_before_kib']} -> {r['rss_after_kib']} KiB)")


def main():
    import http_report
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(ROOT), "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--configs", default="get-100,get-1000,echo4k-100,get-1")
    ap.add_argument("--idle", type=int, default=10000, help="idle connections for the memory row (0: none)")
    ap.add_argument("--go-http")
    ap.add_argument("--gevent-python")
    ap.add_argument("--only", help="comma-separated servers: nginx,gev_epoll,gev_uring,go,gevent,h2o")
    a = ap.parse_args()
    res = {"conditions": {}, "http": {}, "http_idle": {}, "failures": []}
    run(a.build, a.configs.split(","), a.idle, a.rounds, a.seconds, a.go_http, a.gevent_python, res,
        lambda m: print(m, flush=True), set(a.only.split(",")) if a.only else None)
    missed = []
    print("\n".join(http_report.lines(res, missed)))
    for m in missed:
        print(f"goal missed: {m}")
    for f in res["failures"]:
        print(f"FAILED: {f}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
