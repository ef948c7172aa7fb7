#!/usr/bin/env python3
"""perf/echo_bench.py — echo servers side by side, interleaved (A B C A B C ...): the
plain C servers (epoll: the CPU floor; blocking, thread per connection: the latency
floor), gev's echo_server on each poller (and on 2 hubs), and the Go and gevent peers
when perf/run found them. Server pinned to core 0, load generator (perf/loadgen) to
core 1; a 2-hub server gets both cores and shares core 1 with the load. Primary figure:
server CPU time per round trip. perf/suite.py imports servers() and one().
Run: perf/echo_bench.py [--build build] [--rounds 3] [--seconds 2] [--configs 100x64,...]
     ECHO_BENCH_URING_MODES=try,poll adds gev's io_uring modes, ECHO_BENCH_HANDOFF=1 the 2-hub
     server in handoff mode (one acceptor) beside the default (a listener per hub); GO_PEER / GEVENT_PYTHON
     name the peers (perf/run sets them). A/B runs: ECHO_BENCH_OLD=path/to/old/echo_server adds it as
     gev_epoll_old and gev_uring_old, interleaved with the others; --servers a,b,... runs only those."""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not listen")


class Server:
    """How to start one echo server: argv for a port, extra environment, the cores it
    may use, and the configurations it takes part in (None: all)."""

    def __init__(self, argv, env=None, cpus="0", only=None):
        self.argv, self.env, self.cpus, self.only = argv, env or {}, cpus, only

    def takes(self, conns):
        return self.only is None or conns in self.only


def servers(build, go_peer=None, gevent_python=None):
    """The servers available in this build, in run order (the floor first)."""
    out = {}
    perf = os.path.join(build, "perf")
    if os.path.exists(os.path.join(perf, "epoll_echo")):
        out["c_epoll"] = Server(lambda p: [os.path.join(perf, "epoll_echo"), str(p)])
    if os.path.exists(os.path.join(perf, "blocking_echo")):   # thread per connection: 1 connection only
        out["c_blocking"] = Server(lambda p: [os.path.join(perf, "blocking_echo"), str(p)], only={1})
    gev = os.path.join(build, "examples", "echo_server")
    gev_argv = lambda p: [gev, "--port", str(p), "--quiet"]   # noqa: E731
    out["gev_epoll"] = Server(gev_argv, {"GEV_POLLER": "epoll"})
    out["gev_uring"] = Server(gev_argv, {"GEV_POLLER": "io_uring"})
    for mode in filter(None, os.environ.get("ECHO_BENCH_URING_MODES", "").split(",")):
        out["gev_uring_" + mode] = Server(gev_argv, {"GEV_POLLER": "io_uring", "GEV_URING_MODE": mode})
    old = os.environ.get("ECHO_BENCH_OLD")
    if old:
        old_argv = lambda p: [old, "--port", str(p), "--quiet"]   # noqa: E731
        out["gev_epoll_old"] = Server(old_argv, {"GEV_POLLER": "epoll"})
        out["gev_uring_old"] = Server(old_argv, {"GEV_POLLER": "io_uring"})
    out["gev_uring_2hubs"] = Server(lambda p: gev_argv(p) + ["--threads", "2"], {"GEV_POLLER": "io_uring"},
                                    cpus="0,1", only={100, 1000})
    if os.environ.get("ECHO_BENCH_HANDOFF"):   # the other StreamServer mode: one acceptor hands out
        out["gev_uring_2hubs_handoff"] = Server(lambda p: gev_argv(p) + ["--threads", "2", "--handoff"],
                                                {"GEV_POLLER": "io_uring"}, cpus="0,1", only={100, 1000})
    if go_peer:
        out["go"] = Server(lambda p: [go_peer, "echo", "--port", str(p)], {"GOMAXPROCS": "1"})
    if gevent_python:
        script = os.path.join(ROOT, "perf", "peers", "gevent_peer.py")
        out["gevent"] = Server(lambda p: [gevent_python, script, "echo", "--port", str(p)])
    return out


def parse_cfg(cfg):
    """"100x64" -> (100, 64, False); "100x64+hog": the same with a CPU hog on core 0."""
    base, _, extra = cfg.partition("+")
    conns, size = map(int, base.split("x"))
    return conns, size, extra == "hog"


def one(build, name, server, conns, size, seconds, warmup=0.3, hog=False):
    """One load run against a fresh server; returns loadgen's key=value figures or None.
    hog: a busy loop shares core 0 with the server meanwhile, as other processes would
    (the tail under competition, issue 14)."""
    port = free_port()
    env = dict(os.environ, **server.env)
    srv = subprocess.Popen(["taskset", "-c", server.cpus] + server.argv(port), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spin = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"]) if hog else None
    try:
        wait_listening(port, srv)
        load = subprocess.run([os.path.join(build, "perf", "loadgen"), "--port", str(port), "--connections",
                               str(conns), "--size", str(size), "--seconds", str(seconds), "--warmup", str(warmup),
                               "--server-pid", str(srv.pid), "--cpu", "1"],
                              capture_output=True, text=True, timeout=seconds + 60)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"  echo {name} {conns}x{size}: FAILED {e}", file=sys.stderr)
        return None
    finally:
        for p in (spin, srv):
            if p:
                p.kill()
                p.wait()
    line = load.stdout.strip()
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if load.returncode != 0 or not kv:
        print(f"  echo {name} {conns}x{size}: FAILED {line} {load.stderr.strip()}", file=sys.stderr)
        return None
    return {k: float(v) for k, v in kv.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--configs", default="100x64,100x4096,1000x64,1x64,100x64+hog")
    ap.add_argument("--servers", default="", help="comma-separated names (default: all)")
    a = ap.parse_args()
    srvs = servers(a.build, os.environ.get("GO_PEER"), os.environ.get("GEVENT_PYTHON"))
    if a.servers:
        srvs = {n: s for n, s in srvs.items() if n in a.servers.split(",")}
    for cfg in a.configs.split(","):
        conns, size, hog = parse_cfg(cfg)
        samples = {n: [] for n, s in srvs.items() if s.takes(conns)}
        for _ in range(a.rounds):
            for n in samples:   # interleaved: A B C A B C
                r = one(a.build, n, srvs[n], conns, size, a.seconds, hog=hog)
                if r:
                    samples[n].append(r)
        floor = samples.get("c_epoll")
        floor_cpu = statistics.median(s["server_cpu_ns_per_rt"] for s in floor) if floor else None
        floor_p50 = statistics.median(s["p50_us"] for s in floor) if floor else None
        for n, ss in samples.items():
            if not ss:
                continue
            cpu = [s["server_cpu_ns_per_rt"] for s in ss]
            med = statistics.median(cpu)
            p50 = statistics.median(s["p50_us"] for s in ss)
            row = (f"echo {cfg} server={n} cpu_ns_per_rt={med:.0f} min={min(cpu):.0f} max={max(cpu):.0f} "
                   f"rps={statistics.median(s['rps'] for s in ss):.0f} p50_us={p50:.1f} "
                   f"p99_us={statistics.median(s['p99_us'] for s in ss):.1f}")
            if floor_cpu:
                row += f" cpu_ratio={med / floor_cpu:.2f} p50_ratio={p50 / floor_p50:.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
