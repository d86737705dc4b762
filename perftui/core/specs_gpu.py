"""Specs of the GPU source (NVML basics and the GPM tier), keyed `gpu.<index>.<name>`."""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

P, B, BR = Unit.PERCENT, Unit.BYTES, Unit.BYTES_PER_S


def _g(
    name: str, unit: Unit, desc: str, *, rate: bool = False, mx: float | None = None, label: str = ""
) -> MetricSpec:
    return MetricSpec(f"gpu.*.{name}", unit, desc, rate, mx, label or name, "gpu")


SPECS: list[MetricSpec] = [
    _g("util", P, "share of time any kernel ran (a time fraction, not capacity)", mx=100, label="util"),
    _g("mem_util", P, "share of time device memory was read or written", mx=100, label="mem util"),
    _g("mem_used_bytes", B, "device memory in use", label="mem"),
    _g("mem_total_bytes", B, "device memory", label="mem total"),
    _g("mem_used_pct", P, "device memory in use", mx=100, label="mem"),
    _g("sm_clock_mhz", Unit.MHZ, "SM clock", label="SM clk"),
    _g("mem_clock_mhz", Unit.MHZ, "memory clock", label="mem clk"),
    _g(
        "clock_event_reasons",
        Unit.FLAGS,
        "why clocks are lowered (NVML clocks-event bitmask)",
        label="clock events",
    ),
    _g(
        "throttled",
        Unit.COUNT,
        "1 when a power, thermal or hardware clock event is active",
        mx=1,
        label="throttled",
    ),
    _g("power_w", Unit.WATTS, "board power draw", label="power"),
    _g("power_limit_w", Unit.WATTS, "enforced power limit", label="power cap"),
    _g(
        "energy_avg_w",
        Unit.WATTS,
        "mean power from the energy counter over the last tick",
        rate=True,
        label="energy W",
    ),
    _g("temp_c", Unit.CELSIUS, "GPU temperature", label="temp"),
    _g("fan_pct", P, "fan speed", mx=100, label="fan"),
    _g("pcie_tx_bytes_per_s", BR, "PCIe sent by the GPU", rate=True, label="PCIe tx"),
    _g("pcie_rx_bytes_per_s", BR, "PCIe received by the GPU", rate=True, label="PCIe rx"),
    _g("nvlink_tx_bytes_per_s", BR, "NVLink data sent, all links", rate=True, label="NVLink tx"),
    _g("nvlink_rx_bytes_per_s", BR, "NVLink data received, all links", rate=True, label="NVLink rx"),
    _g("ecc_corrected", Unit.COUNT, "volatile corrected ECC errors", label="ECC corr"),
    _g("ecc_uncorrected", Unit.COUNT, "volatile uncorrected ECC errors", label="ECC uncorr"),
    _g("xid_events", Unit.COUNT, "XID events seen since start", label="XID"),
    # GPM tier (Hopper and newer)
    _g("sm_active", P, "share of SMs busy (GPM SM utilization)", mx=100, label="SM active"),
    _g("sm_occupancy", P, "resident warps as share of the maximum (GPM)", mx=100, label="occupancy"),
    _g("tensor_active", P, "tensor pipes active, any type (GPM)", mx=100, label="tensor"),
    _g("dram_bw_util", P, "DRAM bandwidth as share of peak (GPM)", mx=100, label="DRAM BW"),
    _g("fp16_active", P, "FP16 pipe activity (GPM)", mx=100, label="FP16"),
    _g("fp32_active", P, "FP32 pipe activity (GPM)", mx=100, label="FP32"),
    _g("fp64_active", P, "FP64 pipe activity (GPM)", mx=100, label="FP64"),
    _g("gpm_pcie_tx_bytes_per_s", BR, "PCIe sent (GPM)", rate=True, label="PCIe tx"),
    _g("gpm_pcie_rx_bytes_per_s", BR, "PCIe received (GPM)", rate=True, label="PCIe rx"),
    _g("gpm_nvlink_tx_bytes_per_s", BR, "NVLink sent (GPM)", rate=True, label="NVLink tx"),
    _g("gpm_nvlink_rx_bytes_per_s", BR, "NVLink received (GPM)", rate=True, label="NVLink rx"),
    # Efficiency (derived from GPM pipe activity × the peak table at the SM clock; core/gpu_peaks.py)
    _g(
        "tflops",
        Unit.TFLOPS,
        "achieved TFLOP/s (estimate: GPM pipe activity × peak at the SM clock; tensor as FP16/BF16 dense)",
        label="TFLOP/s",
    ),
    _g(
        "flops_util_pct",
        P,
        "achieved FLOP/s as share of the datasheet's dense BF16 peak",
        mx=100,
        label="FLOPS util",
    ),
    MetricSpec(
        "efficiency.joules_per_token",
        Unit.JOULES,
        "GPU energy per token: the GPUs' power ÷ tokens/s (serving source or probe), derived by reports",
        label="J/token",
        source="gpu",
    ),
]
