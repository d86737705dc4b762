"""Scaling across runs: the same job recorded at different GPU counts, as one table. Pure.

Throughput, in order of preference: a metric the user names, the serving source's generated
tokens/s (summed over servers), the probe's tokens/s, else the achieved TFLOP/s summed over GPUs
(labelled so). Scaling efficiency is against the run with the fewest GPUs (n₀, throughput X₀):
- throughput (higher is better): efficiency = (X / X₀) ÷ (n / n₀), for strong scaling (same total
  work: the speed-up per added GPU) and weak scaling (same work per GPU: per-GPU throughput kept);
- a time metric the user names (seconds, lower is better, e.g. a step time): strong scaling
  efficiency = (t₀ / t) ÷ (n / n₀), weak scaling efficiency = t₀ / t.
Communication overhead: the collective share of stack samples, the share of time NVLink carried
traffic, and the GPUs' idle share (100 − SM active, or 100 − utilization without GPM).
With a model size (--model-params), each run's MFU and FLOPS utilization come from the report's
efficiency section (efficiency/summary.py): one arithmetic for report, compare and scaling.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perftui.efficiency.flops import Series, all_gpu_flops, derived_series, gpu_indices
from perftui.efficiency.mfu import TOKEN_KEYS, matching
from perftui.efficiency.summary import EfficiencyOptions, build_efficiency

NVLINK_BUSY_BYTES_PER_S = 1e9  # a GPU's NVLink counts as busy above 1 GB/s (rx + tx)
TFLOPS_LABEL = "achieved TFLOP/s summed over GPUs (estimate: no throughput metric recorded)"


@dataclass(frozen=True)
class RunFacts:
    """What a scaling table needs from one recording."""

    label: str
    host: str | None
    job: str | None
    gpu_models: tuple[str, ...]
    gpus: int
    throughput: float | None
    throughput_from: str
    collective_pct: float | None
    nvlink_busy_pct: float | None
    gpu_idle_pct: float | None
    flops_util_pct: float | None = None  # with --model-params: the run's FLOPS utilization
    mfu_pct: float | None = None  # with --model-params: model FLOPs/s ÷ the run's GPUs' peak
    mfu_note: str = ""  # why there is no MFU


@dataclass(frozen=True)
class ScalingRow:
    run: RunFacts
    per_gpu: float | None
    speedup: float | None
    efficiency_pct: float | None


@dataclass(frozen=True)
class ScalingTable:
    mode: str
    metric: str
    lower_is_better: bool
    rows: tuple[ScalingRow, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    model_params: float | None = None  # MFU columns shown when set
    mfu_mode: str | None = None


def _mean(vals: np.ndarray[Any, Any]) -> float | None:
    v = vals[~np.isnan(vals)]
    return float(np.mean(v)) if v.size else None


def _mean_of(series: Series, pattern: str) -> list[float]:
    return [
        m for k in sorted(series) if fnmatch.fnmatchcase(k, pattern) if (m := _mean(series[k][1])) is not None
    ]


def _job(details: Mapping[str, Any]) -> str | None:
    """The attached workload's program (its script or `-m` module), not its arguments: runs at
    different GPU counts differ in their arguments, a different program is a different job."""
    info = details.get("proc.info")
    cmd = info.get("cmdline") if isinstance(info, Mapping) else None
    if not isinstance(cmd, list) or not cmd:
        return None
    args = [str(c) for c in cmd]
    for i, a in enumerate(args):
        if a == "-m" and i + 1 < len(args):
            return f"-m {args[i + 1]}"
        if a.endswith(".py"):
            return a
    return args[0].rsplit("/", 1)[-1]


def run_facts(
    label: str,
    series: Series,
    meta: Mapping[str, Any],
    details: Mapping[str, Any],
    metric: str | None = None,
    options: EfficiencyOptions | None = None,
) -> RunFacts:
    flops = all_gpu_flops(series, meta, details)
    gpus = len(flops) or len(gpu_indices(series))
    models = tuple(sorted({g.name for g in flops if g.name}))
    throughput: float | None
    if metric:
        throughput = _mean(series[metric][1]) if metric in series else None
        source = metric if metric in series else f"{metric} (not in this recording)"
    else:
        keys = matching(series, TOKEN_KEYS)
        if keys:
            means = [m for k in keys if (m := _mean(series[k][1])) is not None]
            throughput, source = (sum(means) if means else None), ", ".join(keys)
        else:
            derived = derived_series(flops).items()
            tf = [m for k, (_, v) in derived if k.endswith(".tflops") if (m := _mean(v)) is not None]
            throughput = sum(tf) if tf else None
            source = TFLOPS_LABEL if tf else "no throughput: no tokens/s, no metric named, no GPM counters"
    coll = _mean_of(series, "stack.share.*collective*")
    nvl: list[float] = []
    idle: list[float] = []
    for i in gpu_indices(series):
        p = f"gpu.{i}."
        rx, tx = series.get(p + "nvlink_rx_bytes_per_s"), series.get(p + "nvlink_tx_bytes_per_s")
        if rx is not None and tx is not None and rx[1].size and tx[1].size:
            n = min(rx[1].size, tx[1].size)
            both = rx[1][:n] + tx[1][:n]
            nvl.append(100.0 * float(np.mean(both[~np.isnan(both)] > NVLINK_BUSY_BYTES_PER_S)))
        busy = series.get(p + "sm_active") or series.get(p + "util")
        if busy is not None and (m := _mean(busy[1])) is not None:
            idle.append(max(0.0, 100.0 - m))
    util = mfu = None
    mfu_note = ""
    if options is not None and options.model_params is not None:
        eff = build_efficiency(series, meta, details, 0.0, options)  # no energy or cost in this table
        util, mfu = eff.flops_util_pct, eff.mfu_pct
        if mfu is None:
            mfu_note = "; ".join(n for n in eff.notes if "MFU" in n or "tokens" in n)
    return RunFacts(
        label=label,
        host=str(meta["host"]) if meta.get("host") else None,
        job=_job(details),
        gpu_models=models,
        gpus=gpus,
        throughput=throughput,
        throughput_from=source,
        # stack samples without a collective category: none of them in collectives
        collective_pct=sum(coll)
        if coll
        else (0.0 if any(k.startswith("stack.share.") for k in series) else None),
        nvlink_busy_pct=float(np.mean(nvl)) if nvl else None,
        gpu_idle_pct=float(np.mean(idle)) if idle else None,
        flops_util_pct=util,
        mfu_pct=mfu,
        mfu_note=mfu_note,
    )


def _warnings(runs: Sequence[RunFacts]) -> list[str]:
    out: list[str] = []
    for what, get in (
        ("hosts", lambda r: r.host),
        ("jobs (command lines)", lambda r: r.job),
        ("GPU models", lambda r: ", ".join(r.gpu_models) or None),
        ("throughput sources", lambda r: r.throughput_from),
    ):
        seen = {v for r in runs if (v := get(r)) is not None}
        if len(seen) > 1:
            out.append(f"the recordings differ in {what}: " + "; ".join(sorted(seen)))
    counts = [r.gpus for r in runs]
    if len(set(counts)) < len(counts):
        out.append("two or more recordings have the same GPU count: " + ", ".join(map(str, counts)))
    return out


def scaling_table(
    runs: Sequence[RunFacts],
    mode: str = "strong",
    metric: str | None = None,
    lower_is_better: bool = False,
    options: EfficiencyOptions | None = None,
) -> ScalingTable:
    if mode not in ("strong", "weak"):
        raise ValueError(f"scaling mode is strong or weak, not {mode!r}")
    ordered = sorted(runs, key=lambda r: (r.gpus, r.label))
    base = next((r for r in ordered if r.gpus > 0 and r.throughput), None)
    rows = []
    for r in ordered:
        per_gpu = r.throughput / r.gpus if r.throughput is not None and r.gpus > 0 else None
        speedup = eff = None
        if base is not None and base.throughput and r.throughput and r.gpus > 0:
            ratio = r.throughput / base.throughput
            speedup = 1.0 / ratio if lower_is_better else ratio
            scale = r.gpus / base.gpus
            weak_time = lower_is_better and mode == "weak"
            eff = 100.0 * (speedup if weak_time else speedup / scale)
        rows.append(ScalingRow(r, per_gpu, speedup, eff))
    first = base or (ordered[0] if ordered else None)
    label = metric or (first.throughput_from if first else "")
    params = options.model_params if options is not None else None
    mfu_mode = options.mfu_mode if options is not None and params is not None else None
    warnings = tuple(_warnings(ordered))
    return ScalingTable(mode, label, lower_is_better, tuple(rows), warnings, params, mfu_mode)
