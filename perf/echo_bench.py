#!/usr/bin/env python3
"""perf/echo_bench.py — echo servers side by side, interleaved (A B C A B C ...): the
plain epoll C server (the floor) and gev's echo_server on each poller. Server pinned to
core 0, load generator to core 1. Primary figure: server CPU time per round trip.
Run: perf/echo_bench.py [--build build] [--rounds 3] [--seconds 2] [--configs 100x64,...]"""
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


def wait_listening(port, proc, timeout=5.0):
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


def servers(build):
    out = {}
    c = os.path.join(build, "perf", "epoll_echo")
    if os.path.exists(c):
        out["c_epoll"] = (lambda port: [c, str(port)], {})
    gev = os.path.join(build, "examples", "echo_server")
    out["gev_epoll"] = (lambda port: [gev, "--port", str(port), "--quiet"], {"GEV_POLLER": "epoll"})
    out["gev_uring"] = (lambda port: [gev, "--port", str(port), "--quiet"], {"GEV_POLLER": "io_uring"})
    extra = os.environ.get("ECHO_BENCH_URING_MODES", "")   # e.g. "try,poll"
    for mode in filter(None, extra.split(",")):
        out["gev_uring_" + mode] = (lambda port: [gev, "--port", str(port), "--quiet"],
                                    {"GEV_POLLER": "io_uring", "GEV_URING_MODE": mode})
    return out


def one(build, name, spec, conns, size, seconds):
    argv_for, env_extra = spec
    port = free_port()
    env = dict(os.environ, **env_extra)
    srv = subprocess.Popen(["taskset", "-c", "0"] + argv_for(port), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, srv)
        load = subprocess.run([os.path.join(build, "perf", "loadgen"), "--port", str(port), "--connections",
                               str(conns), "--size", str(size), "--seconds", str(seconds), "--warmup", "0.3",
                               "--server-pid", str(srv.pid), "--cpu", "1"],
                              capture_output=True, text=True, timeout=seconds + 30)
    finally:
        srv.kill()
        srv.wait()
    line = load.stdout.strip()
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if load.returncode != 0 or not kv:
        print(f"  {name}: FAILED {line} {load.stderr.strip()}", file=sys.stderr)
        return None
    return {k: float(v) for k, v in kv.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--configs", default="100x64,100x4096,1000x64,1x64")
    a = ap.parse_args()
    srvs = servers(a.build)
    results = []
    for cfg in a.configs.split(","):
        conns, size = map(int, cfg.split("x"))
        samples = {n: [] for n in srvs}
        for _ in range(a.rounds):
            for n, spec in srvs.items():   # interleaved: A B C A B C
                r = one(a.build, n, spec, conns, size, a.seconds)
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
            results.append(row)


if __name__ == "__main__":
    main()
