"""The efficiency section of a report: TFLOP/s per GPU, MFU, energy, tokens per joule, cost.

Pure: built from a window's series, the recording's metadata and details, and the user's options.
Every figure that cannot be computed is None with a note saying why, never a fake zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perftui.core.cost import GpuPrice, cost_per_1k_tokens, cost_per_request, per_joule_from_rates
from perftui.core.gpu_peaks import TENSOR_PRECISION
from perftui.efficiency.flops import FloatArray, GpuFlops, Series, all_gpu_flops
from perftui.efficiency.mfu import REQUEST_KEYS, TOKEN_KEYS, matching, mfu_pct


@dataclass(frozen=True)
class EfficiencyOptions:
    model_params: float | None = None
    mfu_mode: str = "infer"
    tokens_metric: str | None = None  # a recorded key the user names as tokens/s
    price: GpuPrice | None = None


@dataclass(frozen=True)
class GpuEfficiency:
    index: int
    name: str | None
    model: str | None  # row of the peak table
    reason: str | None  # why there is no TFLOP/s figure
    tflops: dict[str, float] | None  # mean, p50, p95
    flops_util_pct: dict[str, float] | None
    peak_bf16_tflops: float | None
    mean_sm_clock_mhz: float | None
    mean_power_w: float | None
    energy_j: float | None
    energy_from: str  # "energy counter", "power samples" or ""


@dataclass(frozen=True)
class EfficiencySection:
    precision: str
    duration_s: float
    gpus: tuple[GpuEfficiency, ...]
    total_tflops: float | None = None  # sum of the GPUs' mean TFLOP/s
    flops_util_pct: float | None = None  # total ÷ the sum of their dense BF16 peaks
    energy_j: float | None = None
    tokens_keys: tuple[str, ...] = ()
    tokens_per_s: float | None = None
    requests_keys: tuple[str, ...] = ()
    requests_per_s: float | None = None
    tokens_per_joule: float | None = None
    requests_per_joule: float | None = None
    model_params: float | None = None
    mfu_mode: str | None = None
    mfu_pct: float | None = None
    currency: str = "USD"
    cost_per_1k_tokens: float | None = None
    cost_per_request: float | None = None
    run_cost: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _stats(vals: FloatArray | None) -> dict[str, float] | None:
    if vals is None:
        return None
    v = vals[~np.isnan(vals)]
    if v.size == 0:
        return None
    p50, p95 = np.percentile(v, [50.0, 95.0])
    return {"mean": float(np.mean(v)), "p50": float(p50), "p95": float(p95)}


def _mean(series: Series, key: str) -> float | None:
    if key not in series:
        return None
    v = series[key][1]
    v = v[~np.isnan(v)]
    return float(np.mean(v)) if v.size else None


def _gpu(g: GpuFlops, series: Series, duration: float) -> GpuEfficiency:
    p = f"gpu.{g.index}."
    energy_w, power_w = _mean(series, p + "energy_avg_w"), _mean(series, p + "power_w")
    watts, source = (energy_w, "energy counter") if energy_w is not None else (power_w, "power samples")
    return GpuEfficiency(
        index=g.index,
        name=g.name,
        model=g.peak.model if g.peak else None,
        reason=g.reason,
        tflops=_stats(g.tflops),
        flops_util_pct=_stats(g.util_pct),
        peak_bf16_tflops=g.peak.bf16_tflops if g.peak else None,
        mean_sm_clock_mhz=_mean(series, p + "sm_clock_mhz"),
        mean_power_w=watts,
        energy_j=watts * duration if watts is not None and duration > 0 else None,
        energy_from=source if watts is not None else "",
    )


def _rate(series: Series, keys: list[str]) -> float | None:
    means = [m for k in keys if (m := _mean(series, k)) is not None]
    return sum(means) if means else None


def build_efficiency(
    series: Series,
    meta: Mapping[str, Any],
    details: Mapping[str, Any],
    duration_s: float,
    options: EfficiencyOptions | None = None,
) -> EfficiencySection:
    opts = options or EfficiencyOptions()
    gpus = tuple(_gpu(g, series, duration_s) for g in all_gpu_flops(series, meta, details))
    notes: list[str] = []
    with_fig = [g for g in gpus if g.tflops is not None and g.peak_bf16_tflops]
    total = sum(g.tflops["mean"] for g in with_fig if g.tflops) if with_fig else None
    peak_sum = sum(g.peak_bf16_tflops or 0.0 for g in gpus)
    known_peaks = all(g.peak_bf16_tflops for g in gpus) and bool(gpus)
    util = 100.0 * total / sum(g.peak_bf16_tflops or 0.0 for g in with_fig) if total is not None else None
    energies = [g.energy_j for g in gpus if g.energy_j is not None]
    energy = sum(energies) if energies else None
    watts = sum(g.mean_power_w for g in gpus if g.mean_power_w is not None) if energies else None

    if opts.tokens_metric:
        tkeys = [opts.tokens_metric] if opts.tokens_metric in series else []
        if not tkeys:
            notes.append(f"tokens metric {opts.tokens_metric!r} is not in this recording")
    else:
        tkeys = matching(series, TOKEN_KEYS)
    rkeys = matching(series, REQUEST_KEYS)
    tps, rps = _rate(series, tkeys), _rate(series, rkeys)
    if tps is None and not opts.tokens_metric:
        notes.append("no tokens/s recorded (serve.*.gen_tokens_per_s, probe.tokens_per_s or --tokens-metric)")

    mfu = None
    if opts.model_params is not None:
        if tps is None:
            notes.append("MFU needs a tokens/s figure")
        elif not known_peaks:
            notes.append("MFU needs every GPU's peak: a GPU model is not in the peak table")
        else:
            mfu = mfu_pct(opts.model_params, tps, opts.mfu_mode, peak_sum)
    n_gpus = len(gpus)
    price = opts.price
    run_cost = price.per_second(n_gpus) * duration_s if price is not None and n_gpus else None
    if price is not None and n_gpus == 0:
        notes.append("cost needs the GPU count: no GPU in this recording")
    if any(g.tflops is not None for g in gpus):
        notes.append(
            "TFLOP/s is an estimate: GPM pipe activity × each pipe's peak per SM per clock × SMs × "
            f"the SM clock it ran at; tensor work counted as {TENSOR_PRECISION}"
        )
    return EfficiencySection(
        precision=TENSOR_PRECISION,
        duration_s=duration_s,
        gpus=gpus,
        total_tflops=total,
        flops_util_pct=util,
        energy_j=energy,
        tokens_keys=tuple(tkeys),
        tokens_per_s=tps,
        requests_keys=tuple(rkeys),
        requests_per_s=rps,
        tokens_per_joule=per_joule_from_rates(tps, watts),
        requests_per_joule=per_joule_from_rates(rps, watts),
        model_params=opts.model_params,
        mfu_mode=opts.mfu_mode if opts.model_params is not None else None,
        mfu_pct=mfu,
        currency=price.currency if price else "USD",
        cost_per_1k_tokens=cost_per_1k_tokens(price, n_gpus, tps),
        cost_per_request=cost_per_request(price, n_gpus, rps),
        run_cost=run_cost,
        notes=tuple(notes),
    )
