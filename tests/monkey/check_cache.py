#!/usr/bin/env python3
"""tests/monkey/check_cache.py — runs examples/monkey/cache_fetch (hiredis's blocking API
against the example's own delaying RESP server) concurrently and serially and checks
what it prints: every client GETs back the value it SET; concurrently, every SET line
comes before any GET answer (all clients were inside hiredis at once); serially, each
client's GET follows its own SET. The clock is only compared against the serial run of
the same binary: COUNT clients each wait two delays, so serially 2·COUNT delays and
concurrently about 2; the check asks for less than half the serial time.
Usage: check_cache.py BINARY DELAY_MS COUNT"""
import re
import subprocess
import sys


def fail(what, lines=()):
    out = "\n".join(lines)
    print(f"FAILED: {what}\n--- output ---\n{out}", file=sys.stderr)
    sys.exit(1)


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or p.stderr.strip():
        fail(f"{argv}: exit {p.returncode}, stderr: {p.stderr}", p.stdout.splitlines())
    return p.stdout.splitlines()


def parse(lines, count, mode):
    """(kind, client) per line between the PING and the time, and the time in s."""
    if not lines or lines[0] != "PING -> PONG":
        fail("the first line must be the PING answer", lines)
    t = re.fullmatch(rf"{mode} time: (\d+\.\d+) s", lines[-1]) if len(lines) > 1 else None
    if not t:
        fail(f"the last line must be the {mode} time", lines)
    events = []
    for line in lines[1:-1]:
        if m := re.fullmatch(r"SET key:(\d+) value-(\d+)", line):
            if m.group(1) != m.group(2):
                fail(f"client {m.group(1)} sets another client's value: {line!r}", lines)
            events.append(("set", int(m.group(1))))
        elif m := re.fullmatch(r"GET key:(\d+) -> (.*)", line):
            if m.group(2) != f"value-{m.group(1)}":
                fail(f"GET returned the wrong value: {line!r}", lines)
            events.append(("get", int(m.group(1))))
        else:
            fail(f"unexpected line {line!r}", lines)
    for kind in ("set", "get"):
        if sorted(c for k, c in events if k == kind) != list(range(count)):
            fail(f"one {kind.upper()} line per client 0..{count - 1} expected", lines)
    return events, float(t.group(1))


def main():
    binary, delay, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    common = [binary, "--delay", delay, "--count", str(count)]
    lines = run(common)
    events, t_conc = parse(lines, count, "concurrent")
    if [k for k, _ in events] != ["set"] * count + ["get"] * count:
        fail("concurrently, every client must send its SET before any GET answer arrives", lines)
    lines = run(common + ["--serial"])
    events, t_serial = parse(lines, count, "serial")
    if events != [(k, i) for i in range(count) for k in ("set", "get")]:
        fail("serially, each client's GET follows its own SET, in order", lines)
    # The order above proves the overlap; the clock only has to agree, loosely.
    if t_conc >= t_serial / 2:
        fail(f"concurrent {t_conc} s vs serial {t_serial} s for {count} clients: no overlap", lines)
    print(f"cache_fetch: {count} clients, concurrent {t_conc:.2f} s, serial {t_serial:.2f} s "
          f"(ratio {t_conc / t_serial:.2f})")


if __name__ == "__main__":
    main()
