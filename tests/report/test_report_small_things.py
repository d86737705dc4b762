"""Report tables and charts a reader can take in: stack tables in words, %-charts on a 0–100 axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from perftui.report.build import build_report
from perftui.report.model import Chart
from perftui.report.render_html import svg_chart
from perftui.report.render_md import render_markdown
from perftui.store.reader import DetailSnapshot, Recording

T0 = 1_700_000_000.0


def _rec() -> Recording:
    ts = T0 + np.arange(30, dtype=float)
    threads = [
        {"pid": 41, "tid": 41, "name": "MainThread", "samples": 20.0, "active": True, "owns_gil": False,
         "active_pct": 95.0, "gil_pct": 10.0, "category": "compute", "leaf": "step (train.py:12)"},
    ]  # fmt: skip
    return Recording(
        path=Path("/nowhere/stacks.sqlite"),
        meta={"interval_s": 1.0, "host": "box"},
        units={},
        series={"cpu.util": (ts, np.full(30, 50.0))},
        details=[DetailSnapshot(T0 + 10, "stack.threads", threads)],
    )


def test_stack_tables_have_no_raw_field_names_or_booleans() -> None:
    report = build_report(_rec())
    table = next(t for t in report.stacks if t.name == "stack.threads")
    assert "active_pct" not in table.columns and "owns_gil" not in table.columns
    assert {"running %", "holds the GIL", "running now"} <= set(table.columns)
    cells = [c for row in table.rows for c in row]
    assert "True" not in cells and "False" not in cells and "yes" in cells and "no" in cells
    text = render_markdown(report)
    assert "active_pct" not in text and "| True |" not in text


def _chart(values: tuple[float, ...]) -> Chart:
    return Chart("cpu.util", "CPU util", "%", 100.0, tuple(float(i) for i in range(len(values))), values, "")


def test_percent_charts_use_the_0_to_100_axis_unless_zoomed() -> None:
    low = svg_chart(_chart((3.0, 4.0, 5.0)))
    assert ">100 %<" in low and ">5.0 %<" not in low
    zoomed = svg_chart(_chart((3.0, 4.0, 5.0)), zoom=True)
    assert ">100 %<" not in zoomed
