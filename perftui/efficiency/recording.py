"""A recording with its efficiency series derived (`gpu.<i>.tflops`, `gpu.<i>.flops_util_pct`).

Recordings made before perftui derived these keys (or by a GPU sampler that does not) get them
here from the GPM pipe activity and SM clock they hold; keys already recorded are kept as they are.
"""

from __future__ import annotations

from dataclasses import replace

from perftui.efficiency.flops import GpuFlops, all_gpu_flops, derived_series
from perftui.store.reader import Recording


def recording_flops(rec: Recording) -> list[GpuFlops]:
    return all_gpu_flops(rec.series, rec.meta, rec.details_at())


def with_efficiency(rec: Recording) -> Recording:
    derived = {k: v for k, v in derived_series(recording_flops(rec)).items() if k not in rec.series}
    if not derived:
        return rec
    units = {**rec.units, **{k: ("TFLOP/s" if k.endswith(".tflops") else "%") for k in derived}}
    return replace(rec, series={**rec.series, **derived}, units=units)
