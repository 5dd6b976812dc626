#!/usr/bin/env python3
"""latency_report.py OUT: the table and plots of scripts/latency.sh.

Reads OUT/VARIANT-DURABILITY-RATE-RUN.json (bourse load --json), writes
OUT/latency.md (one row per run: round trips, the echo baseline, the
generator's send lag, the disk's fdatasync and the server's stage clocks,
with the issue's goal for that durability and rate), and per variant and
durability two SVG files: the latency curve (HdrHistogram style: x is
1/(1-percentile) on a log scale, y the latency on a log scale) of the server
and of the echo at each rate, and the mean and max round trip over time.
No dependency but Python 3."""
import glob, json, math, os, sys

out = sys.argv[1]
runs = []
for p in sorted(glob.glob(os.path.join(out, "*.json"))):
    base = os.path.basename(p)[:-5]
    try:
        name, dur, rate, rep = base.rsplit("-", 3)
        r = json.load(open(p))
    except Exception:
        continue
    runs.append((name, dur, int(rate), int(rep), r))
runs.sort(key=lambda x: (x[1], x[2], x[3], x[0]))


def us(ns):
    return "%.0f µs" % (ns / 1e3) if ns < 1e6 else "%.2f ms" % (ns / 1e6)


def goal(dur, rate, r):
    """The issue's goal for this run: (bound in ns, text), or None."""
    echo = r["echo_open_loop_rtt_ns"]["p99"]
    if dur == "none":
        k = 3 if rate <= 215000 else 5
        return k * echo, "≤ %d× echo" % k
    if dur == "batch":
        sync = r.get("server_stages_ns", {}).get("sync", {}).get("p99", 0)
        return sync + 3 * echo, "≤ fdatasync p99 + 3× echo"
    return None


lines = [
    "| variant | durability | rate/s | sent/s | errors | p50 | p99 | p99.9 | echo open-loop p99 | p99 ÷ echo | "
    "send lag p99 | fdatasync p99 | goal | met | stages (mean): taken / applied / released / written |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for name, dur, rate, rep, r in runs:
    rt, echo, lag = r["rtt_ns"], r["echo_open_loop_rtt_ns"], r["send_lag_ns"]
    st = r.get("server_stages_ns", {})
    g = goal(dur, rate, r)
    sync = st.get("sync", {}).get("p99", 0)
    stages = " / ".join(us(st[k]["mean"]) for k in ("taken", "applied", "released", "written") if k in st)
    lines.append(
        "| %s | %s | %d | %.0f | %d | %s | %s | %s | %s | %.1f× | %s | %s | %s | %s | %s |"
        % (name, dur, rate, r["orders_per_sec"], r["errors"], us(rt["p50"]), us(rt["p99"]), us(rt["p999"]),
           us(echo["p99"]), rt["p99"] / max(echo["p99"], 1), us(lag["p99"]), us(sync) if sync else "-",
           ("%s = %s" % (g[1], us(g[0]))) if g else "-", ("yes" if rt["p99"] <= g[0] else "no") if g else "-",
           stages))
with open(os.path.join(out, "latency.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))

# --- SVG --------------------------------------------------------------------
W, H, L, R, T, B = 720, 420, 70, 150, 30, 50
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def svg(path, title, series, xlog, xlabel, ylabel, xticks):
    """series: (label, colour, dash, [(x, y)...]); y in ns, log scale."""
    pts = [p for s in series for p in s[3] if p[1] > 0]
    if not pts:
        return
    ylo = 10 ** math.floor(math.log10(min(p[1] for p in pts)))
    yhi = 10 ** math.ceil(math.log10(max(p[1] for p in pts)))
    xs = [p[0] for p in pts]
    xlo, xhi = (min(xs), max(xs)) if not xlog else (1, max(xs))
    if xhi <= xlo:
        xhi = xlo + 1

    def X(x):
        f = (math.log10(x) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo)) if xlog else (x - xlo) / (xhi - xlo)
        return L + f * (W - L - R)

    def Y(y):
        return T + (1 - (math.log10(y) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))) * (H - T - B)

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="18" font-size="13">%s</text>' % (L, title)]
    d = ylo
    while d <= yhi * 1.001:
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, Y(d), Y(d)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (L - 4, Y(d) + 4, us(d)))
        d *= 10
    for x, lab in xticks:
        if xlo <= x <= xhi:
            o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>' % (X(x), X(x), T, H - B))
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (X(x), H - B + 15, lab))
    o.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % ((L + W - R) / 2, H - 12, xlabel))
    o.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>' % ((T + H - B) / 2, (T + H - B) / 2, ylabel))
    for i, (label, col, dash, p) in enumerate(series):
        p = [q for q in p if q[1] > 0 and (not xlog or q[0] >= 1)]
        if not p:
            continue
        o.append('<polyline fill="none" stroke="%s" stroke-width="1.6" %s points="%s"/>'
                 % (col, 'stroke-dasharray="5,3"' if dash else "", " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in p)))
        o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2" %s/>'
                 % (W - R + 8, W - R + 28, T + 10 + 16 * i, T + 10 + 16 * i, col, 'stroke-dasharray="5,3"' if dash else ""))
        o.append('<text x="%d" y="%d">%s</text>' % (W - R + 32, T + 14 + 16 * i, label))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def curve(h):
    return [(1 / (1 - p / 100) if p < 100 else 1e6, v) for p, v in h.get("curve", [])]


PT = [(1, "0%"), (2, "50%"), (10, "90%"), (100, "99%"), (1000, "99.9%"), (10000, "99.99%"), (100000, "99.999%"), (1e6, "max")]
for name in sorted({x[0] for x in runs}):
    for dur in sorted({x[1] for x in runs}):
        rs = [x for x in runs if x[0] == name and x[1] == dur and x[3] == 1]
        if not rs:
            continue
        ser, tl = [], []
        for i, (_, _, rate, _, r) in enumerate(rs):
            c = COLORS[i % len(COLORS)]
            ser.append(("server %d/s" % rate, c, 0, curve(r["rtt_ns"])))
            ser.append(("echo %d/s" % rate, c, 1, curve(r["echo_open_loop_rtt_ns"])))
            t = r.get("timeline_100ms", [])
            tl.append(("mean %d/s" % rate, c, 0, [(k / 10, v[1]) for k, v in enumerate(t) if v[0]]))
            tl.append(("max %d/s" % rate, c, 1, [(k / 10, v[2]) for k, v in enumerate(t) if v[0]]))
        svg(os.path.join(out, "curve-%s-%s.svg" % (name, dur)),
            "Round trip to Accepted vs TCP echo (open loop), %s, durability %s" % (name, dur), ser, True,
            "percentile", "latency", PT)
        secs = max((len(r.get("timeline_100ms", [])) for *_, r in rs), default=0) / 10
        svg(os.path.join(out, "time-%s-%s.svg" % (name, dur)),
            "Round trip over the run (per 100 ms of due times), %s, durability %s" % (name, dur), tl, False,
            "seconds into the run", "latency", [(s, "%d s" % s) for s in range(0, int(secs) + 1, max(1, int(secs) // 10))])
