"""The GPM tier of one GPU (Hopper and newer): SM active, occupancy, tensor, DRAM BW...

Two sample buffers are allocated once and reused: each tick fills the older
one and computes metrics between the previous sample and the new one, then
the roles swap. Ticks closer than MIN_GAP_S to the previous sample are
skipped (the previous sample is kept), so metrics always span >= 100 ms.
"""

from __future__ import annotations

from typing import Any

from perftui.core.gpu import ARCH_HOPPER
from perftui.samplers.nvml import PERMANENT_ERRORS, Nvml

MIN_GAP_S = 0.1
MIB = 1024 * 1024

# (pynvml constant name, metric key suffix, scale to SI)
GPM_METRICS: tuple[tuple[str, str, float], ...] = (
    ("NVML_GPM_METRIC_SM_UTIL", "sm_active", 1.0),
    ("NVML_GPM_METRIC_SM_OCCUPANCY", "sm_occupancy", 1.0),
    ("NVML_GPM_METRIC_ANY_TENSOR_UTIL", "tensor_active", 1.0),
    ("NVML_GPM_METRIC_DRAM_BW_UTIL", "dram_bw_util", 1.0),
    ("NVML_GPM_METRIC_FP16_UTIL", "fp16_active", 1.0),
    ("NVML_GPM_METRIC_FP32_UTIL", "fp32_active", 1.0),
    ("NVML_GPM_METRIC_FP64_UTIL", "fp64_active", 1.0),
    ("NVML_GPM_METRIC_PCIE_TX_PER_SEC", "gpm_pcie_tx_bytes_per_s", MIB),
    ("NVML_GPM_METRIC_PCIE_RX_PER_SEC", "gpm_pcie_rx_bytes_per_s", MIB),
    ("NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC", "gpm_nvlink_tx_bytes_per_s", MIB),
    ("NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC", "gpm_nvlink_rx_bytes_per_s", MIB),
)


def gpm_support(nv: Nvml, index: int, arch: int | None, mig: bool | None) -> tuple[bool, str]:
    """(supported, reason) for the tier detail."""
    if not nv.has("nvmlGpmQueryDeviceSupport") or not nv.has("c_nvmlGpmMetricsGet_t"):
        return False, "GPM not available in this nvidia-ml-py"
    if mig:
        return False, "MIG mode is on: GPM per MIG instance is not sampled; NVML basics only"
    support = nv.dev(index, "nvmlGpmQueryDeviceSupport")
    if index in nv.lost:
        return False, nv.lost[index]
    if support is None or not getattr(support, "isSupportedDevice", 0):
        if arch is not None and arch < ARCH_HOPPER:
            return False, "GPM not supported on this GPU (pre-Hopper)"
        if support is None:
            return False, "GPM not supported by this driver or GPU"
        return False, "GPM not supported on this GPU"
    return True, "GPM counters (Hopper or newer)"


class GpmTier:
    """GPM sampling of one device. `sample(now)` returns values or None when it failed for good."""

    def __init__(self, nv: Nvml, index: int, prefix: str) -> None:
        self.nv = nv
        self.index = index
        self.failed: str | None = None
        self.supported_metrics: list[str] = []
        self._samples: list[Any] = []
        self._prev: int | None = None  # which buffer holds the previous sample
        self._prev_t = 0.0
        mod = nv.mod
        self._metrics: list[tuple[int, str, float]] = []  # (id, key, scale)
        for const, suffix, scale in GPM_METRICS:
            mid = getattr(mod, const, None)
            if mid is not None:
                self._metrics.append((int(mid), f"{prefix}{suffix}", scale))
        for _ in range(2):
            s = nv.call(-1, "nvmlGpmSampleAlloc")
            if s is None:
                self.failed = "GPM sample buffers could not be allocated"
                break
            self._samples.append(s)
        self._mg: Any = None
        if self.failed is None:
            self._build_request()

    def _build_request(self) -> None:
        mod = self.nv.mod
        mg = mod.c_nvmlGpmMetricsGet_t()
        mg.version = mod.NVML_GPM_METRICS_GET_VERSION
        mg.numMetrics = len(self._metrics)
        for i, (mid, _, _) in enumerate(self._metrics):
            mg.metrics[i].metricId = mid
        self._mg = mg

    def sample(self, now: float) -> dict[str, float | None] | None:
        if self.failed is not None:
            return None
        if self._prev is not None and now - self._prev_t < MIN_GAP_S:
            return {}
        cur = 0 if self._prev is None else 1 - self._prev
        got = self.nv.dev(self.index, "nvmlGpmSampleGet", self._samples[cur])
        if got is None:
            if self.index not in self.nv.lost and not self.nv.supported(self.index, "nvmlGpmSampleGet"):
                self.failed = "GPM sampling refused by the driver (not supported or no permission)"
            return None if self.failed else {}
        prev, self._prev, self._prev_t = self._prev, cur, now
        if prev is None:
            return {}
        mg = self._mg
        mg.sample1 = self._samples[prev]
        mg.sample2 = self._samples[cur]
        if self.nv.call(self.index, "nvmlGpmMetricsGet", mg) is None:
            if not self.nv.supported(self.index, "nvmlGpmMetricsGet"):
                self.failed = "GPM metrics refused by the driver"
                return None
            return {}
        return self._read(mg)

    def _read(self, mg: Any) -> dict[str, float | None]:
        ok = int(getattr(self.nv.mod, "NVML_SUCCESS", 0))
        out: dict[str, float | None] = {}
        dropped = False
        for i, (_, key, scale) in enumerate(self._metrics):
            m = mg.metrics[i]
            ret = int(m.nvmlReturn)
            if ret == ok:
                out[key] = float(m.value) * scale
            elif ret in PERMANENT_ERRORS:
                dropped = True
        if dropped:  # metrics this GPU does not have: stop asking for them
            self._metrics = [
                t
                for i, t in enumerate(self._metrics)
                if int(mg.metrics[i].nvmlReturn) not in PERMANENT_ERRORS
            ]
            self._build_request()
        if dropped or not self.supported_metrics:
            self.supported_metrics = [key.rsplit(".", 1)[-1] for _, key, _ in self._metrics]
        return out

    @property
    def metrics(self) -> list[tuple[int, str, float]]:
        """(metric id, store key, scale) of each metric asked for."""
        return list(self._metrics)

    def close(self) -> None:
        for s in self._samples:
            self.nv.call(-1, "nvmlGpmSampleFree", s)
        self._samples = []
        self.failed = self.failed or "closed"
