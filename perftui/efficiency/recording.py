"""A recording with its efficiency series derived.

- `gpu.<i>.tflops`, `gpu.<i>.flops_util_pct`: recordings made before perftui derived these keys get
  them from the GPM pipe activity and SM clock they hold (keys already recorded are kept);
- `efficiency.joules_per_token`: the GPUs' summed power ÷ tokens/s at each tokens/s sample, when both
  are recorded (so `compare` can judge energy per token like any other key metric).
`recording_efficiency` is the report's efficiency section over a whole recording: `compare` and
`scaling` take their MFU and FLOPS utilization from it, so all three share one arithmetic.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from perftui.efficiency.flops import FloatArray, GpuFlops, Series, all_gpu_flops, derived_series, gpu_indices
from perftui.efficiency.mfu import TOKEN_KEYS, matching
from perftui.efficiency.summary import EfficiencyOptions, EfficiencySection, build_efficiency
from perftui.store.reader import Recording

JOULES_PER_TOKEN = "efficiency.joules_per_token"


def recording_flops(rec: Recording) -> list[GpuFlops]:
    return all_gpu_flops(rec.series, rec.meta, rec.details_at())


def joules_per_token(series: Series) -> tuple[FloatArray, FloatArray] | None:
    tkeys = matching(series, TOKEN_KEYS)
    power = [series[k] for i in gpu_indices(series) if (k := f"gpu.{i}.power_w") in series]
    if not tkeys or not power:
        return None
    ts = series[tkeys[0]][0]
    tokens = np.zeros(ts.shape)
    for k in tkeys:
        kts, kv = series[k]
        tokens += np.interp(ts, kts, kv) if kts.size else np.nan
    watts = np.zeros(ts.shape)
    for pts, pv in power:
        ok = ~np.isnan(pv)
        watts += np.interp(ts, pts[ok], pv[ok]) if ok.any() else np.nan
    keep = (tokens > 0) & ~np.isnan(watts)
    if not keep.any():
        return None
    return ts[keep], watts[keep] / tokens[keep]


def with_efficiency(rec: Recording) -> Recording:
    derived = dict(derived_series(recording_flops(rec)))
    jpt = joules_per_token(rec.series)
    if jpt is not None:
        derived[JOULES_PER_TOKEN] = jpt
    derived = {k: v for k, v in derived.items() if k not in rec.series}
    if not derived:
        return rec
    units = {"tflops": "TFLOP/s", "flops_util_pct": "%", "joules_per_token": "J"}
    new_units = {k: units[k.rsplit(".", 1)[-1]] for k in derived}
    return replace(rec, series={**rec.series, **derived}, units={**rec.units, **new_units})


def recording_efficiency(rec: Recording, options: EfficiencyOptions | None = None) -> EfficiencySection:
    """The efficiency section (TFLOP/s, FLOPS utilization, tokens/s, MFU...) over the whole recording."""
    start, end = rec.start, rec.end
    duration = float(end - start) if start is not None and end is not None else 0.0
    return build_efficiency(rec.series, rec.meta, rec.details_at(), duration, options)
