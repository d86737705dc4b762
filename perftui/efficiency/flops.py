"""Achieved TFLOP/s and FLOPS utilization per GPU, from recorded GPM pipe activity and SM clock.

Pure functions over series (`key -> (timestamps, values)`, as a recording or a store window holds
them): each GPM sample covers the interval since the previous one, so it is paired with the mean
SM clock sampled over that interval. Derived keys: `gpu.<i>.tflops` (TFLOP/s) and
`gpu.<i>.flops_util_pct` (% of the datasheet's dense BF16 peak).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perftui.core.gpu_peaks import GpuPeak, achieved, no_figure_reason, peak_for

FloatArray = npt.NDArray[np.float64]
Series = Mapping[str, tuple[FloatArray, FloatArray]]

_GPU_KEY = re.compile(r"^gpu\.(\d+)\.")
PIPES = ("tensor", "fp16", "fp32", "fp64")


@dataclass(frozen=True)
class GpuFlops:
    """One GPU's estimate over a window, or the reason it has none."""

    index: int
    name: str | None
    peak: GpuPeak | None
    reason: str | None  # None when the series below are set
    ts: FloatArray | None = None
    tflops: FloatArray | None = None
    util_pct: FloatArray | None = None


def gpu_indices(keys: Any) -> list[int]:
    found = {int(m.group(1)) for k in keys if (m := _GPU_KEY.match(k))}
    return sorted(found)


def gpu_names(meta: Mapping[str, Any], details: Mapping[str, Any]) -> dict[int, str]:
    """GPU index -> NVML name, from the recording's metadata or the `gpu.<i>.info` detail."""
    out: dict[int, str] = {}
    gpus = meta.get("gpus")
    if isinstance(gpus, list):
        for pos, info in enumerate(gpus):
            if isinstance(info, Mapping) and info.get("name"):
                out[int(info.get("index", pos))] = str(info["name"])
    for key, value in details.items():
        m = re.match(r"^gpu\.(\d+)\.info$", key)
        if m and isinstance(value, Mapping) and value.get("name"):
            out.setdefault(int(m.group(1)), str(value["name"]))
    return out


def gpu_tiers(details: Mapping[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for key, value in details.items():
        m = re.match(r"^gpu\.(\d+)\.tier$", key)
        if m and isinstance(value, str):
            out[int(m.group(1))] = value
    return out


def _interval_clock(clock: tuple[FloatArray, FloatArray], ts: FloatArray) -> FloatArray:
    """Mean SM clock over each GPM interval (previous sample, this one]; nearest sample otherwise."""
    cts, cvals = clock
    ok = ~np.isnan(cvals)
    cts, cvals = cts[ok], cvals[ok]
    if cts.size == 0:
        return np.full(ts.shape, np.nan)
    out = np.interp(ts, cts, cvals)
    for j in range(1, ts.size):
        a = int(np.searchsorted(cts, ts[j - 1], side="left"))
        b = int(np.searchsorted(cts, ts[j], side="right"))
        if b > a:
            out[j] = float(np.mean(cvals[a:b]))
    return out


def gpu_flops(series: Series, index: int, name: str | None, tier: str | None = None) -> GpuFlops:
    """Achieved TFLOP/s of GPU `index` at every GPM sample, or why there is no figure."""
    p = f"gpu.{index}."
    reason = no_figure_reason(name, tier)
    peak = peak_for(name)
    if reason is None and p + "tensor_active" not in series:
        reason = "needs GPM counters (no tensor-pipe activity recorded)"
    if reason is None and p + "sm_clock_mhz" not in series:
        reason = "no SM clock recorded"
    if reason is not None or peak is None:
        return GpuFlops(index, name, peak, reason)
    ts, tensor = series[p + "tensor_active"]
    clocks = _interval_clock(series[p + "sm_clock_mhz"], ts)
    pipes: dict[str, FloatArray] = {}
    for pipe in PIPES[1:]:
        if p + f"{pipe}_active" in series:
            pts, pv = series[p + f"{pipe}_active"]
            pipes[pipe] = np.interp(ts, pts, pv) if pts.size else np.zeros(ts.shape)
    tf = np.full(ts.shape, np.nan)
    util = np.full(ts.shape, np.nan)
    for j in range(ts.size):
        if np.isnan(tensor[j]) or np.isnan(clocks[j]):
            continue
        a = achieved(
            peak,
            float(clocks[j]),
            float(tensor[j]),
            *(float(pipes[q][j]) if q in pipes else None for q in PIPES[1:]),
        )
        if a is not None:
            tf[j], util[j] = a.tflops, a.util_pct
    return GpuFlops(index, name, peak, None, ts, tf, util)


def all_gpu_flops(series: Series, meta: Mapping[str, Any], details: Mapping[str, Any]) -> list[GpuFlops]:
    names = gpu_names(meta, details)
    tiers = gpu_tiers(details)
    indices = sorted(set(gpu_indices(series)) | set(names))
    return [gpu_flops(series, i, names.get(i), tiers.get(i)) for i in indices]


def derived_series(flops: list[GpuFlops]) -> dict[str, tuple[FloatArray, FloatArray]]:
    """The `gpu.<i>.tflops` and `gpu.<i>.flops_util_pct` series of the GPUs that have a figure."""
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    for g in flops:
        if g.ts is None or g.tflops is None or g.util_pct is None:
            continue
        keep = ~np.isnan(g.tflops)
        if keep.any():
            out[f"gpu.{g.index}.tflops"] = (g.ts[keep], g.tflops[keep])
            out[f"gpu.{g.index}.flops_util_pct"] = (g.ts[keep], g.util_pct[keep])
    return out


def missing_figures(keys: Any, details: Mapping[str, Any]) -> dict[int, str]:
    """GPU index -> why it has no `gpu.<i>.tflops` in a live store (keys, details) that has GPUs."""
    keys = set(keys)
    names, tiers = gpu_names({}, details), gpu_tiers(details)
    out: dict[int, str] = {}
    for i in sorted(set(gpu_indices(keys)) | set(names)):
        if f"gpu.{i}.tflops" in keys or tiers.get(i) == "lost":
            continue
        reason = no_figure_reason(names.get(i), tiers.get(i))
        out[i] = reason or "needs two GPM samples (sample for longer)"
    return out
