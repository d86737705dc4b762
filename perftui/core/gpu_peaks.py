"""Peak FLOP rates of GPU models, per SM per clock, each row citing its datasheet. No I/O.

Why per SM per clock: a GPU rarely runs at its boost clock under load (a power cap or heat pulls the
SM clock down), so the peak that matters for an achieved-FLOP/s estimate is the peak *at the clock
the GPU ran*: `rate per SM per clock × SM count × current SM clock`.

Rates are *dense* FLOPs (a fused multiply-add counts 2). `tensor` is the FP16/BF16 tensor-core rate
with FP32 accumulate, dense (no 2:4 sparsity): FP8/INT8 tensor work shows in the same GPM tensor
counter and is read at this rate, so for FP8 work the estimate is a lower bound (half the FP8 rate).
`fp16`, `fp32`, `fp64` are the non-tensor pipes the GPM FP16/FP32/FP64 activities measure.

Each row also carries the datasheet's own figures so a test can check the table: per-clock rate ×
SMs × the clock the figure is quoted at reproduces the datasheet number. NVIDIA quotes Hopper and
Blackwell tensor figures at a clock below the maximum boost clock (`tensor_ref_mhz`, implied by the
datasheet figure and the SM count); non-tensor figures at the boost clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TENSOR_PRECISION = "FP16/BF16 dense (FP32 accumulate); FP8/INT8 work reads at this rate"


@dataclass(frozen=True)
class GpuPeak:
    model: str
    match: str  # regex searched in the lower-cased NVML name
    sms: int
    boost_mhz: float  # maximum boost clock (datasheet)
    tensor: float  # dense FP16/BF16 tensor FLOPs per SM per clock
    fp32: float
    fp64: float
    fp16: float  # non-tensor FP16
    bf16_tflops: float  # the datasheet's dense BF16 tensor TFLOP/s
    fp32_tflops: float | None  # the datasheet's FP32 TFLOP/s (None: not published)
    source: str  # datasheet citation
    tensor_ref_mhz: float | None = None  # clock the tensor figure is quoted at (None: boost_mhz)
    note: str = ""

    @property
    def ref_mhz(self) -> float:
        return self.tensor_ref_mhz or self.boost_mhz

    def peak_tflops(self, pipe: str, clock_mhz: float) -> float:
        """Peak of one pipe (tensor, fp16, fp32, fp64) in TFLOP/s at `clock_mhz`."""
        per_clock: float = getattr(self, pipe)
        return per_clock * self.sms * clock_mhz * 1e6 / 1e12


_H100_DS = "NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100), 2023"
_H200_DS = "NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200), 2024"
_HOPPER_WP = "NVIDIA H100 Tensor Core GPU Architecture whitepaper v1.0, table 3 (SM count, clocks)"
_HGX_B = "NVIDIA HGX B200/B100 datasheet (nvidia.com/en-us/data-center/hgx), 8-GPU figures ÷ 8"
_AMPERE_WP = "NVIDIA A100 Tensor Core GPU Architecture whitepaper, table 1; NVIDIA A100 datasheet"
_ADA_WP = "NVIDIA Ada GPU Architecture whitepaper v2.1, appendix tables"

# Pipe rates per SM per clock (dense): Hopper SM: 4 tensor cores × 512 FP16 FMA, 128 FP32 lanes,
# 64 FP64 lanes; GA100: 4 × 256 FMA, 64 FP32, 32 FP64; GA10x/AD10x: 4 × 128 FMA (64 on GeForce
# with FP32 accumulate), 128 FP32 lanes, FP64 at 1/64 of FP32.
PEAKS: tuple[GpuPeak, ...] = (
    GpuPeak("H100 SXM", r"h100 80gb hbm3|h100.*sxm", 132, 1980, 4096, 256, 128, 512, 989.4, 66.9,
            f"{_H100_DS}: 1,979 TFLOPS BF16 with sparsity, 67 TFLOPS FP32; {_HOPPER_WP}",
            tensor_ref_mhz=1830),
    GpuPeak("H100 NVL", r"h100 nvl", 132, 1785, 4096, 256, 128, 512, 835.5, 60.0,
            f"{_H100_DS}, H100 NVL column: 1,671 TFLOPS BF16 with sparsity, 60 TFLOPS FP32",
            tensor_ref_mhz=1545),
    GpuPeak("H100 PCIe", r"h100 pcie|h100-pcie", 114, 1755, 4096, 256, 128, 512, 756.5, 51.2,
            f"{_H100_DS}, H100 PCIe column: 1,513 TFLOPS BF16 with sparsity, 51 TFLOPS FP32; {_HOPPER_WP}",
            tensor_ref_mhz=1620),
    GpuPeak("H200 NVL", r"h200 nvl", 132, 1785, 4096, 256, 128, 512, 835.5, 60.0,
            f"{_H200_DS}, H200 NVL column: 1,671 TFLOPS BF16 with sparsity, 60 TFLOPS FP32",
            tensor_ref_mhz=1545),
    GpuPeak("H200 SXM", r"\bh200\b", 132, 1980, 4096, 256, 128, 512, 989.5, 67.0,
            f"{_H200_DS}, H200 SXM column: 1,979 TFLOPS BF16 with sparsity, 67 TFLOPS FP32",
            tensor_ref_mhz=1830),
    GpuPeak("H20", r"\bh20\b", 78, 1980, 1024, 256, 128, 512, 148.0, None,
            "NVIDIA H20 product brief (not published on nvidia.com; figures as widely reported): "
            "148 TFLOPS BF16 dense, 78 SMs",
            tensor_ref_mhz=1830,
            note="tensor rate capped to a quarter of H100's per SM; SM count not from an NVIDIA page"),
    GpuPeak("GH200", r"gh200", 132, 1980, 4096, 256, 128, 512, 989.5, 67.0,
            "NVIDIA GH200 Grace Hopper Superchip datasheet (nvidia.com/en-us/data-center/grace-hopper-"
            "superchip): 1,979 TFLOPS BF16 with sparsity, 67 TFLOPS FP32",
            tensor_ref_mhz=1830),
    GpuPeak("B200", r"\bb200\b", 148, 1965, 8192, 256, 128, 512, 2250.0, None,
            f"{_HGX_B}: HGX B200 36 PFLOPS FP16/BF16 with sparsity for 8 GPUs",
            tensor_ref_mhz=1855,
            note="SM count and boost clock as reported by CUDA/NVML on B200, not in the datasheet"),
    GpuPeak("B100", r"\bb100\b", 148, 1965, 8192, 256, 128, 512, 1750.0, None,
            f"{_HGX_B}: HGX B100 28 PFLOPS FP16/BF16 with sparsity for 8 GPUs",
            tensor_ref_mhz=1443,
            note="700 W part of the B200 die; tensor figure quoted at a lower clock"),
    GpuPeak("A100 SXM/PCIe", r"a100", 108, 1410, 2048, 128, 64, 512, 312.0, 19.5,
            f"{_AMPERE_WP}: 312 TFLOPS BF16 (624 with sparsity), 19.5 TFLOPS FP32, 40 GB and 80 GB"),
    GpuPeak("A30", r"\ba30\b", 56, 1440, 2048, 128, 64, 512, 165.0, 10.3,
            "NVIDIA A30 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/products/a30-gpu): "
            "165 TFLOPS BF16 (330 with sparsity), 10.3 TFLOPS FP32"),
    GpuPeak("A10", r"\ba10\b", 72, 1695, 1024, 256, 4, 256, 125.0, 31.2,
            "NVIDIA A10 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/products/a10-gpu): "
            "125 TFLOPS BF16 (250 with sparsity), 31.2 TFLOPS FP32"),
    GpuPeak("L4", r"\bl4\b", 58, 2040, 1024, 256, 4, 256, 121.0, 30.3,
            "NVIDIA L4 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/l4): "
            "242 TFLOPS BF16 with sparsity, 30.3 TFLOPS FP32"),
    GpuPeak("L40S", r"\bl40s\b", 142, 2520, 1024, 256, 4, 256, 362.05, 91.6,
            "NVIDIA L40S GPU datasheet (nvidia.com/en-us/data-center/l40s): 362.05 TFLOPS BF16 "
            "(733 with sparsity), 91.6 TFLOPS FP32",
            note="the datasheet's dense figure is 1.2 % below its sparse figure ÷ 2"),
    GpuPeak("RTX 4090", r"rtx 4090", 128, 2520, 512, 256, 4, 256, 165.2, 82.6,
            f"{_ADA_WP}: GeForce RTX 4090, 165.2 TFLOPS BF16 with FP32 accumulate, 82.6 TFLOPS FP32"),
    GpuPeak("RTX 6000 Ada", r"rtx 6000 ada", 142, 2505, 1024, 256, 4, 256, 364.2, 91.1,
            "NVIDIA RTX 6000 Ada Generation datasheet (nvidia.com/en-us/design-visualization/rtx-6000): "
            "1,457 TFLOPS FP8 with sparsity (= 364.2 BF16 dense), 91.1 TFLOPS FP32"),
)  # fmt: skip


def peak_for(name: str | None) -> GpuPeak | None:
    """The row for an NVML device name ("NVIDIA H100 80GB HBM3" -> H100 SXM), or None."""
    if not name:
        return None
    low = name.lower()
    for row in PEAKS:
        if re.search(row.match, low):
            return row
    return None


@dataclass(frozen=True)
class Achieved:
    """FLOP/s achieved over one interval: the estimate and what it assumed."""

    tflops: float
    util_pct: float  # of the datasheet's dense BF16 peak (the figure MFU is also measured against)
    peak_tflops: float  # dense FP16/BF16 tensor peak at this clock
    clock_mhz: float


def achieved(
    peak: GpuPeak,
    clock_mhz: float,
    tensor_pct: float | None,
    fp16_pct: float | None = None,
    fp32_pct: float | None = None,
    fp64_pct: float | None = None,
) -> Achieved | None:
    """Pipe activity (GPM, %) × each pipe's peak at `clock_mhz`, summed; None without tensor activity.

    FLOPS utilization is the achieved figure over the datasheet's dense BF16 peak (the GPU's
    largest pipe at its quoted clock), the same denominator as MFU, so the two compare directly;
    a clock held down by a power cap shows as lost utilization.
    """
    if tensor_pct is None or clock_mhz <= 0:
        return None
    total = 0.0
    for pipe, pct in (("tensor", tensor_pct), ("fp16", fp16_pct), ("fp32", fp32_pct), ("fp64", fp64_pct)):
        if pct is not None and pct > 0:
            total += min(pct, 100.0) / 100.0 * peak.peak_tflops(pipe, clock_mhz)
    return Achieved(total, 100.0 * total / peak.bf16_tflops, peak.peak_tflops("tensor", clock_mhz), clock_mhz)


def no_figure_reason(name: str | None, tier: str | None) -> str | None:
    """Why a GPU gets no achieved-FLOP/s figure, or None when it can get one."""
    if tier is not None and tier != "gpm":
        return "needs GPM counters (Hopper or newer; this GPU reports NVML utilization only)"
    if peak_for(name) is None:
        return f"unknown GPU model {name!r}: no peak in the table (perftui.core.gpu_peaks)"
    return None


def flops_phrase(
    name: str | None,
    clock_mhz: float | None,
    tensor_pct: float | None,
    fp16_pct: float | None = None,
    fp32_pct: float | None = None,
    fp64_pct: float | None = None,
) -> str | None:
    """Evidence for a compute-bound verdict: how far from peak, e.g. "≈684 TFLOP/s, 69 % of the
    H100 SXM's dense BF16 peak (989 TFLOP/s; 713 TFLOP/s at 1320 MHz)". None without a figure."""
    peak = peak_for(name)
    if peak is None or clock_mhz is None:
        return None
    a = achieved(peak, clock_mhz, tensor_pct, fp16_pct, fp32_pct, fp64_pct)
    if a is None:
        return None
    return (
        f"≈{a.tflops:.0f} TFLOP/s (estimate), {a.util_pct:.0f} % of the {peak.model}'s dense BF16 peak "
        f"({peak.bf16_tflops:.0f} TFLOP/s; {a.peak_tflops:.0f} at the {clock_mhz:.0f} MHz it ran)"
    )


def peak_evidence(
    mean: Callable[[str], float | None], detail: Callable[[str], Any], index: int
) -> tuple[str, ...]:
    """`flops_phrase` for GPU `index` of a window (its `mean` of a key, its `detail`), or ()."""
    p = f"gpu.{index}."
    info = detail(p + "info")
    name = info.get("name") if isinstance(info, dict) else None
    pipes = [mean(p + f"{q}_active") for q in ("tensor", "fp16", "fp32", "fp64")]
    phrase = flops_phrase(name, mean(p + "sm_clock_mhz"), *pipes)
    return (phrase,) if phrase else ()
