"""Live `gpu.<i>.tflops` and `gpu.<i>.flops_util_pct` from a GPM sample and the SM clock.

Each GPM sample covers the interval since the previous one: it is paired with the mean of the SM
clock read at both ends of that interval. The arithmetic and the peak table are in core/gpu_peaks.py.
"""

from __future__ import annotations

from perftui.core.gpu_peaks import GpuPeak, achieved, peak_for
from perftui.samplers.base import Values


class FlopsEstimator:
    def __init__(self, peak: GpuPeak, prefix: str) -> None:
        self.peak = peak
        self.prefix = prefix
        self._last_clock: float | None = None

    @classmethod
    def for_gpu(cls, name: str | None, prefix: str) -> FlopsEstimator | None:
        """None for a GPU the peak table does not know (the report says why)."""
        peak = peak_for(name)
        return cls(peak, prefix) if peak is not None else None

    def apply(self, out: Values) -> None:
        """Add the two keys to `out` when it holds a GPM sample (tensor activity) and the SM clock."""
        p = self.prefix
        clock, tensor = out.get(p + "sm_clock_mhz"), out.get(p + "tensor_active")
        if clock is None or tensor is None:
            return
        mean_clock = clock if self._last_clock is None else (clock + self._last_clock) / 2
        self._last_clock = clock
        pipes = [out.get(p + f"{pipe}_active") for pipe in ("fp16", "fp32", "fp64")]
        a = achieved(self.peak, mean_clock, tensor, *pipes)
        if a is not None:
            out[p + "tflops"] = a.tflops
            out[p + "flops_util_pct"] = a.util_pct
