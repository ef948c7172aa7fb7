#!/usr/bin/env python3
"""tests/monkey/check_fetch.py — runs a monkey-patching fetch example (urlopen,
concurrent_fetch) serially and concurrently against its own delaying loopback server
and checks what it prints: concurrently, every GET line comes before any answer and
the answers are the expected sizes; serially, each answer follows its own GET. Time is
compared loosely (concurrent under serial; N fetches under N/2 delays): the order of
the lines is what proves the overlap.
Usage: check_fetch.py BINARY DELAY_MS [COUNT]"""
import re
import subprocess
import sys

SIZES = {"www.python.org": 48725, "www.yahoo.com": 480761, "github.com": 55394}


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or p.stderr.strip():
        fail(f"{argv}: exit {p.returncode}, stderr: {p.stderr}", p.stdout)
    return p.stdout.splitlines()


def fail(what, out=""):
    print(f"FAILED: {what}\n--- output ---\n{out}", file=sys.stderr)
    sys.exit(1)


def parse(lines, n, mode):
    gets, answers = [], []
    for i, line in enumerate(lines[:-1]):
        if m := re.fullmatch(r"GET: (http://127\.0\.0\.1:\d+/([^/]+)/\S*)", line):
            gets.append((i, m.group(1), m.group(2)))
        elif m := re.fullmatch(r"(\d+) bytes received from (\S+)\.", line):
            answers.append((i, m.group(2), int(m.group(1))))
        else:
            fail(f"unexpected line {line!r}", "\n".join(lines))
    t = re.fullmatch(rf"{mode} time: (\d+\.\d+) s", lines[-1])
    if len(gets) != n or len(answers) != n or not t:
        fail(f"{n} GETs, {n} answers and a {mode} time expected", "\n".join(lines))
    for _, url, site in gets:
        size = next(s for i, u, s in answers if u == url)
        if size != SIZES[site]:
            fail(f"{url}: {size} bytes, {SIZES[site]} expected", "\n".join(lines))
    return gets, answers, float(t.group(1))


def main():
    binary, delay = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    extra = ["--count", str(count)] if len(sys.argv) > 3 else []
    lines = run([binary, "--delay", delay] + extra)
    gets, answers, t_conc = parse(lines, count, "concurrent")
    if max(i for i, _, _ in gets) > min(i for i, _, _ in answers):
        fail("concurrently, every GET must start before any answer arrives", "\n".join(lines))
    if count != 3:   # one after another they would take count delays at least
        if t_conc > count * int(delay) / 1000 / 2:
            fail(f"{count} fetches took {t_conc} s: they did not overlap", "\n".join(lines))
        return
    lines = run([binary, "--delay", delay, "--serial"])
    gets, answers, t_serial = parse(lines, count, "serial")
    if [i for i, _, _ in gets] != [0, 2, 4] or [i for i, _, _ in answers] != [1, 3, 5]:
        fail("serially, each answer follows its own GET", "\n".join(lines))
    if t_conc >= t_serial:   # the order above is the proof; the clock only has to agree
        fail(f"concurrent {t_conc} s vs serial {t_serial} s: no overlap", "\n".join(lines))


if __name__ == "__main__":
    main()
