"""One self-contained HTML file: inline CSS, inline SVG charts, no script, nothing from the network."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from perftui.core.units import Unit, format_value
from perftui.report.efficiency_text import TABLE_HEADER, summary_lines, table_rows
from perftui.report.model import STAT_NAMES, Chart, Report, Table, TimelineRow
from perftui.report.text import at, offset, pct, stat_header, time_range_lines

SVG_W, SVG_H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 180, 70, 10, 24, 22

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;
color:#1d2330;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #d6d9e0;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f1f3f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:600}.muted{color:#667}code{background:#f1f3f7;padding:0 .25em}
svg{background:#fbfcfe;border:1px solid #d6d9e0;margin:.3em 0 1em}
svg .line{fill:none;stroke:#2a62c9;stroke-width:1.5}svg .axis{stroke:#99a;stroke-width:1}
svg text{font:11px sans-serif;fill:#445}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 99) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(c)}</td>' if i >= numeric_from else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def svg_chart(chart: Chart, *, zoom: bool = False) -> str:
    """A hand-written polyline with a y axis at 0..max and time ticks at both ends.

    A metric with a natural maximum (100 % for percentages) is drawn on its whole 0..max axis, so
    3 % never looks like a full chart; `zoom` scales the axis to the data instead."""
    xs, ys = chart.offsets, chart.values
    unit = Unit(chart.unit) if chart.unit in {u.value for u in Unit} else Unit.COUNT
    y_max = max([*ys, 0.0]) if ys else 1.0
    if chart.natural_max is not None and not zoom:
        y_max = max(y_max, chart.natural_max)
    y_max = y_max or 1.0
    x0, x1 = (xs[0], xs[-1]) if xs else (0.0, 1.0)
    span = (x1 - x0) or 1.0
    w, h = SVG_W - PAD_L - PAD_R, SVG_H - PAD_T - PAD_B

    def px(x: float) -> float:
        return PAD_L + (x - x0) / span * w

    def py(y: float) -> float:
        return PAD_T + h - (y / y_max) * h

    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<svg width="{SVG_W}" height="{SVG_H}" '
        f'viewBox="0 0 {SVG_W} {SVG_H}" role="img" aria-label="{escape(chart.key)}">',
        f'<text x="{PAD_L}" y="15">{escape(chart.title)}</text>',
        f'<line class="axis" x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{PAD_T + h}"/>',
        f'<line class="axis" x1="{PAD_L}" y1="{PAD_T + h}" x2="{PAD_L + w}" y2="{PAD_T + h}"/>',
        f'<text x="{PAD_L - 6}" y="{PAD_T + 4}" text-anchor="end">{escape(format_value(y_max, unit))}</text>',
        f'<text x="{PAD_L - 6}" y="{PAD_T + h}" text-anchor="end">{escape(format_value(0.0, unit))}</text>',
        f'<text x="{PAD_L}" y="{SVG_H - 6}">{escape(offset(x0))}</text>',
        f'<text x="{PAD_L + w}" y="{SVG_H - 6}" text-anchor="end">{escape(offset(x1))}</text>',
    ]
    if points:
        parts.append(f'<polyline class="line" points="{points}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _timeline(title: str, rows: Sequence[TimelineRow]) -> str:
    if not rows:
        return f"<h3>{escape(title)}</h3><p class='muted'>No verdict changes in this window.</p>"
    body = [(at(r.ts, r.offset), r.verdict, r.confidence, r.finding, "; ".join(r.evidence)) for r in rows]
    head = ("at (UTC)", "verdict", "confidence", "finding", "evidence")
    return f"<h3>{escape(title)}</h3>" + _table(head, body)


def _detail(t: Table) -> str:
    return f"<h3>{escape(t.title)}</h3>" + _table(t.columns, t.rows)


def render_html(report: Report) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
    ]
    if report.source_file:
        out.append(f"<p class='muted'>Recording: <code>{escape(report.source_file)}</code></p>")
    out.append("<h2>System</h2>" + _table(("", ""), report.system))
    out.append("<h2>Time range</h2><ul>" + "".join(f"<li>{escape(x)}</li>" for x in time_range_lines(report)))
    out.append("</ul>")

    d = report.diagnosis
    out.append("<h2>Diagnosis</h2>")
    if d.dominant:
        out.append(
            f"<p>Dominant verdict: <span class='verdict'>{escape(d.dominant)}</span> "
            f"({pct(d.shares[d.dominant])} of the window). Share of time: "
            + escape(", ".join(f"{v} {pct(s)}" for v, s in d.shares.items()))
            + "</p>"
        )
    if d.also_shares:
        also = ", ".join(f"{v} {pct(s)}" for v, s in d.also_shares.items())
        out.append(f"<p>Co-bottleneck beside the verdict shown: {escape(also)} of the window</p>")
    if d.note:
        out.append(f"<p class='muted'>{escape(d.note)}</p>")
    if d.recomputed is not None:
        every = f", the engine run every {d.step_s:g} s" if d.step_s else ""
        out.append(_timeline(f"Timeline (recomputed from the recorded data{every})", d.recomputed))
    out.append(_timeline("Timeline (as recorded)", d.recorded))
    if d.advice:
        out.append("<h3>What to do</h3>")
        for a in d.advice:
            items = [f"<li>{escape(s)}</li>" for s in a.suggestions]
            if a.next_step:
                items.append(f"<li>Next profiling step: <code>{escape(a.next_step)}</code></li>")
            who = f"<p>Culprits: {escape(a.culprits)}</p>" if a.culprits else ""
            out.append(
                f"<p><span class='verdict'>{escape(a.verdict)}</span> — {escape(a.title)}</p>"
                f"{who}<ul>{''.join(items)}</ul>"
            )

    if report.efficiency is not None:
        out.append("<h2>Efficiency</h2>")
        if report.efficiency.gpus:
            out.append(_table(TABLE_HEADER, table_rows(report.efficiency), numeric_from=2))
        eff_items = "".join(f"<li>{escape(x)}</li>" for x in summary_lines(report.efficiency))
        out.append(f"<ul>{eff_items}</ul>")

    if report.charts:
        out.append("<h2>Charts</h2>")
        out.extend(svg_chart(c) for c in report.charts)

    out.append("<h2>Statistics by source</h2>")
    for sec in report.sources:
        out.append(f"<h3>{escape(sec.source)}</h3>")
        if sec.available is False:
            out.append(f"<p class='muted'>Unavailable: {escape(sec.reason or 'no reason given')}</p>")
        if sec.rows:
            body = [(r.key, r.label, str(r.count), *(r.shown[s] for s in STAT_NAMES)) for r in sec.rows]
            out.append(_table(("metric", "what", "n", *stat_header()), body, numeric_from=2))
        elif sec.available is not False:
            out.append("<p class='muted'>No samples in this window.</p>")

    if report.serving:
        out.append("<h2>Serving</h2>")
        out.extend(_detail(t) for t in report.serving)
    if report.probe:
        out.append("<h2>Probe (client-side latency, from each request's scheduled send)</h2>")
        out.extend(_detail(t) for t in report.probe)
    if report.processes:
        out.append("<h2>Top processes</h2>")
        out.extend(_detail(t) for t in report.processes)
    if report.stacks or report.category_shares:
        out.append("<h2>Stacks</h2>")
        if report.category_shares:
            body = [(c.replace("_", " "), f"{s:.1f} %") for c, s in report.category_shares]
            out.append(
                "<h3>Category shares (mean over the window)</h3>" + _table(("category", "share"), body, 1)
            )
        out.extend(_detail(t) for t in report.stacks)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
