"""perf/catalog.py — what perf/run measures and against which goal: the micro benchmark
rows (which program prints which figure for each column), the echo configurations and
their goals (issues 2, 3, 5 and 14), and the callgrind list. perf/suite.py runs it,
perf/report.py renders it; neither knows a benchmark by name."""

# Columns of the micro table, in order. A program key names how suite.py starts it.
COLUMNS = [("gev", "gev"), ("boost_context", "raw Boost.Context"), ("boost_fiber", "Boost.Fiber"),
           ("go", "Go"), ("gevent", "gevent"), ("threads", "plain threads"),
           ("libc", "C library, direct")]


class Probe:
    """One figure: run `prog` with `--only bench`, read `field` from the line named
    `bench` (whose other key=value pairs match `match`)."""

    def __init__(self, prog, bench, field="ns_per_op", match=None):
        self.prog, self.bench, self.field, self.match = prog, bench, field, match or {}


class Goal:
    """`kind` "abs": gev's median <= limit; "ratio": gev / the ref column <= limit.
    `vs_ref`: an absolute goal that was set as a fraction of the ref column's figure on
    a quieter day (issue 2's Go numbers); it is checked against this run's ref too, since
    absolute times here move 2-3x with the load."""

    def __init__(self, kind, limit, text, vs_ref=None):
        self.kind, self.limit, self.text, self.vs_ref = kind, limit, text, vs_ref


class Row:
    """`scale` multiplies the run's size factor for this row's programs."""

    def __init__(self, key, label, unit, probes, ref=None, goal=None, scale=1.0):
        self.key, self.label, self.unit, self.probes, self.ref, self.goal = key, label, unit, probes, ref, goal
        self.scale = scale


def _std(bench, gev_prog="micro", fiber=True, gevent=True, go="go1", field="ns_per_op", match=None):
    p = {"gev": Probe(gev_prog, bench, field, match)}
    if fiber:
        p["boost_fiber"] = Probe("fiber", bench, field)
    if go:
        p["go"] = Probe(go, bench, field)
    if gevent:
        p["gevent"] = Probe("gevent", bench, field)
    return p


MICRO = [
    Row("switch", "switch: greenlet ping-pong vs bare resume loop", "ns/switch",
        {"gev": Probe("micro", "switch_raw"), "boost_context": Probe("micro", "context_raw")},
        ref="boost_context", goal=Goal("ratio", 1.5, "≤ 1.5× raw loop (≤ 45 instructions)")),
    Row("yield", "yield: 2 fibers sleep(0) / Gosched / yield", "ns/yield", _std("yield"), ref="go",
        goal=Goal("ratio", 0.3, "≤ 0.3× Go (≤ 100 instructions)")),
    Row("spawn_join", "spawn + join (100k spawned and alive, then joined)", "ns/fiber", _std("spawn_join"),
        ref="boost_fiber", goal=Goal("ratio", 1.0, "≤ 1.0× Boost.Fiber")),
    Row("skynet", "skynet 1M leaves", "ns/leaf", _std("skynet_1m"), ref="go",
        goal=Goal("abs", 450, "≤ 450 ms in all (450 ns/leaf)", vs_ref=450 / 1120)),
    Row("sleep_100k", "100k fibers sleep 10 ms at once, (wall − 10 ms)/N", "ns/fiber",
        _std("sleep_100k", fiber=False), ref="go", goal=Goal("ratio", 0.35, "≤ 0.35× Go")),
    Row("timeout_churn", "arm + cancel a Timeout (Go: AfterFunc+Stop), 100k armed", "ns/op",
        _std("timeout_churn", fiber=False), ref="go"),
    # A quarter of the million: fresh memory costs the same per fiber, and a million costs
    # over a minute per run here in page faults alone.
    Row("idle_rss", "250k parked fibers: RSS per fiber (fresh stacks)", "KiB/fiber",
        _std("idle_1m", fiber=False, field="rss_kib_per_fiber", match={"pool": "cold"}), ref="go",
        goal=Goal("ratio", 1.0, "≤ Go"), scale=0.25),
    Row("idle_create", "250k parked fibers: creation, fresh stacks", "ns/fiber",
        _std("idle_1m", fiber=False, match={"pool": "cold"}), ref="go",
        goal=Goal("abs", 3000, "≤ 3 s for 1M"), scale=0.25),
    Row("idle_create_warm", "250k parked fibers: creation, warm stack pool", "ns/fiber",
        {"gev": Probe("micro", "idle_1m", match={"pool": "warm"})}, goal=Goal("abs", 3000, "≤ 3 s for 1M"),
        scale=0.25),
    Row("event_pingpong", "Event ping-pong, one hub", "ns/hand-off",
        {"gev": Probe("micro_sync", "event_pingpong"), "gevent": Probe("gevent", "event_pingpong")}, ref="gevent",
        goal=Goal("abs", 40, "≤ 40 ns")),
    Row("chan_pingpong", "unbuffered channel ping-pong, one hub / GOMAXPROCS=1", "ns/hand-off",
        _std("chan_pingpong", gev_prog="micro_sync"), ref="go", goal=Goal("abs", 40, "≤ 40 ns and ≤ 0.3× Go", vs_ref=0.3)),
    Row("semaphore_uncontended", "Semaphore acquire + release, uncontended", "ns/op",
        {"gev": Probe("micro_sync", "semaphore_uncontended")}, goal=Goal("abs", 10, "≤ 10 ns")),
    Row("queue_putget", "Queue(64) throughput: producer and consumer fibers, one hub", "ns/item",
        {"gev": Probe("micro_sync", "queue_putget")}),
    Row("handoff_2hubs", "cross-hub channel ping-pong, 2 hubs / GOMAXPROCS=2 / 2 threads on eventfds",
        "ns/hand-off", {"gev": Probe("micro_sync", "handoff_2hubs"), "go": Probe("go2", "chan_pingpong"),
                        "threads": Probe("micro", "eventfd_pingpong")}, ref="go",
        goal=Goal("ratio", 2.0, "≤ 2× Go (GOMAXPROCS=2)")),
    Row("event_handoff_2hubs", "cross-hub Event ping-pong, 2 hubs", "ns/hand-off",
        {"gev": Probe("micro_sync", "event_handoff_2hubs")}),
    Row("spawn_on_rt", "spawn_on(other hub) + get, round trip", "ns/op",
        {"gev": Probe("micro", "spawn_on_rt")}),
    # Issue 6: gev_monkey's read/write hooks on a ready socket against the C library's own
    # functions (gev::monkey::original), same fds, same fiber; op = write 64 B + read 64 B.
    Row("monkey_rw", "patched read+write (64 B, ready socketpair) vs the original calls", "ns/op",
        {"gev": Probe("monkey", "rw_patched"), "libc": Probe("monkey", "rw_direct")}, ref="libc",
        goal=Goal("ratio", 1.1, "≤ 1.1× direct call"), scale=4),
]

# Echo: server columns in order (see echo_bench.servers), configurations per mode.
ECHO_COLUMNS = [("c_epoll", "C epoll"), ("c_blocking", "C blocking"), ("gev_epoll", "gev epoll"),
                ("gev_uring", "gev io_uring"), ("gev_uring_2hubs", "gev io_uring 2 hubs"),
                ("go", "Go"), ("gevent", "gevent")]
ECHO_CONFIGS = {"full": ["100x64", "100x4096", "1000x64", "1x64", "100x64+hog"], "quick": ["100x64", "1x64"],
                "smoke": ["2x64"]}
ECHO_METRICS = [("server_cpu_ns_per_rt", "server CPU ns/round trip"), ("rps", "round trips/s"),
                ("p50_us", "p50 µs"), ("p99_us", "p99 µs")]
# (metric, gev column, floor column, limit, text): issue 14's goals (issue 3's before
# them), on every configuration.
ECHO_GOALS = [("server_cpu_ns_per_rt", "gev_epoll", "c_epoll", 1.03, "epoll ≤ 1.03× C epoll"),
              ("server_cpu_ns_per_rt", "gev_uring", "c_epoll", 0.85, "io_uring ≤ 0.85× C epoll"),
              ("p99_us", "gev_epoll", "c_epoll", 1.1, "epoll p99 ≤ 1.1× C epoll's"),
              ("p99_us", "gev_uring", "c_epoll", 1.1, "io_uring p99 ≤ 1.1× C epoll's"),
              ("p50_us", "gev_epoll", "c_blocking", 1.1, "1 conn p50 ≤ 1.1× C blocking (epoll)"),
              ("p50_us", "gev_uring", "c_blocking", 1.1, "1 conn p50 ≤ 1.1× C blocking (io_uring)")]

# callgrind: (row key, column, program, bench, ops per n, scale small, scale big).
# Instructions per op = (Ir(big) − Ir(small)) / (ops(big) − ops(small)): start-up cancels.
CALLGRIND = [
    ("switch", "boost_context", "micro", "context_raw", 2, 0.005, 0.01),
    ("switch", "gev", "micro", "switch_raw", 2, 0.005, 0.01),
    ("yield", "gev", "micro", "yield", 2, 0.005, 0.01),
    ("yield", "boost_fiber", "fiber", "yield", 2, 0.005, 0.01),
    ("spawn_join", "gev", "micro", "spawn_join", 1, 0.005, 0.01),
    ("spawn_join", "boost_fiber", "fiber", "spawn_join", 1, 0.005, 0.01),
    ("skynet", "gev", "micro", "skynet_1m", 1, 0.001, 0.01),
    ("skynet", "boost_fiber", "fiber", "skynet_1m", 1, 0.001, 0.01),
    ("chan_pingpong", "gev", "micro_sync", "chan_pingpong", 2, 0.005, 0.01),
    ("chan_pingpong", "boost_fiber", "fiber", "chan_pingpong", 2, 0.005, 0.01),
    ("event_pingpong", "gev", "micro_sync", "event_pingpong", 2, 0.005, 0.01),
    ("monkey_rw", "gev", "monkey", "rw_patched", 1, 0.1, 0.2),
    ("monkey_rw", "libc", "monkey", "rw_direct", 1, 0.1, 0.2),
]

# HTTP (perf/http_bench.py, issue 12): server columns in order, nginx the reference;
# configurations "route-connections" per mode (get: keep-alive GET / answered with 13
# bytes; echo4k: POST /echo with 4 KiB each way); idle keep-alive connections for the
# memory row.
HTTP_COLUMNS = [("nginx", "nginx"), ("gev_epoll", "gev epoll"), ("gev_uring", "gev io_uring"),
                ("go", "Go net/http"), ("gevent", "gevent pywsgi"), ("h2o", "h2o")]
HTTP_REF = "nginx"
HTTP_CONFIGS = {"full": ["get-100", "get-1000", "echo4k-100", "get-1"], "quick": ["get-100", "get-1"],
                "smoke": ["get-4", "echo4k-4"]}
HTTP_SECONDS = {"full": 3, "quick": 2, "smoke": 1}   # wrk takes whole seconds
HTTP_IDLE = {"full": 10000, "quick": 2000, "smoke": 50}
HTTP_METRICS = [("server_cpu_ns_per_req", "server CPU ns/request"), ("rps", "requests/s"),
                ("p50_us", "p50 µs"), ("p99_us", "p99 µs")]
# (metric, gev column, reference column, limit, text, configurations: None = every one).
HTTP_GOALS = [
    ("server_cpu_ns_per_req", "gev_uring", "nginx", 0.8, "CPU/request ≤ 0.8× nginx at 100 connections", {"get-100"}),
    ("server_cpu_ns_per_req", "gev_uring", "nginx", 0.9, "CPU/request ≤ 0.9× nginx at 1,000 connections",
     {"get-1000"}),
    ("server_cpu_ns_per_req", "gev_uring", "go", 0.5, "CPU/request ≤ 0.5× Go net/http", None),
    ("p99_us", "gev_uring", "nginx", 1.0, "p99 no worse than nginx's", None),
]
# (gev column, reference column or None, limit, text) on KiB per idle connection.
HTTP_IDLE_GOALS = [("gev_uring", None, 8.0, "≤ 8 KiB per idle connection"),
                   ("gev_uring", "nginx", 2.0, "≤ 2× nginx's per idle connection")]

# TLS (perf/tls_bench.py, issue 13 §5): three tables, each with its reference column.
# echo: perf/tls_loadgen's N connections × S bytes, one message in flight each; https:
# wrk against GET / over TLS; handshake: perf/tls_loadgen's fresh TLS 1.3 handshakes, one
# at a time, each with one small request. Sizes per mode; the load is "connections x size".
TLS_COLUMNS = [("c_floor", "C epoll + OpenSSL"), ("nginx", "nginx"), ("gev_epoll", "gev epoll"),
               ("gev_uring", "gev io_uring"), ("gev_http_uring", "gev http_server io_uring"),
               ("go", "Go crypto/tls")]
TLS_TABLES = [   # (key, title, reference column, metrics)
    ("echo", "TLS 1.3 echo, {echo} (connections × bytes), keep-alive, one message in flight per connection "
     "(perf/tls_loadgen)", "c_floor",
     [("server_cpu_ns_per_rt", "server CPU ns/round trip"), ("rps", "round trips/s"), ("p50_us", "p50 µs"),
      ("p99_us", "p99 µs")]),
    ("https", "HTTPS keep-alive GET / (13-byte body), {https} connections, TLS 1.3 (wrk -t1)", "nginx",
     [("server_cpu_ns_per_req", "server CPU ns/request"), ("rps", "requests/s"), ("p50_us", "p50 µs"),
      ("p99_us", "p99 µs")]),
    ("handshake", "New TLS 1.3 handshakes (ECDHE + ECDSA P-256, no resumption), one at a time, each with one "
     "request: 64 B echoed, or GET / with Connection: close for the HTTP servers (perf/tls_loadgen)", "nginx",
     [("server_cpu_ns_per_handshake", "server CPU µs/handshake"), ("hps", "handshakes/s")]),
]
TLS_SIZES = {"full": {"echo": "100x64", "https": 100}, "quick": {"echo": "100x64", "https": 100},
             "smoke": {"echo": "4x64", "https": 4}}
TLS_SECONDS = {"full": 3, "quick": 2, "smoke": 1}   # wrk takes whole seconds
# (table, metric, gev column, reference column, limit, text)
TLS_GOALS = [
    ("echo", "server_cpu_ns_per_rt", "gev_uring", "c_floor", 1.1, "TLS echo CPU/round trip ≤ 1.1× the C floor"),
    ("https", "server_cpu_ns_per_req", "gev_uring", "nginx", 1.0, "HTTPS CPU/request ≤ 1.0× nginx"),
    ("handshake", "server_cpu_ns_per_handshake", "gev_http_uring", "nginx", 1.1,
     "CPU per new handshake ≤ 1.1× nginx (gev's http_server, same request as nginx)"),
]
