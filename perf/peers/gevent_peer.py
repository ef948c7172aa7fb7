"""perf/peers/gevent_peer.py — the gevent peer for perf/run: a StreamServer echo server
and gev's micro benchmarks written in gevent, printed as `name n=N ns_per_op=X`.
Sizes are a tenth to a hundredth of perf/micro's (each new greenlet costs page faults
here, ~10 µs each); every figure is per operation.
Needs python3-gevent (Debian), so run it with the interpreter that has it (/usr/bin/python3).
Run: gevent_peer.py echo --port P [--seconds S]
     gevent_peer.py micro [--scale F] [--only NAME] [--warmup W]"""
import argparse
import os
import sys
import time

import gevent
from gevent.event import Event
from gevent.queue import Channel
from gevent.server import StreamServer


def echo(port, seconds):
    def handle(sock, _addr):
        while True:
            data = sock.recv(1024)   # the same buffer size as examples/echo_server
            if not data:
                break
            sock.sendall(data)
        sock.close()

    server = StreamServer(("127.0.0.1", port), handle, backlog=500)
    if seconds > 0:
        gevent.spawn_later(seconds, server.stop)
    server.serve_forever()


def scaled(n, scale):
    return max(1, int(n * scale))


def bench_yield(n):
    def spin():
        for _ in range(n):
            gevent.sleep(0)
    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(spin), gevent.spawn(spin)])
    return (time.perf_counter() - t0) * 1e9 / (2 * n)


def bench_spawn_join(n):
    t0 = time.perf_counter()
    gs = [gevent.spawn(lambda: None) for _ in range(n)]
    gevent.joinall(gs)
    return (time.perf_counter() - t0) * 1e9 / n


def skynet(num, size, div):
    if size == 1:
        return num
    sub = size // div
    kids = [gevent.spawn(skynet, num + i * sub, sub, div) for i in range(div)]
    return sum(k.get() for k in kids)


def bench_sleep(n):
    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(gevent.sleep, 0.01) for _ in range(n)])
    return ((time.perf_counter() - t0) - 0.01) * 1e9 / n


def bench_event_pingpong(n):
    ping, pong = Event(), Event()

    def peer():
        for _ in range(n):
            ping.wait()
            ping.clear()
            pong.set()
    g = gevent.spawn(peer)
    t0 = time.perf_counter()
    for _ in range(n):
        ping.set()
        pong.wait()
        pong.clear()
    dt = time.perf_counter() - t0
    g.join()
    return dt * 1e9 / (2 * n)


def bench_chan_pingpong(n):
    a, b = Channel(), Channel()

    def peer():
        for _ in range(n):
            b.put(a.get() + 1)
    g = gevent.spawn(peer)
    t0 = time.perf_counter()
    v = 0
    for _ in range(n):
        a.put(v)
        v = b.get()
    dt = time.perf_counter() - t0
    g.join()
    return dt * 1e9 / (2 * n)


def bench_timeout_churn(n, armed):
    keep = [gevent.Timeout(3600) for _ in range(armed)]
    for t in keep:
        t.start()
    t0 = time.perf_counter()
    for i in range(n):
        t = gevent.Timeout(1 + i % 7)
        t.start()
        t.cancel()
    dt = time.perf_counter() - t0
    for t in keep:
        t.cancel()
    return dt * 1e9 / n


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def bench_idle(n):
    block = Event()
    before = rss_kib()
    t0 = time.perf_counter()
    gs = [gevent.spawn(block.wait) for _ in range(n)]
    gevent.sleep(0)   # every one runs up to its park
    dt = time.perf_counter() - t0
    kib = (rss_kib() - before) / n
    block.set()
    gevent.joinall(gs)
    return dt * 1e9 / n, kib, dt * 1e3


def bench_skynet(leaves):
    t0 = time.perf_counter()
    total = gevent.spawn(skynet, 0, leaves, 10).get()
    dt = time.perf_counter() - t0
    if total != leaves * (leaves - 1) // 2:
        print(f"skynet: wrong sum {total}", file=sys.stderr)
    return dt * 1e9 / leaves


def micro(scale, only, warmup):
    """Each benchmark runs `warmup` times untimed first (as perf/micro --warmup does),
    except idle_1m, which measures fresh memory on purpose."""
    leaves = 1
    while leaves * 10 <= scaled(10_000, scale):
        leaves *= 10
    benches = [("yield", scaled(200_000, scale), bench_yield),
               ("spawn_join", scaled(20_000, scale), bench_spawn_join),
               ("skynet_1m", leaves, bench_skynet),
               ("sleep_100k", scaled(10_000, scale), bench_sleep),
               ("event_pingpong", scaled(100_000, scale), bench_event_pingpong),
               ("chan_pingpong", scaled(100_000, scale), bench_chan_pingpong),
               ("timeout_churn", scaled(100_000, scale), lambda n: bench_timeout_churn(n, scaled(10_000, scale)))]
    for name, n, run in benches:
        if only is not None and only != name:
            continue
        for _ in range(warmup):
            run(n)
        print(f"{name} n={n} ns_per_op={run(n):.2f}", flush=True)
    if only is None or only == "idle_1m":
        n = scaled(50_000, scale)
        ns, kib, ms = bench_idle(n)
        print(f"idle_1m n={n} ns_per_op={ns:.2f} rss_kib_per_fiber={kib:.2f} create_ms={ms:.0f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "micro"])
    ap.add_argument("--port", type=int, default=8004)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only")
    ap.add_argument("--warmup", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "echo":
        echo(a.port, a.seconds)
    else:
        micro(a.scale, a.only, a.warmup)


if __name__ == "__main__":
    main()
