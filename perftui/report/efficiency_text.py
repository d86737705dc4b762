"""The efficiency section as text: one table and a list of lines, shared by Markdown and HTML."""

from __future__ import annotations

from perftui.core.cost import format_money
from perftui.core.units import Unit, format_count, format_value
from perftui.efficiency.summary import EfficiencySection

TABLE_HEADER = ("GPU", "model", "TFLOP/s mean", "P50", "P95", "FLOPS util mean", "P95", "SM clock", "energy")


def _tf(stats: dict[str, float] | None, stat: str) -> str:
    return format_value(stats[stat], Unit.TFLOPS) if stats else "—"


def _pct(stats: dict[str, float] | None, stat: str) -> str:
    return format_value(stats[stat], Unit.PERCENT) if stats else "—"


def energy_text(joules: float | None) -> str:
    if joules is None:
        return "—"
    if joules >= 3.6e6:
        return f"{joules / 3.6e6:.2f} kWh"
    return f"{format_count(joules)} J"


def table_rows(sec: EfficiencySection) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for g in sec.gpus:
        model = g.model or "—"
        if g.reason:
            model = f"{model}: no figure, {g.reason}" if g.model else f"no figure: {g.reason}"
        clock = format_value(g.mean_sm_clock_mhz, Unit.MHZ)
        energy = energy_text(g.energy_j) + (f" ({g.energy_from})" if g.energy_from else "")
        rows.append(
            (
                str(g.index),
                model,
                _tf(g.tflops, "mean"),
                _tf(g.tflops, "p50"),
                _tf(g.tflops, "p95"),
                _pct(g.flops_util_pct, "mean"),
                _pct(g.flops_util_pct, "p95"),
                clock,
                energy,
            )
        )
    return rows


def summary_lines(sec: EfficiencySection) -> list[str]:
    out: list[str] = []
    if sec.total_tflops is not None:
        util = format_value(sec.flops_util_pct, Unit.PERCENT)
        out.append(
            f"Achieved: {format_value(sec.total_tflops, Unit.TFLOPS)} over all GPUs (estimate), "
            f"FLOPS utilization {util} of the dense BF16 datasheet peak"
        )
    if sec.model_params is not None:
        mode = "training, 6·N" if sec.mfu_mode == "train" else "inference, 2·N"
        mfu = format_value(sec.mfu_pct, Unit.PERCENT)
        gap = ""
        if sec.mfu_pct is not None and sec.flops_util_pct is not None:
            gap = (
                f"; FLOPS utilization {format_value(sec.flops_util_pct, Unit.PERCENT)} (the gap is overhead)"
            )
        out.append(f"MFU: {mfu} ({sec.model_params:.3g} parameters, {mode} FLOPs per token){gap}")
    if sec.energy_j is not None:
        out.append(f"Energy over the window: {energy_text(sec.energy_j)} (all GPUs)")
    if sec.tokens_per_s is not None:
        out.append(f"Tokens/s: {format_count(sec.tokens_per_s)} (from {', '.join(sec.tokens_keys)})")
    if sec.tokens_per_joule is not None:
        out.append(
            f"Tokens per joule: {sec.tokens_per_joule:.3g} ({1 / sec.tokens_per_joule:.3g} J per token)"
        )
    if sec.requests_per_s is not None:
        out.append(f"Requests/s: {format_count(sec.requests_per_s)} (from {', '.join(sec.requests_keys)})")
    if sec.requests_per_joule is not None:
        out.append(f"Requests per joule: {sec.requests_per_joule:.3g}")
    for label, value in (
        ("Cost per 1K tokens", sec.cost_per_1k_tokens),
        ("Cost per request", sec.cost_per_request),
        ("GPU cost of the window", sec.run_cost),
    ):
        if value is not None:
            out.append(f"{label}: {format_money(value, sec.currency)}")
    return out + [f"Note: {n}" for n in sec.notes]
