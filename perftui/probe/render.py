"""The probe's results as text: one run's table, and a sweep's latency-vs-throughput table."""

from __future__ import annotations

from collections.abc import Sequence

from perftui.core.slo import format_seconds
from perftui.probe.stats import LABELS
from perftui.probe.summary import Summary
from perftui.probe.sweep import Knee


def _ci(value: float, lo: float, hi: float) -> str:
    return f"{format_seconds(value)} ({format_seconds(lo)}–{format_seconds(hi)})"


def _rate(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def summary_lines(s: Summary, target: str) -> list[str]:
    out = [f"perftui probe {target} — {s.load}"]
    offered = f" of {_rate(s.offered_rps)} offered" if s.offered_rps is not None else ""
    if s.scheduled_rps is not None and s.offered_rps and abs(s.scheduled_rps / s.offered_rps - 1) > 0.05:
        offered += f" (this run's Poisson draw: {_rate(s.scheduled_rps)})"
    out.append(
        f"  {s.duration_s:.1f} s measured; sent {s.sent:,}, completed {s.completed:,}, ok {s.succeeded:,}; "
        f"achieved {_rate(s.achieved_rps)} req/s{offered}"
        + (f"; warm-up excluded {s.warmup_excluded:,}" if s.warmup_excluded else "")
    )
    if s.stopped:
        out.append(f"  stopped early ({s.stopped}); {s.cancelled} request(s) in flight were not counted")
    if s.tokens_per_s is not None:
        out.append(f"  tokens: {s.tokens:,} out ({s.tokens_source or 'none'}), {_rate(s.tokens_per_s)} tok/s")
    if s.budgets:
        budgets = "; ".join(b.describe() for b in s.budgets)
        out.append(f"  goodput: {_rate(s.goodput_rps or 0.0)} req/s ({s.good:,} good) within {budgets}")
    if s.metrics:
        header = ["metric", *(LABELS[p] + " (95% CI)" for p in ("p50", "p95", "p99", "p999")), "mean", "max"]
        rows = [header]
        for name, d in s.metrics.items():
            cells = [name]
            for p in d.pcts:
                cells.append(_ci(p.value, p.lo, p.hi) + ("" if p.enough else " *"))
            cells += [format_seconds(d.mean), format_seconds(d.max)]
            rows.append(cells)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        out.append("")
        out.extend(
            "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows
        )
        if any(not p.enough for d in s.metrics.values() for p in d.pcts):
            out.append("  * too few samples for this percentile: read it as a rough figure")
    if s.errors:
        parts = [
            f"{kind} ×{n}" + (f" ({s.error_examples[kind]})" if s.error_examples.get(kind) else "")
            for kind, n in s.errors.items()
        ]
        out.append("  errors: " + "; ".join(parts))
    else:
        out.append("  errors: none")
    out.append(
        f"  client: P99 {format_seconds(max(s.lateness_p99_s, 0.0))} behind schedule, "
        f"max {format_seconds(max(s.lateness_max_s, 0.0))}"
    )
    out.extend(f"  warning: {w}" for w in s.warnings if "too few" not in w and "samples" not in w)
    return out


def sweep_lines(steps: Sequence[Summary], knee: Knee) -> list[str]:
    metric = "ttft" if steps and steps[0].streaming else "latency"
    rows = [["load", "achieved req/s", f"P50 {metric}", f"P99 {metric}", "errors", "goodput", ""]]
    for i, s in enumerate(steps):
        d = s.metrics.get(metric)
        rows.append(
            [
                s.load,
                _rate(s.achieved_rps),
                format_seconds(d.pct("p50").value) if d else "-",
                format_seconds(d.pct("p99").value) if d else "-",
                f"{sum(s.errors.values()):,}",
                _rate(s.goodput_rps) if s.goodput_rps is not None else "-",
                "◀ knee" if knee.index == i else "",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["latency vs throughput:"]
    out.extend("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows)
    out.append(f"  knee: {knee.describe(steps)}")
    return out
