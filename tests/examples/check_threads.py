"""tests/examples/check_threads.py — the output checks of examples/threads/ for the seed's
T1–T8 thread demos; check_example.py dispatches here by example name. Each check takes
the lines the example printed and `expect(cond, what)`; all run with --fast."""
import re

GREEN = "\x1b[42;1m--green light on---\x1b[0m"
YELLOW = "\x1b[43;1m--yellow light on---\x1b[0m"
RED = "\x1b[41;1m--red light on---\x1b[0m"
CAR = re.compile(r"car \[([0-2])\] is (running|waiting for the red light)\.\.$")


def threads_basic(lines, expect):
    expect(len(lines) == 7, "two names, four running lines, the total")
    expect(all(re.fullmatch(r"Greenlet-\d+", n) for n in lines[:2]), "names print before any fiber runs")
    expect(lines[2:6] == [f"running on number:{i}" for i in range(1, 5)], "fibers run in spawn order")
    m = re.fullmatch(r"four sleeps of ([\d.]+) s took ([\d.]+) s in all", lines[6])
    expect(m is not None and float(m[2]) < 4 * float(m[1]), "the sleeps overlap")


def daemon_join(lines, expect):
    expect(lines[:2] == ["[0]------running----", ""], "thread 0 starts first")
    expect(re.fullmatch(r"starting thread Greenlet-\d+", lines[2]) is not None, "join(1 s) returns on time")
    expect("---main thread done----" in lines, "main's join(1.5 s) returns")
    expect(lines.count("--done--") <= 1, "leftover fibers are killed when main returns")


def counter_race(lines, expect):
    expect(lines == ["--get num: 100"] * 100 + ["final num: 99"], "every read precedes every write")


def lock_counter(lines, expect):
    expect(len(lines) == 101, "100 reads and the result")
    expect(all(re.fullmatch(r"--get num: \d+", x) for x in lines[:100]), "100 reads")
    expect(lines[100] == "final num: 0", "the Lock keeps every decrement")


def rlock_nested(lines, expect):
    want = []
    for k in range(1, 11):
        want += ["grab the first part data", "--------between run1 and run2-----", "grab the second part data",
                 f"{k} {k}"]
    expect(lines == want + ["----all threads done---", "10 10"], "ten whole blocks, k = 1..10")


def semaphore(lines, expect):
    want = []
    for n in range(20):
        want += [f"run the thread: {n}", ""]
    expect(lines == want + ["----all threads done---", "at most 5 inside at once"], "four waves of five, in order")


def traffic_light(lines, expect):
    light = [x for x in lines if "light on" in x]
    cycle = [YELLOW] * 3 + [RED] * 7
    expect(light == [GREEN] * 10 + cycle + [GREEN] * 9 + cycle, "two cycles: 10/3/7, then 9/3/7")
    cars = [CAR.match(x) for x in lines if "light on" not in x]
    expect(all(cars), "every other line is a car")
    expect(any(c[2] == "waiting for the red light" for c in cars), "some car meets a red light")
    for i, c in enumerate(cars):
        if c[2] == "waiting for the red light":
            later = [d for d in cars[i + 1:] if d[1] == c[1]]
            expect(later and later[0][2] == "running", f"car {c[1]} drives on once the light is green")


CHECKS = {f.__name__: f for f in (threads_basic, daemon_join, counter_race, lock_counter, rlock_nested, semaphore,
                                   traffic_light)}
