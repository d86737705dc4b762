"""The probe's final results in a report: from the recording's `probe` metadata (written by
`perftui probe --record`), one table of percentiles with 95 % intervals per step, and a table of
the steps (load, throughput, goodput, errors) that marks a sweep's knee. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftui.core.slo import format_seconds
from perftui.report.model import Table

PCTS = (("p50", "P50"), ("p95", "P95"), ("p99", "P99"), ("p999", "P99.9"))


def _pct(cell: Any) -> str:
    if not isinstance(cell, Mapping) or not isinstance(cell.get("value"), (int, float)):
        return "—"
    lo, hi = format_seconds(cell["ci_low"]), format_seconds(cell["ci_high"])
    text = f"{format_seconds(cell['value'])} ({lo}–{hi})"
    return text if cell.get("enough_samples", True) else text + " *"


def _num(value: Any, fmt: str = "{:,.1f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "—"


def probe_tables(meta: Mapping[str, Any]) -> tuple[Table, ...]:
    probe = meta.get("probe")
    if not isinstance(probe, Mapping) or not isinstance(probe.get("steps"), list):
        return ()
    steps = [s for s in probe["steps"] if isinstance(s, Mapping)]
    knee = probe.get("knee") if isinstance(probe.get("knee"), Mapping) else None
    target = str(probe.get("target", ""))
    rows = []
    for i, s in enumerate(steps):
        errors = s["errors"] if isinstance(s.get("errors"), Mapping) else {}
        rows.append(
            (
                str(s.get("load", "")) + (" ◀ knee" if knee and knee.get("index") == i else ""),
                _num(s.get("achieved_rps")),
                _num(s.get("goodput_rps")),
                _num(s.get("tokens_per_s")),
                ", ".join(f"{k} ×{v}" for k, v in errors.items()) or "none",
                "interrupted" if s.get("stopped") else "",
            )
        )
    cols = ("load", "achieved req/s", "goodput req/s", "tokens/s", "errors", "")
    out = [Table("probe.steps", f"probe {target} ({probe.get('mode', '')})", None, cols, tuple(rows))]
    for s in steps:
        metrics = s["metrics"] if isinstance(s.get("metrics"), Mapping) else {}
        body = tuple(
            (
                name,
                str(m.get("count", "")),
                *(_pct(m.get(p)) for p, _ in PCTS),
                format_seconds(float(m["max"])),
            )
            for name, m in metrics.items()
            if isinstance(m, Mapping) and isinstance(m.get("max"), (int, float))
        )
        if body:
            columns = ("metric", "n", *(f"{label} (95% CI)" for _, label in PCTS), "max")
            out.append(Table("probe.percentiles", f"percentiles at {s.get('load', '')}", None, columns, body))
    return tuple(out)
