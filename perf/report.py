#!/usr/bin/env python3
"""perf/report.py — turns perf/suite.py's samples into the Markdown results file (micro
table, echo tables, the HTTP section from perf/http_report.py, the TLS section from
perf/tls_report.py, goal checks, callgrind counts, conditions) and the chart
(perf/results/chart.png via gnuplot, else matplotlib when importable). Every cell is
the median of the interleaved rounds with min–max; ratios are of medians.
Run: perf/report.py RESULTS.json [--chart perf/results/chart.png] (re-renders a run)."""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile

import catalog
import echo_bench
import http_report
import tls_report


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def cell(samples):
    if not samples:
        return "—"
    if len(samples) == 1:
        return fmt(samples[0])
    return f"{fmt(med(samples))} ({fmt(min(samples))}–{fmt(max(samples))})"


def verdict(ok):
    return "–" if ok is None else "met" if ok else "**missed**"


def micro_lines(res, missed):
    cols = [(c, t) for c, t in catalog.COLUMNS if any(c in d for d in res["micro"].values())]
    out = ["| benchmark | unit | " + " | ".join(t for _, t in cols) + " | gev ÷ ref | goal | met? |",
           "|---|---|" + "---|" * len(cols) + "---|---|---|"]
    for row in catalog.MICRO:
        data = res["micro"].get(row.key, {})
        if not data:
            continue
        m = {c: med(d["samples"]) for c, d in data.items()}
        gev, ref = m.get("gev"), m.get(row.ref) if row.ref else None
        ratio = gev / ref if gev is not None and ref else None
        ref_name = dict(catalog.COLUMNS).get(row.ref, "")
        ratio_txt = f"{ratio:.2f}× {ref_name}" if ratio is not None else "—"
        ok, goal_txt, met = None, "", "–"
        if row.goal:
            g = row.goal
            goal_txt = g.text
            value = ratio if g.kind == "ratio" else gev
            ok = None if value is None else value <= g.limit
            met = verdict(ok)
            if ok is False:
                missed.append(f"{row.label}: gev {fmt(gev)} {row.unit}, goal {goal_txt}"
                              + (f" (ratio {ratio:.2f})" if g.kind == "ratio" else ""))
            if g.vs_ref is not None:
                goal_txt += f"; ≤ {g.vs_ref:.2f}× {ref_name} (the goal's ratio when set)"
                ok2 = None if ratio is None else ratio <= g.vs_ref
                met += f"; vs {ref_name}: {verdict(ok2)}"
                if ok2 is False:
                    missed.append(f"{row.label}: gev {ratio:.2f}× {ref_name} in this run, goal ≤ {g.vs_ref:.2f}×")
        cells = [cell(data.get(c, {}).get("samples")) for c, _ in cols]
        out.append(f"| {row.label} | {row.unit} | " + " | ".join(cells) + f" | {ratio_txt} | {goal_txt} | {met} |")
    return out


def echo_lines(res, missed):
    out = []
    for cfg, servers in res["echo"].items():
        cols = [(c, t) for c, t in catalog.ECHO_COLUMNS if c in servers]
        conns, size, hog = echo_bench.parse_cfg(cfg)
        load = ", a busy loop sharing the server's core" if hog else ""
        out += [f"**{conns} connection{'s' if conns != 1 else ''} × {size} B{load}**", "",
                "| metric | " + " | ".join(t for _, t in cols) + " | gev epoll ÷ C | gev io_uring ÷ C |",
                "|---|" + "---|" * len(cols) + "---|---|"]
        for metric, label in catalog.ECHO_METRICS:
            vals = {c: [s[metric] for s in servers[c] if metric in s] for c, _ in cols}
            floor = med(vals.get("c_epoll", []))
            ratios = []
            for g in ("gev_epoll", "gev_uring"):
                v = med(vals.get(g, []))
                ratios.append(f"{v / floor:.2f}×" if v is not None and floor else "—")
            out.append(f"| {label} | " + " | ".join(cell(vals[c]) for c, _ in cols) + " | " + " | ".join(ratios) + " |")
        out.append("")
    goals = ["| goal | configuration | gev | floor | ratio | met? |", "|---|---|---|---|---|---|"]
    for metric, gcol, fcol, limit, text in catalog.ECHO_GOALS:
        for cfg, servers in res["echo"].items():
            if metric == "p50_us" and not cfg.startswith("1x"):
                continue
            g = med([s[metric] for s in servers.get(gcol, [])])
            f = med([s[metric] for s in servers.get(fcol, [])])
            if g is None or not f:
                continue
            ok = g / f <= limit
            goals.append(f"| {text} | {cfg} | {fmt(g)} | {fmt(f)} | {g / f:.2f}× | {verdict(ok)} |")
            if not ok:
                missed.append(f"echo {cfg}: {text}; measured {g / f:.2f}× ({fmt(g)} vs {fmt(f)})")
    return out + (["Goals (issue 14):", ""] + goals if len(goals) > 2 else [])


def callgrind_lines(res):
    cg = res.get("callgrind", {})
    if not cg:
        return []
    cols = [c for c, _ in catalog.COLUMNS if any(c in v for v in cg.values())]
    names = dict(catalog.COLUMNS)
    labels = {r.key: r.label.split(":")[0] for r in catalog.MICRO}
    out = ["| benchmark | " + " | ".join(names[c] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for key, v in cg.items():
        out.append(f"| {labels.get(key, key)} | " + " | ".join(fmt(v.get(c)) for c in cols) + " |")
    return out


def sizes_lines(res):
    names = dict(catalog.COLUMNS)
    out = []
    for row in catalog.MICRO:
        data = res["micro"].get(row.key)
        if data:
            out.append(f"- {row.key}: " + ", ".join(f"{names[c]} n={d['n']:,}" for c, d in data.items()))
    return out


def write(res, md_path, chart_path):
    c = res["conditions"]
    missed = []
    micro, echo, http = micro_lines(res, missed), echo_lines(res, missed), http_report.lines(res, missed)
    tls = tls_report.lines(res, missed)
    chart = chart_file(res, chart_path)
    lines = [f"# gev performance — {c['date']}", "",
             f"Machine: {c['machine']}. Mode `{c['mode']}`: {c['rounds']} interleaved round(s), sizes × {c['scale']}, "
             f"echo {c['echo_seconds']} s per run. Load average before {' '.join(c['load_before'])}, after "
             f"{' '.join(c.get('load_after', []))}; run took {c.get('duration_s', '?')} s.",
             f"gev {c['gev']}, {c['compiler']}; Go: {c['go'] or 'not run'}; gevent: {c['gevent'] or 'not run'}; "
             f"Boost.Fiber: {c['boost'] or 'not run'}." + (f" HTTP: {c['http_peers']}." if c.get('http_peers') else ""),
             ""]
    if c["mode"] == "smoke":
        lines += ["**Smoke run: tiny sizes, one round. It only shows that every benchmark still runs; "
                  "its figures and goal verdicts mean nothing.**", ""]
    lines += [f"Note: {n}" for n in c.get("notes", [])]
    lines += ["", "Each cell: median (min–max) over the rounds; every round runs each implementation once, "
              "in rotated order, in the same invocation. The machine is a shared, noisy 2-core VM: read the "
              "ratios, not the absolute times. Reproduce with `perf/run` (or `perf/run --quick`).", ""]
    if chart:
        lines += [f"![chart]({os.path.relpath(chart, os.path.dirname(md_path))})", ""]
    warm = (f"each timed run follows {c.get('micro_warmup', 0)} untimed run(s) of the same benchmark in the same "
            "process, so it measures the runtime rather than first-touch page faults (≈10 µs per 4 KiB page "
            "here); the parked-fiber rows measure fresh memory on purpose, and their warm-pool row is gev's "
            "second batch of fibers in the same process" if c.get("micro_warmup") else "each run in a fresh process (cold memory)")
    if res["micro"]:
        lines += ["## Micro benchmarks (wall clock)", "", f"Lower is better; {warm}. gev ÷ ref is the ratio of "
                  "medians against the column named.", ""] + micro + [""]
    if echo:
        lines += ["## Echo (server pinned to core 0, perf/loadgen to core 1)", "",
                  "Server CPU per round trip is the primary figure (from /proc/PID/stat); a 2-hub server "
                  "shares core 1 with the load generator. Every server reads 1 KiB per recv "
                  "(examples/echo_server's buffer, as the seed's), so a 4096 B message costs each of "
                  "them four reads and four writes.", ""] + echo + [""]
    lines += http + tls
    cg = callgrind_lines(res)
    if cg:
        lines += ["## callgrind: instructions per operation (exact)", "",
                  "(Ir at two sizes, difference over the extra operations: start-up cancels; gev on epoll.)",
                  ""] + cg + [""]
    lines += ["## Goals missed", ""] + ([f"- {m}" for m in missed] or ["- none"]) + [""]
    if res.get("failures"):
        lines += ["## Runs that failed (no figure)", ""] + [f"- {f}" for f in res["failures"]] + [""]
    lines += ["## Sizes", ""] + sizes_lines(res) + [""]
    with open(md_path, "w") as f:
        f.write("\n".join(lines))
    return md_path, chart


def chart_data(res):
    """(micro rows, echo rows): label plus one value (or None) per column."""
    micro = []
    for row in catalog.MICRO:
        data = res["micro"].get(row.key)
        if data and row.unit.startswith("ns"):
            micro.append((row.key, [med(data.get(c, {}).get("samples", [])) for c, _ in catalog.COLUMNS]))
    echo = []
    for cfg, servers in res["echo"].items():
        echo.append((cfg, [med([s["server_cpu_ns_per_rt"] for s in servers.get(c, [])])
                           for c, _ in catalog.ECHO_COLUMNS]))
    return micro, echo


def chart_file(res, path):
    micro, echo = chart_data(res)
    if not micro and not echo:
        return None
    if shutil.which("gnuplot"):
        return gnuplot_chart(res, micro, echo, path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    panels = [(p, cols, t) for p, cols, t in ((micro, catalog.COLUMNS, "micro: ns per op (log)"),
                                              (echo, catalog.ECHO_COLUMNS, "echo: server CPU ns per round trip"))
              if p]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 5 * len(panels)), squeeze=False)
    for ax, (rows, cols, title) in zip(axes[:, 0], panels):
        width = 0.8 / len(cols)
        for i, (_, name) in enumerate(cols):
            xs = [j + i * width for j, (_, v) in enumerate(rows) if v[i] is not None]
            ys = [v[i] for _, v in rows if v[i] is not None]
            ax.bar(xs, ys, width, label=name)
        ax.set_xticks([j + 0.4 for j in range(len(rows))], [r[0] for r in rows], rotation=30, ha="right")
        ax.set_title(title)
        if title.startswith("micro"):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


def gnuplot_chart(res, micro, echo, path):
    c = res["conditions"]
    with tempfile.TemporaryDirectory() as tmp:
        def data(name, rows):
            p = os.path.join(tmp, name)
            with open(p, "w") as f:
                for label, vals in rows:
                    f.write(label + "\t" + "\t".join("?" if v is None else f"{v:g}" for v in vals) + "\n")
            return p

        def plot(p, cols):
            return "plot " + ", ".join(f"'{p}' using {i + 2}{':xtic(1)' if i == 0 else ''} title '{t}'"
                                       for i, (_, t) in enumerate(cols))
        panels = int(bool(micro)) + int(bool(echo))
        term = "pngcairo" if path.endswith(".png") else "svg dynamic"
        script = [f"set terminal {term} size 1200,{450 * panels} font 'sans,11' background '#ffffff'",
                  f"set output '{path}'", "set datafile separator '\\t'", "set datafile missing '?'",
                  "set style data histograms", "set style histogram clustered gap 1",
                  "set style fill solid 0.85 border -1", "set grid ytics", "set key outside right top noenhanced",
                  "set xtics rotate by 30 right scale 0 nomirror noenhanced", "set bmargin 7",
                  f"set multiplot layout {panels},1 title 'gev and its peers, {c['date']}, "
                  f"{c['mode']} mode, medians of {c['rounds']} interleaved rounds' noenhanced"]
        if micro:
            script += ["set logscale y", "set ylabel 'ns per op (log scale; lower is better)'",
                       "set title 'micro benchmarks'", plot(data("micro.tsv", micro), catalog.COLUMNS)]
        if echo:
            script += ["unset logscale y", "set yrange [0:*]",
                       "set ylabel 'server CPU ns per round trip (lower is better)'",
                       "set title 'echo: server CPU per round trip'", plot(data("echo.tsv", echo), catalog.ECHO_COLUMNS)]
        script.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(script), capture_output=True, text=True)
        if r.returncode != 0:
            print("report: gnuplot failed:", r.stderr.strip()[-500:])
            return None
    return path


def main():
    import json
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--chart", help="default: chart.png beside RESULTS; .svg for SVG")
    a = ap.parse_args()
    with open(a.results) as f:
        res = json.load(f)
    chart = a.chart or os.path.join(os.path.dirname(a.results), "chart.png")
    md, _ = write(res, os.path.splitext(a.results)[0] + ".md", chart)
    print(md)


if __name__ == "__main__":
    main()
