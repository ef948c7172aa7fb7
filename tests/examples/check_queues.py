"""tests/examples/check_queues.py — the output checks of examples/threads/ for the seed's
Q1–Q3 queue demos; check_example.py dispatches here by example name. Each check takes
the lines the example printed and `expect(cond, what)`; all run with --fast."""
import re

GREEN, RESET = "\x1b[32;1m", "\x1b[0m"


def queue_demo(lines, expect):
    want = [
        "put 2 3 1 into each",
        "Queue:          2 3 1",
        "LifoQueue:      1 3 2",
        "PriorityQueue:  1 2 3",
        "priority 1: eat",
        "priority 2: code",
        "priority 3: sleep",
        "maxsize 2: qsize 2, empty false, full true",
        "put_nowait on a full queue: gev::Queue::put_nowait: the Queue is full: No buffer space available",
        "get: a, get_nowait: b",
        "get_nowait on an empty queue: gev::Queue::get_nowait: the Queue is empty: "
        "Resource temporarily unavailable",
        "get with a timeout on an empty queue: Empty after the timeout",
    ]
    expect(lines == want, "FIFO, LIFO and priority order, then Full, Empty and the timed get")


def producer_consumer(lines, expect):
    want = ["开始等待所有的骨头被取走..."] + [f"李闯 取到 骨头 {i}" for i in range(10)] + ["所有的骨头被取完了..."]
    expect(lines == want, "the seed's twelve lines: join returns after the tenth task_done")


def baozi_queue(lines, expect):
    produced = eaten = looks = 0
    i = 0
    while i < len(lines) - 1:
        line = lines[i]
        m = re.fullmatch(r"Producer A has produced (\d+) baozi\.\.", line)
        if m:
            expect(int(m[1]) == produced, f"A makes baozi {produced} next: {line!r}")
            produced += 1
        elif line == "-----no baozi anymore----":
            expect(eaten == produced, f"'no baozi' only when the queue is empty (line {i + 1})")
            looks += 1
        else:
            expect(line == str(eaten), f"B eats baozi {eaten} next (FIFO): {line!r}")
            expect(lines[i + 1] == f"{GREEN}Consumer B has eat {eaten} baozi...{RESET}", "the eat line follows")
            eaten += 1
            looks += 1
            i += 1
        i += 1
    expect(produced == 20 and looks == 20, f"A made 20 ({produced}) and B looked 20 times ({looks})")
    expect(lines[-1] == f"left in the queue: {produced - eaten}", "what B did not eat is still in the queue")


CHECKS = {"queue_demo": queue_demo, "producer_consumer": producer_consumer, "baozi_queue": baozi_queue}
