"""perf/tls_report.py — the TLS section of perf/report.py's results file (issue 13 §5):
one table per catalog.TLS_TABLES entry (each metric with its ratio to the table's
reference column), then the goal verdicts. Every cell is the median of the interleaved
rounds with min–max; ratios are of medians."""
import catalog
from http_report import _cell, _fmt, med


def _table(key, title, ref, metrics, servers, sizes):
    cols = [(c, t) for c, t in catalog.TLS_COLUMNS if c in servers]
    ref_title = dict(catalog.TLS_COLUMNS)[ref]
    out = [f"**{title.format(**sizes)}**", "", "| metric | " + " | ".join(t for _, t in cols) + " |",
           "|---|" + "---|" * len(cols)]
    for metric, label in metrics:
        vals = {c: [s[metric] for s in servers[c] if metric in s] for c, _ in cols}
        r = med(vals.get(ref, []))
        out.append(f"| {label} | " + " | ".join(_cell(vals[c]) for c, _ in cols) + " |")
        out.append(f"| {label} ÷ {ref_title} | " +
                   " | ".join(f"{med(vals[c]) / r:.2f}×" if r and vals[c] else "—" for c, _ in cols) + " |")
    errors = {c: sum(s.get("errors", 0) for s in servers[c]) for c, _ in cols}
    if any(errors.values()):
        out.append("| wrk socket errors (all rounds) | " + " | ".join(str(errors[c]) for c, _ in cols) + " |")
    return out + [""]


def _goal_rows(res, missed):
    rows = []
    for table, metric, gcol, rcol, limit, text in catalog.TLS_GOALS:
        servers = res.get("tls", {}).get(table, {})
        g = med([s[metric] for s in servers.get(gcol, []) if metric in s])
        r = med([s[metric] for s in servers.get(rcol, []) if metric in s])
        if g is None or not r:
            continue
        ok = g / r <= limit
        rows.append(f"| {text} | {_fmt(g)} ({gcol}) | {_fmt(r)} ({rcol}) | {g / r:.2f}× | "
                    f"{'met' if ok else '**missed**'} |")
        if not ok:
            missed.append(f"tls {table}: {text}; measured {g / r:.2f}× ({_fmt(g)} vs {_fmt(r)})")
    return rows


def lines(res, missed):
    """The section's Markdown lines (empty when the run had no TLS figures)."""
    if not res.get("tls"):
        return []
    sizes = res.get("tls_sizes", {})
    out = ["## TLS (server pinned to core 0, load to core 1)", "",
           "Server CPU per round trip / request / handshake is the primary figure (utime+stime from "
           "/proc/PID/stat over the measured window ÷ what completed); the load's one core caps the rates. "
           "Every server: TLS 1.3 (the client insists), the same ECDSA P-256 certificate made per run, "
           "its library's defaults otherwise (session tickets sent, none used). The C floor is perf/peers/"
           "tls_epoll_echo.c (one thread, epoll, OpenSSL non-blocking); nginx runs one process "
           "(`master_process off`, `return 200`); Go crypto/tls with GOMAXPROCS=1; gev's columns are "
           "examples/tls_echo_server (echo, handshakes) and examples/http_server --tls-cert/--tls-key (HTTPS).", ""]
    for key, title, ref, metrics in catalog.TLS_TABLES:
        if res["tls"].get(key):
            out += _table(key, title, ref, metrics, res["tls"][key], sizes)
    goals = _goal_rows(res, missed)
    if goals:
        out += ["Goals (issue 13, gev on io_uring):", "", "| goal | gev | reference | ratio | met? |",
                "|---|---|---|---|---|"] + goals + [""]
    return out
