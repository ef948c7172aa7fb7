"""perf/http_report.py — the HTTP section of perf/report.py's results file: one table per
wrk configuration (server CPU per request first, then requests/s, p50, p99, each with its
ratio to nginx), the idle keep-alive memory row, and issue 12's goal verdicts. Every
cell is the median of the interleaved rounds with min–max; ratios are of medians."""
import statistics

import catalog


def med(xs):
    return statistics.median(xs) if xs else None


def _fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _cell(samples):
    if not samples:
        return "—"
    if len(samples) == 1:
        return _fmt(samples[0])
    return f"{_fmt(med(samples))} ({_fmt(min(samples))}–{_fmt(max(samples))})"


def _title(cfg):
    route, conns = cfg.split("-")
    what = "keep-alive GET / (13-byte body)" if route == "get" else "keep-alive POST /echo, 4 KiB each way"
    return f"**{what}, {int(conns):,} connection{'' if conns == '1' else 's'}**"


def _table(cfg, servers):
    cols = [(c, t) for c, t in catalog.HTTP_COLUMNS if c in servers]
    out = [_title(cfg), "", "| metric | " + " | ".join(t for _, t in cols) + " |", "|---|" + "---|" * len(cols)]
    for metric, label in catalog.HTTP_METRICS:
        vals = {c: [s[metric] for s in servers[c] if metric in s] for c, _ in cols}
        ref = med(vals.get(catalog.HTTP_REF, []))
        out.append(f"| {label} | " + " | ".join(_cell(vals[c]) for c, _ in cols) + " |")
        ratios = [f"{med(vals[c]) / ref:.2f}×" if ref and vals[c] else "—" for c, _ in cols]
        out.append(f"| {label} ÷ nginx | " + " | ".join(ratios) + " |")
    errors = {c: sum(s.get("errors", 0) for s in servers[c]) for c, _ in cols}
    if any(errors.values()):
        out.append("| wrk socket errors (all rounds) | " + " | ".join(str(errors[c]) for c, _ in cols) + " |")
    return out + [""]


def _goal_rows(res, missed):
    rows = []
    for metric, gcol, rcol, limit, text, cfgs in catalog.HTTP_GOALS:
        for cfg, servers in res.get("http", {}).items():
            if cfgs is not None and cfg not in cfgs:
                continue
            g = med([s[metric] for s in servers.get(gcol, []) if metric in s])
            r = med([s[metric] for s in servers.get(rcol, []) if metric in s])
            if g is None or not r:
                continue
            ok = g / r <= limit
            rows.append(f"| {text} | {cfg} | {_fmt(g)} | {_fmt(r)} ({rcol}) | {g / r:.2f}× | "
                        f"{'met' if ok else '**missed**'} |")
            if not ok:
                missed.append(f"http {cfg}: {text}; measured {g / r:.2f}× ({_fmt(g)} vs {_fmt(r)})")
    idle = res.get("http_idle", {})
    for gcol, rcol, limit, text in catalog.HTTP_IDLE_GOALS:
        g = med([s["kib_per_conn"] for s in idle.get(gcol, [])])
        r = med([s["kib_per_conn"] for s in idle.get(rcol, [])]) if rcol else 1.0
        if g is None or not r:
            continue
        ok = g / r <= limit
        shown = f"{g / r:.2f}×" if rcol else "—"
        rows.append(f"| {text} | idle | {_fmt(g)} KiB | {_fmt(r) + ' KiB (' + rcol + ')' if rcol else '—'} | {shown} | "
                    f"{'met' if ok else '**missed**'} |")
        if not ok:
            missed.append(f"http idle: {text}; measured {_fmt(g)} KiB" + (f" ({shown} {rcol})" if rcol else ""))
    return rows


def _idle_lines(res):
    idle = res.get("http_idle", {})
    cols = [(c, t) for c, t in catalog.HTTP_COLUMNS if c in idle]
    if not cols:
        return []
    n = max(s["connections"] for c, _ in cols for s in idle[c])
    kib = {c: [s["kib_per_conn"] for s in idle[c]] for c, _ in cols}
    ref = med(kib.get(catalog.HTTP_REF, []))
    return [f"**Memory: {n:,} idle keep-alive connections (each served one GET /), server RSS growth ÷ {n:,}**", "",
            "| metric | " + " | ".join(t for _, t in cols) + " |", "|---|" + "---|" * len(cols),
            "| KiB per idle connection | " + " | ".join(_cell(kib[c]) for c, _ in cols) + " |",
            "| ÷ nginx | " + " | ".join(f"{med(kib[c]) / ref:.2f}×" if ref else "—" for c, _ in cols) + " |",
            "| RSS before, KiB | " + " | ".join(_cell([s["rss_before_kib"] for s in idle[c]]) for c, _ in cols) + " |",
            ""]


def lines(res, missed):
    """The section's Markdown lines (empty when the run had no HTTP figures)."""
    if not res.get("http") and not res.get("http_idle"):
        return []
    out = ["## HTTP (server pinned to core 0, wrk -t1 to core 1)", "",
           "Server CPU per request is the primary figure (utime+stime from /proc/PID/stat over wrk's run ÷ the "
           "requests wrk completed); wrk's one core caps requests/s (near 55–65k/s on this machine when quiet), "
           "so requests/s barely separates the servers. nginx runs one process (`master_process off`, access log off, "
           "`return 200`), Go with GOMAXPROCS=1, h2o with one thread. The 4 KiB row posts 4 KiB to /echo "
           "(nginx: the echo module; h2o: mruby) — see perf/README.md for why. p50/p99 are wrk's.", ""]
    for cfg, servers in res.get("http", {}).items():
        out += _table(cfg, servers)
    out += _idle_lines(res)
    goals = _goal_rows(res, missed)
    if goals:
        out += ["Goals (issue 12, gev on io_uring):", "", "| goal | configuration | gev | reference | ratio | met? |",
                "|---|---|---|---|---|---|"] + goals + [""]
    return out
