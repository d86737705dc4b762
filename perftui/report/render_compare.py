"""Markdown and JSON renderings of a comparison (and, with --model-params, both runs' MFU)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from perftui.core.units import Unit, format_count, format_value
from perftui.efficiency.summary import EfficiencySection
from perftui.report.compare import Comparison, MetricDelta, Side
from perftui.report.render_json import _clean
from perftui.report.text import duration, iso, md, pct

COMPARE_FORMAT = "perftui-compare"
COMPARE_VERSION = 1


def _row(header: Sequence[str]) -> list[str]:
    return ["| " + " | ".join(md(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]


def verdict_text(side: Side) -> str:
    """ "io-bound — Disk I/O saturated (high confidence) · 78 % of the time" (plain text)."""
    if not side.dominant:
        return "—"
    text = side.dominant
    if side.title:
        text += f" — {side.title}"
    if side.confidence:
        text += f" ({side.confidence} confidence)"
    return f"{text} · {pct(side.shares.get(side.dominant, 0.0))} of the time"


def _verdict(side: Side) -> str:
    return md(verdict_text(side))


def weighting_notes(c: Comparison) -> list[str]:
    """One line per latency weighted by its operations."""
    return [
        f"{m.key}: statistics weighted by {m.weighted_by} (each sample counts by its operations; "
        "under 100 operations a run is not compared)"
        for m in c.key_metrics
        if m.weighted_by
    ]


def _delta_cells(m: MetricDelta) -> list[str]:
    s = m.shown
    return [
        md(m.key),
        s["base_p50"],
        s["new_p50"],
        s.get("delta_p50", "—"),
        s.get("delta_pct", "—"),
        s["base_mean"],
        s["new_mean"],
        s["base_p95"],
        s["new_p95"],
        f"**{m.result}**" if m.result in ("improved", "regressed") else md(m.result),
    ]


HEADER = (
    "metric",
    "base P50",
    "new P50",
    "Δ P50",
    "Δ %",
    "base mean",
    "new mean",
    "base P95",
    "new P95",
    "result",
)


Efficiency = tuple[EfficiencySection, EfficiencySection]  # BASE's and NEW's, over each whole run


def _delta(base: float | None, new: float | None) -> str:
    if base is None or new is None or base == 0:
        return "—"
    return f"{100 * (new - base) / base:+.1f} %"


def efficiency_rows(eff: Efficiency) -> list[tuple[str, str, str, str]]:
    """(figure, base, new, Δ %): MFU next to FLOPS utilization (their gap is the overhead)."""
    b, n = eff
    figures: tuple[tuple[str, float | None, float | None, str], ...] = (
        ("MFU", b.mfu_pct, n.mfu_pct, "pct"),
        ("FLOPS utilization", b.flops_util_pct, n.flops_util_pct, "pct"),
        ("achieved TFLOP/s (all GPUs, estimate)", b.total_tflops, n.total_tflops, "tflops"),
        ("tokens/s", b.tokens_per_s, n.tokens_per_s, "count"),
    )
    rows = []
    for label, bv, nv, kind in figures:
        if kind == "count":
            shown = ["—" if v is None else format_count(v) for v in (bv, nv)]
        else:
            shown = [format_value(v, Unit.PERCENT if kind == "pct" else Unit.TFLOPS) for v in (bv, nv)]
        rows.append((label, shown[0], shown[1], _delta(bv, nv)))
    return rows


def efficiency_notes(eff: Efficiency) -> list[str]:
    """What MFU counts, then why a figure is missing (a note both runs share is said once)."""
    b, n = eff
    per_token = "6·N per token (training)" if b.mfu_mode == "train" else "2·N per token (inference)"
    out = [
        f"MFU = tokens/s × {per_token}, N = {b.model_params or 0:.3g} parameters, ÷ the run's GPUs' dense "
        "BF16 peak; FLOPS utilization counts all the work the GPUs did (the gap is overhead)"
    ]
    for note in b.notes:
        out.append(note if note in n.notes else f"base: {note}")
    out += [f"new: {note}" for note in n.notes if note not in b.notes]
    return out


def efficiency_json(eff: Efficiency) -> dict[str, object]:
    def side(s: EfficiencySection) -> dict[str, object]:
        return {
            "mfu_pct": s.mfu_pct,
            "flops_util_pct": s.flops_util_pct,
            "total_tflops": s.total_tflops,
            "tokens_per_s": s.tokens_per_s,
            "tokens_keys": list(s.tokens_keys),
            "gpus": len(s.gpus),
            "notes": list(s.notes),
        }

    return {
        "model_params": eff[0].model_params,
        "mfu_mode": eff[0].mfu_mode,
        "base": side(eff[0]),
        "new": side(eff[1]),
    }


def _efficiency_markdown(eff: Efficiency) -> list[str]:
    lines = ["## Efficiency", "", *_row(("", "base", "new", "Δ %"))]
    lines += ["| " + " | ".join(md(x) for x in r) + " |" for r in efficiency_rows(eff)]
    return [*lines, "", *(f"- {md(n)}" for n in efficiency_notes(eff)), ""]


def render_compare_markdown(c: Comparison, eff: Efficiency | None = None) -> str:
    lines = [f"# perftui compare — {md(Path(c.base.file).name)} → {md(Path(c.new.file).name)}", ""]
    counts = c.counts()
    if c.key_metrics:
        parts = [f"{counts[k]} {k}" for k in ("improved", "regressed", "unchanged") if counts.get(k)]
        parts += [f"{v} {k}" for k, v in counts.items() if k not in ("improved", "regressed", "unchanged")]
        lines += ["Key metrics: " + ", ".join(parts) + ".", ""]
    lines += ["## Runs", "", *_row(("", "base", "new"))]
    lines += [
        f"| file | {md(Path(c.base.file).name)} | {md(Path(c.new.file).name)} |",
        f"| start | {iso(c.base.start)} | {iso(c.new.start)} |",
        f"| duration | {duration(c.base.end - c.base.start)} | {duration(c.new.end - c.new.start)} |",
        f"| samples | {c.base.samples:,} | {c.new.samples:,} |",
        f"| verdict | {_verdict(c.base)} | {_verdict(c.new)} |",
        "",
    ]
    verdicts = sorted(set(c.base.shares) | set(c.new.shares))
    if verdicts:
        lines += ["### Share of time per verdict", "", *_row(("verdict", "base", "new"))]
        lines += [
            f"| {md(v)} | {pct(c.base.shares.get(v, 0.0))} | {pct(c.new.shares.get(v, 0.0))} |"
            for v in verdicts
        ]
        lines += [""]
    if eff is not None:
        lines += _efficiency_markdown(eff)
    lines += ["## Key metrics", "", f"Noise rule: {c.noise_rule}", ""]
    lines += [f"- {md(note)}" for note in weighting_notes(c)]
    lines += [""] if weighting_notes(c) else []
    if c.key_metrics:
        lines += _row((*HEADER[:-1], "better", "result"))
        for m in c.key_metrics:
            cells = _delta_cells(m)
            lines.append("| " + " | ".join([*cells[:-1], md(m.better or ""), cells[-1]]) + " |")
        lines += [""]
    else:
        lines += ["Neither run holds a key metric.", ""]
    lines += ["## All metrics", ""]
    by_source: dict[str, list[MetricDelta]] = {}
    for m in c.metrics:
        by_source.setdefault(m.source, []).append(m)
    for source, rows in by_source.items():
        lines += [f"### {md(source)}", "", *_row(HEADER)]
        lines += ["| " + " | ".join(_delta_cells(m)) + " |" for m in rows]
        lines += [""]
    return "\n".join(lines).rstrip() + "\n"


def render_compare_json(c: Comparison, eff: Efficiency | None = None) -> str:
    data = {"format": COMPARE_FORMAT, "version": COMPARE_VERSION, **_clean(c.as_dict())}
    if eff is not None:
        data["efficiency"] = _clean(efficiency_json(eff))
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
