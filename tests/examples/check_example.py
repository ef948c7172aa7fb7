#!/usr/bin/env python3
"""tests/examples/check_example.py — runs one example and checks what it prints, so the
examples never rot. Usage: check_example.py NAME BINARY [args...]"""
import subprocess
import sys
import time

import check_queues
import check_threads

G, O = "\x1b[32;1m", "\x1b[0m"
BAOZI = ["--->starting eating baozi...", "--->starting eating baozi..."]
for n in range(1, 6):
    BAOZI += [f"[c1] is eating baozi {n}", f"[c2] is eating baozi {n}", f"{G}[producer]{O} is making baozi {n}"]


def run(argv, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t0


def expect(cond, what, out):
    if not cond:
        print(f"FAILED: {what}\n--- output ---\n{out}", file=sys.stderr)
        sys.exit(1)


def check(name, argv):
    p, elapsed = run(argv)
    out = p.stdout
    expect(p.returncode == 0, f"exit status {p.returncode}; stderr: {p.stderr}", out)
    lines = out.splitlines()
    if name == "greenlet_switch":
        expect(out == "12\n56\n34\n78\n", "prints 12, 56, 34, 78", out)
    elif name == "baozi":
        expect(out == "\n".join(BAOZI) + "\n", "byte-identical to the Python seed's 17 lines", out)
    elif name == "gevent_sleep":
        # func2 finishing before func1 shows the sleeps overlap; the clock only shows they slept.
        expect(lines == ["func1 start", "func2 start", "func2 done", "func1 done"], "order", out)
        expect(elapsed >= 1.9, f"func1 slept its 2 s (took {elapsed:.2f} s)", out)
    elif name == "sync_vs_async":
        sync = [f"Task {i} done" for i in range(1, 10)]
        asyn = [f"Task {i} done" for i in range(10)]
        expect(lines[0] == "Synchronous:" and lines[1:10] == sync, "synchronous tasks 1..9 in order", out)
        expect(lines[11] == "Asynchronous:" and lines[12:22] == asyn, "asynchronous tasks 0..9 in order", out)
        t_sync = float(lines[10].split()[1])
        t_async = float(lines[22].split()[1])
        expect(t_sync >= 0.44 and t_async < t_sync / 3, f"sync {t_sync} s vs async {t_async} s", out)
    elif name == "fiber_dump":
        expect(lines[0].startswith("gev: fibers of 1 hub, asked from hub 0"), "the dump's header", out)
        for fiber, what in [("main", "running"), ("sleeper", "parked: sleep "), ("waiter", "parked: Event 0x"),
                            ("reader", "parked: recv fd "), ("joiner", "parked: join fiber ")]:
            expect(any(f"<{fiber} id=" in l and what in l and "spawned at" in l for l in lines[1:])
                   or fiber == "main" and any("<main id=" in l and what in l for l in lines),
                   f"a line for {fiber}: {what}", out)
        expect(any("not started" in l for l in lines), "the spawn_later fiber, not started", out)
    elif name == "subprocess_demo":
        expect(lines[0] == "ok 10 sleep 1 children exited 0 (10/10)", "the ten children exited 0", out)
        expect(lines[1].startswith("ok 10 sleep 1 children in "), "the ten children ran at once", out)
        expect(lines[2] == "ok cat exited 0", "cat exited 0", out)
        expect(lines[3].startswith("ok 10 MiB through cat: 10485760 bytes back, identical: yes"), "10 MiB came back", out)
        expect(not any(l.startswith("FAILED") for l in lines), "no check failed", out)
        expect(elapsed < 8, f"well under 10 s in all (took {elapsed:.2f} s)", out)
    elif name in check_threads.CHECKS:
        check_threads.CHECKS[name](lines, lambda cond, what: expect(cond, what, out))
    elif name in check_queues.CHECKS:
        check_queues.CHECKS[name](lines, lambda cond, what: expect(cond, what, out))
    else:
        expect(False, f"no check for {name}", out)


if __name__ == "__main__":
    check(sys.argv[1], sys.argv[2:])
