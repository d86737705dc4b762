"""`perftui compare --format html`: the Markdown comparison's sections as one self-contained HTML file
(the report's inline CSS; no script, nothing from the network)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from perftui.core.sanitize import clean
from perftui.report.compare import Comparison, MetricDelta
from perftui.report.render_compare import (
    HEADER,
    Efficiency,
    efficiency_notes,
    efficiency_rows,
    verdict_text,
    weighting_notes,
)
from perftui.report.render_html import CSS
from perftui.report.text import duration, iso, pct

EXTRA_CSS = ".improved{color:#17803d;font-weight:600}.regressed{color:#b3261e;font-weight:600}"


def _t(text: object) -> str:
    return escape(clean(str(text), 1000))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: range = range(0)) -> str:
    """Cells are HTML already (escaped by the caller); columns in `numeric` align right."""
    head = "".join(f"<th>{_t(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _result(m: MetricDelta) -> str:
    css = m.result if m.result in ("improved", "regressed") else "muted"
    return f"<span class='{css}'>{_t(m.result)}</span>"


def _cells(m: MetricDelta, better: bool = False) -> list[str]:
    s = m.shown
    cells = [
        _t(m.key),
        *(_t(x) for x in (s["base_p50"], s["new_p50"], s.get("delta_p50", "—"), s.get("delta_pct", "—"))),
        *(_t(x) for x in (s["base_mean"], s["new_mean"], s["base_p95"], s["new_p95"])),
    ]
    if better:
        cells.append(_t(m.better or ""))
    return [*cells, _result(m)]


def render_compare_html(c: Comparison, eff: Efficiency | None = None) -> str:
    base_name, new_name = Path(c.base.file).name, Path(c.new.file).name
    title = f"perftui compare — {base_name} → {new_name}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_t(title)}</title><style>{CSS}{EXTRA_CSS}</style></head><body>",
        f"<h1>{_t(title)}</h1>",
    ]
    counts = c.counts()
    if c.key_metrics:
        parts = [f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: kv[0] != "regressed")]
        out.append(f"<p>Key metrics: {_t(', '.join(parts))}.</p>")
    runs = [
        ("file", base_name, new_name),
        ("start", iso(c.base.start), iso(c.new.start)),
        ("duration", duration(c.base.end - c.base.start), duration(c.new.end - c.new.start)),
        ("samples", f"{c.base.samples:,}", f"{c.new.samples:,}"),
        ("verdict", verdict_text(c.base), verdict_text(c.new)),
    ]
    out.append("<h2>Runs</h2>" + _table(("", "base", "new"), [[_t(x) for x in r] for r in runs]))
    verdicts = sorted(set(c.base.shares) | set(c.new.shares))
    if verdicts:
        rows = [[_t(v), pct(c.base.shares.get(v, 0.0)), pct(c.new.shares.get(v, 0.0))] for v in verdicts]
        out.append(
            "<h3>Share of time per verdict</h3>" + _table(("verdict", "base", "new"), rows, range(1, 3))
        )
    if eff is not None:
        rows = [[_t(x) for x in r] for r in efficiency_rows(eff)]
        out.append("<h2>Efficiency</h2>" + _table(("", "base", "new", "Δ %"), rows, range(1, 4)))
        out.append("<ul>" + "".join(f"<li>{_t(n)}</li>" for n in efficiency_notes(eff)) + "</ul>")
    out.append(f"<h2>Key metrics</h2><p class='muted'>Noise rule: {_t(c.noise_rule)}</p>")
    notes = weighting_notes(c)
    if notes:
        out.append("<ul>" + "".join(f"<li>{_t(n)}</li>" for n in notes) + "</ul>")
    if c.key_metrics:
        header = (*HEADER[:-1], "better", "result")
        out.append(_table(header, [_cells(m, better=True) for m in c.key_metrics], range(1, 9)))
    else:
        out.append("<p class='muted'>Neither run holds a key metric.</p>")
    out.append("<h2>All metrics</h2>")
    by_source: dict[str, list[MetricDelta]] = {}
    for m in c.metrics:
        by_source.setdefault(m.source, []).append(m)
    for source, ms in by_source.items():
        out.append(f"<h3>{_t(source)}</h3>" + _table(HEADER, [_cells(m) for m in ms], range(1, 9)))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
