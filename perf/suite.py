#!/usr/bin/env python3
"""perf/suite.py — the side-by-side run behind perf/run: every row of perf/catalog.py for
gev and each peer that is available, interleaved (round 1: A B C, round 2: B C A, ...),
then the echo configurations the same way, then the HTTP table (perf/http_bench.py),
then the TLS tables (perf/tls_bench.py), then callgrind instruction counts; writes
the raw samples as JSON and hands them to perf/report.py. perf/run builds everything and
calls this; call it directly only to re-run against a build that is already there.
Run: perf/suite.py --build build-perf --mode full|quick|smoke [--rounds N] [--out DIR]
                   [--go PATH] [--go-http PATH] [--go-tls PATH] [--gevent-python PATH]
                   [--skip micro,echo,http,tls,callgrind]
                   [--note TEXT]"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

import catalog
import echo_bench
import http_bench
import tls_bench
import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Sizes × scale; rounds; untimed runs of a micro benchmark in its process before the timed
# one (fresh memory costs a ~10 µs page fault per 4 KiB here: the warm run measures the
# runtime; the idle_1m rows measure fresh memory on purpose); echo seconds and warm-up.
MODES = {
    "full": dict(scale=1.0, rounds=3, micro_warmup=1, seconds=2.0, warmup=0.3),
    "quick": dict(scale=0.1, rounds=3, micro_warmup=1, seconds=1.0, warmup=0.2),
    "smoke": dict(scale=0.001, rounds=1, micro_warmup=0, seconds=0.2, warmup=0.05),
}
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.0f}s] {msg}", flush=True)


def programs(a):
    """Program key -> (argv prefix, extra environment, takes --rounds)."""
    perf = os.path.join(a.build, "perf")
    out = {}
    for key, exe, rounds in (("micro", "micro", True), ("micro_sync", "micro_sync", True),
                             ("monkey", "monkey_bench", True), ("fiber", "fiber_micro", False)):
        if os.path.exists(os.path.join(perf, exe)):
            out[key] = ([os.path.join(perf, exe)], {}, rounds)
    if a.go:
        out["go1"] = ([a.go, "micro"], {"GOMAXPROCS": "1"}, False)
        out["go2"] = ([a.go, "micro"], {"GOMAXPROCS": "2"}, False)
    if a.gevent_python:
        out["gevent"] = ([a.gevent_python, os.path.join(ROOT, "perf", "peers", "gevent_peer.py"), "micro"], {}, False)
    return out


def command(progs, prog, bench, scale, warmup=0):
    argv, env, rounds = progs[prog]
    argv = argv + ["--only", bench, "--scale", repr(scale), "--warmup", str(warmup)]
    argv += ["--rounds", "1"] if rounds else []
    return argv, dict(os.environ, **env)


def parse(stdout, probe):
    """The probe's figure and n from a benchmark's output, or (None, None)."""
    for line in stdout.splitlines():
        parts = line.split()
        if not parts or parts[0] != probe.bench:
            continue
        kv = dict(re.findall(r"(\w+)=([\w.+-]+)", line))
        if all(kv.get(k) == v for k, v in probe.match.items()) and probe.field in kv:
            return float(kv[probe.field]), int(kv.get("done", kv.get("n", 0)))   # done: a run cut short
    return None, None


def run_micro(a, mode, progs, res):
    cache = {}
    rows = [r for r in catalog.MICRO if any(p.prog in progs for p in r.probes.values())]
    for rnd in range(mode["rounds"]):
        for row in rows:
            cols = [c for c, p in row.probes.items() if p.prog in progs]
            k = rnd % len(cols)
            cols = cols[k:] + cols[:k]   # rotate: no column always runs first
            figures = []
            for col in cols:
                probe = row.probes[col]
                key = (rnd, probe.prog, probe.bench, row.scale)
                if key not in cache:
                    argv, env = command(progs, probe.prog, probe.bench, mode["scale"] * row.scale,
                                        mode["micro_warmup"])
                    try:
                        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=a.timeout)
                        cache[key] = p.stdout
                        if p.returncode != 0:
                            log(f"  {probe.prog} {probe.bench}: exit {p.returncode} {p.stderr.strip()[-300:]}")
                    except subprocess.TimeoutExpired:
                        cache[key] = ""
                        log(f"  {probe.prog} {probe.bench}: timed out after {a.timeout} s")
                value, n = parse(cache[key], probe)
                if value is None:
                    res["failures"].append(f"micro {row.key}: {probe.prog} {probe.bench} printed no {probe.field}")
                    continue
                cell = res["micro"].setdefault(row.key, {}).setdefault(col, {"samples": [], "n": n})
                cell["samples"].append(value)
                figures.append(f"{col}={value:g}")
            log(f"micro round {rnd + 1}/{mode['rounds']} {row.key}: {' '.join(figures)}")


def run_echo(a, mode, res):
    srvs = echo_bench.servers(a.build, a.go, a.gevent_python)
    for cfg in catalog.ECHO_CONFIGS[a.mode]:
        conns, size, hog = echo_bench.parse_cfg(cfg)
        names = [n for n, s in srvs.items() if s.takes(conns) or a.mode == "smoke"]
        for rnd in range(mode["rounds"]):
            k = rnd % len(names)
            for name in names[k:] + names[:k]:
                r = echo_bench.one(a.build, name, srvs[name], conns, size, mode["seconds"], mode["warmup"], hog)
                if not r:
                    res["failures"].append(f"echo {cfg}: {name}")
                else:
                    res["echo"].setdefault(cfg, {}).setdefault(name, []).append(r)
                    log(f"echo {cfg} round {rnd + 1}/{mode['rounds']} {name}: "
                        f"cpu_ns_per_rt={r.get('server_cpu_ns_per_rt', 0):.0f} rps={r['rps']:.0f} "
                        f"p50_us={r['p50_us']} p99_us={r['p99_us']}")


def run_http(a, mode, res):
    http_bench.run(a.build, catalog.HTTP_CONFIGS[a.mode], catalog.HTTP_IDLE[a.mode], mode["rounds"],
                   catalog.HTTP_SECONDS[a.mode], a.go_http, a.gevent_python, res, log)


def run_tls(a, mode, res):
    tls_bench.run(a.build, a.mode, mode["rounds"], a.go_tls, res, log)


def callgrind_ir(progs, prog, bench, scale):
    argv, env = command(progs, prog, bench, scale)
    env["GEV_POLLER"] = "epoll"   # valgrind need not know io_uring's system calls
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
                       env=env, capture_output=True, text=True, timeout=900)
    m = re.search(r"Collected\s*:\s*(\d+)", p.stderr)
    _, n = parse(p.stdout, catalog.Probe(prog, bench))
    if p.returncode != 0 or not m or not n:
        log(f"  callgrind {prog} {bench}: failed {p.stderr.strip()[-300:]}")
        return None, None
    return int(m.group(1)), n


def run_callgrind(a, progs, res):
    entries = catalog.CALLGRIND[:1] if a.mode == "smoke" else catalog.CALLGRIND
    for key, col, prog, bench, ops_per_n, small, big in entries:
        if prog not in progs:
            continue
        if a.mode == "smoke":
            small, big = small / 5, small / 2
        ir1, n1 = callgrind_ir(progs, prog, bench, small)
        ir2, n2 = callgrind_ir(progs, prog, bench, big)
        if ir1 is None or ir2 is None or n2 == n1:
            res["failures"].append(f"callgrind {prog} {bench}")
            continue
        per_op = (ir2 - ir1) / ((n2 - n1) * ops_per_n)
        res["callgrind"].setdefault(key, {})[col] = per_op
        log(f"callgrind {key} {col}: {per_op:.1f} instructions/op")


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def conditions(a, mode):
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    dirty = " (with uncommitted changes)" if sh(f"git -C {ROOT} status --porcelain") else ""
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} CPUs, {cpu}, {platform.release()}",
        "mode": a.mode, "rounds": mode["rounds"], "scale": mode["scale"], "echo_seconds": mode["seconds"],
        "micro_warmup": mode["micro_warmup"],
        "gev": sh(f"git -C {ROOT} rev-parse --short HEAD") + dirty,
        "compiler": sh("c++ --version | head -1"),
        "go": sh("go version") if a.go or a.go_http or a.go_tls else "",
        "gevent": sh(f"{a.gevent_python} -c 'import gevent,sys; print(gevent.__version__, sys.version.split()[0])'")
        if a.gevent_python else "",
        "boost": sh("dpkg-query -W -f='${Version}' libboost-fiber-dev 2>/dev/null"),
        "http_peers": sh("{ nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1; h2o -v 2>/dev/null | head -1; "
                         "wrk -v 2>&1 | head -1 | cut -d' ' -f1-2; } | grep -v 'not found' | paste -sd, -"),
        "load_before": open("/proc/loadavg").read().split()[:3],
        "notes": a.note,
    }


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-perf"))
    ap.add_argument("--mode", choices=list(MODES), default="full")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--out", default=os.path.join(ROOT, "perf", "results"))
    ap.add_argument("--go")
    ap.add_argument("--go-http")
    ap.add_argument("--go-tls")
    ap.add_argument("--gevent-python")
    ap.add_argument("--skip", default="", help="comma-separated: micro,echo,http,tls,callgrind")
    ap.add_argument("--timeout", type=int, default=300, help="seconds for one benchmark process")
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    mode = dict(MODES[a.mode])
    if a.rounds:
        mode["rounds"] = a.rounds
    progs = programs(a)
    res = {"conditions": conditions(a, mode), "micro": {}, "echo": {}, "http": {}, "http_idle": {}, "tls": {}, "callgrind": {},
           "failures": []}
    skip = set(filter(None, a.skip.split(",")))
    if "micro" not in skip:
        run_micro(a, mode, progs, res)
    if "echo" not in skip:
        run_echo(a, mode, res)
    if "http" not in skip:
        run_http(a, mode, res)
    if "tls" not in skip:
        run_tls(a, mode, res)
    if "callgrind" not in skip:
        run_callgrind(a, progs, res)
    res["conditions"]["load_after"] = open("/proc/loadavg").read().split()[:3]
    res["conditions"]["duration_s"] = round(time.monotonic() - T0)
    os.makedirs(a.out, exist_ok=True)
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | awk '{print $1, $2, $3}'")
    base = os.path.join(a.out, f"{datetime.date.today()}-{os.cpu_count()}cpu-{slug(cpu) or 'unknown'}")
    with open(base + ".json", "w") as f:
        json.dump(res, f, indent=1)
    md, chart = report.write(res, base + ".md", os.path.join(a.out, "chart.png"))
    log(f"wrote {md}" + (f" and {chart}" if chart else " (no chart: neither gnuplot nor matplotlib)"))
    for f in res["failures"]:
        log(f"FAILED: {f}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
