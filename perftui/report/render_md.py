"""Markdown rendering of a report: readable in a ticket, charts as plotext text."""

from __future__ import annotations

from collections.abc import Sequence

from perftui.core.sanitize import clean
from perftui.report.efficiency_text import TABLE_HEADER, summary_lines, table_rows
from perftui.report.model import STAT_NAMES, Chart, Report, Table, TimelineRow
from perftui.report.text import at, code, fence, md, pct, stat_header, time_range_lines

CHART_WIDTH = 78
CHART_HEIGHT = 12


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return out


def text_chart(chart: Chart, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> str:
    """A plotext line chart as plain text (no colour codes)."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("clear")
    fig.title(clean(f"{chart.key} ({chart.unit or 'count'}), max {chart.shown_max}"))
    xs = list(chart.offsets) or [0.0]
    ys = list(chart.values) or [0.0]
    sig = fig.signal(xs, ys)
    sig.lines()
    fig.draw(sig)
    top = max(ys)
    if chart.natural_max is not None and top > 0.5 * chart.natural_max:
        top = max(top, chart.natural_max)
    fig.ruler("y").lim(0.0, top if top > 0 else 1.0)
    fig.label("seconds from the window start", "x")
    text: str = fig.build().string(colorless=True)
    fig.clear()
    return "\n".join(line.rstrip() for line in text.splitlines())


def _timeline(title: str, rows: Sequence[TimelineRow]) -> list[str]:
    out = [f"### {title}", ""]
    if not rows:
        return [*out, "No verdict changes in this window.", ""]
    body = [(at(r.ts, r.offset), r.verdict, r.confidence, r.finding, "; ".join(r.evidence)) for r in rows]
    return [*out, *_table(("at (UTC)", "verdict", "confidence", "finding", "evidence"), body), ""]


def _every(step: float | None) -> str:
    return f", the engine run every {step:g} s" if step else ""


def _detail_table(t: Table) -> list[str]:
    return [f"### {md(t.title)}", "", *_table(t.columns, t.rows), ""]


def render_markdown(report: Report, charts: bool = True) -> str:
    lines = [f"# {md(report.title)}", ""]
    if report.source_file:
        lines += [f"Recording: {code(report.source_file)}", ""]
    lines += ["## System", "", *_table(("", ""), report.system), ""]
    lines += ["## Time range", "", *[f"- {line}" for line in time_range_lines(report)], ""]

    d = report.diagnosis
    lines += ["## Diagnosis", ""]
    if d.dominant:
        lines += [f"Dominant verdict: **{md(d.dominant)}** ({pct(d.shares[d.dominant])} of the window)", ""]
        lines += ["Share of time: " + ", ".join(f"{md(v)} {pct(s)}" for v, s in d.shares.items()), ""]
    if d.also_shares:
        also = ", ".join(f"{md(v)} {pct(s)}" for v, s in d.also_shares.items())
        lines += [f"Co-bottleneck beside the verdict shown: {also} of the window", ""]
    if d.note:
        lines += [f"_{md(d.note)}_", ""]
    if d.recomputed is not None:
        lines += _timeline(f"Timeline (recomputed from the recorded data{_every(d.step_s)})", d.recomputed)
    lines += _timeline("Timeline (as recorded)", d.recorded)
    if d.advice:
        lines += ["### What to do", ""]
        for a in d.advice:
            lines += [f"**{md(a.verdict)}** — {md(a.title)}", ""]
            if a.culprits:
                lines += [f"Culprits: {md(a.culprits)}", ""]
            lines += [f"- {md(s)}" for s in a.suggestions]
            if a.next_step:
                lines += [f"- Next profiling step: {code(a.next_step)}"]
            lines += [""]

    if report.efficiency is not None:
        lines += ["## Efficiency", ""]
        if report.efficiency.gpus:
            lines += [*_table(TABLE_HEADER, table_rows(report.efficiency)), ""]
        lines += [*(f"- {line}" for line in summary_lines(report.efficiency)), ""]

    if charts and report.charts:
        lines += ["## Charts", ""]
        for c in report.charts:
            chart = text_chart(c)
            lines += [fence(chart) + "text", chart, fence(chart), ""]

    lines += ["## Statistics by source", ""]
    for sec in report.sources:
        lines += [f"### {md(sec.source)}", ""]
        if sec.available is False:
            lines += [f"Unavailable: {md(sec.reason or 'no reason given')}", ""]
        if not sec.rows:
            if sec.available is not False:
                lines += ["No samples in this window.", ""]
            continue
        body = [(r.key, r.label, str(r.count), *(r.shown[s] for s in STAT_NAMES)) for r in sec.rows]
        lines += [*_table(("metric", "what", "n", *stat_header()), body), ""]

    if report.serving:
        lines += ["## Serving", ""]
        for t in report.serving:
            lines += _detail_table(t)
    if report.probe:
        lines += ["## Probe (client-side latency, from each request's scheduled send)", ""]
        for t in report.probe:
            lines += _detail_table(t)
    if report.processes:
        lines += ["## Top processes", ""]
        for t in report.processes:
            lines += _detail_table(t)
    if report.stacks or report.category_shares:
        lines += ["## Stacks", ""]
        if report.category_shares:
            body = [(cat.replace("_", " "), f"{share:.1f} %") for cat, share in report.category_shares]
            lines += [
                "### Category shares (mean over the window)",
                "",
                *_table(("category", "share"), body),
                "",
            ]
        for t in report.stacks:
            lines += _detail_table(t)
    return "\n".join(lines).rstrip() + "\n"
