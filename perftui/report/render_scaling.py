"""Markdown and JSON renderings of a scaling table (`perftui scaling`)."""

from __future__ import annotations

import json
from dataclasses import asdict

from perftui.core.units import format_count
from perftui.efficiency.scaling import ScalingTable
from perftui.report.render_json import _clean

SCALING_FORMAT = "perftui-scaling"
SCALING_VERSION = 1
HEADER = (
    "recording",
    "GPUs",
    "throughput",
    "per GPU",
    "speed-up",
    "scaling efficiency",
    "collectives",
    "NVLink busy",
    "GPU idle",
)
MFU_HEADER = ("FLOPS util", "MFU")  # with --model-params


def _num(value: float | None) -> str:
    return "—" if value is None else format_count(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _missing_notes(table: ScalingTable) -> list[str]:
    rows = [r.run for r in table.rows]
    notes = []
    if any(r.collective_pct is None for r in rows):
        notes.append("collectives: no stack samples (record with --pid to sample the job's Python stacks)")
    if any(r.nvlink_busy_pct is None for r in rows):
        notes.append("NVLink busy: no NVLink counters recorded (no NVLink, or the driver gives none)")
    if any(r.gpu_idle_pct is None for r in rows):
        notes.append("GPU idle: no GPU activity recorded")
    if any(r.throughput is None for r in rows):
        notes.extend(f"{r.label}: {r.throughput_from}" for r in rows if r.throughput is None)
    if table.model_params is not None:
        per_token = "6·N per token (training)" if table.mfu_mode == "train" else "2·N per token (inference)"
        notes.append(
            f"MFU = tokens/s × {per_token}, N = {table.model_params:.3g} parameters, ÷ the run's GPUs' "
            "dense BF16 peak; FLOPS utilization counts all the work the GPUs did (the gap is overhead)"
        )
        notes.extend(f"{r.label}: no MFU: {r.mfu_note}" for r in rows if r.mfu_pct is None and r.mfu_note)
    return notes


def render_scaling_markdown(table: ScalingTable) -> str:
    direction = "lower is better" if table.lower_is_better else "higher is better"
    lines = [
        f"# perftui scaling — {table.mode} scaling",
        "",
        f"Throughput: {table.metric} ({direction}); efficiency against the run with the fewest GPUs.",
        "",
    ]
    lines += [f"> **Warning:** {w}" for w in table.warnings]
    if table.warnings:
        lines.append("")
    mfu = table.model_params is not None
    header = (*HEADER, *MFU_HEADER) if mfu else HEADER
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in table.rows:
        r = row.run
        cells = (
            r.label.replace("|", "\\|"),
            str(r.gpus),
            _num(r.throughput),
            _num(row.per_gpu),
            "—" if row.speedup is None else f"{row.speedup:.2f}×",
            _pct(row.efficiency_pct),
            _pct(r.collective_pct),
            _pct(r.nvlink_busy_pct),
            _pct(r.gpu_idle_pct),
            *((_pct(r.flops_util_pct), _pct(r.mfu_pct)) if mfu else ()),
        )
        lines.append("| " + " | ".join(cells) + " |")
    notes = _missing_notes(table)
    if notes:
        lines += ["", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def render_scaling_json(table: ScalingTable) -> str:
    data = {"format": SCALING_FORMAT, "version": SCALING_VERSION, **_clean(asdict(table))}
    data["notes"] = _missing_notes(table)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
