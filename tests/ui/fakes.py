"""Deterministic data for the dashboard tests and screenshots: no real samplers, no clock.

`fill_store` writes a fixed history (host + N GPUs + details) into a MetricStore; the values are
pure functions of the tick so snapshots never change. `FakeSampler` is a real Sampler that the
real SamplerRunner drives (for key/interval tests), emitting the same kind of values.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from perftui.core.gpu import decode_clock_events
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.store.metric_store import MetricStore

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
HOSTNAME = "gpu-node-07"
GIB = 1024**3
NO_DRIVER = "no NVIDIA driver (libnvidia-ml.so.1 not found)"
NO_MEMBW = "no host memory-bandwidth counters (no uncore_imc, amd_umc or resctrl MBM on this machine)"


def wave(i: int, period: float, lo: float, hi: float, phase: float = 0.0) -> float:
    return lo + (hi - lo) * (0.5 + 0.5 * math.sin(2 * math.pi * (i / period) + phase))


def host_values(i: int, cores: int = 8) -> dict[str, dict[str, float | None]]:
    per_core = {f"cpu.core.{c}.util": wave(i + 3 * c, 17 + c, 5, 95) for c in range(cores)}
    util = sum(per_core.values()) / cores
    cpu: dict[str, float | None] = {
        "cpu.util": util,
        "cpu.user": util * 0.7,
        "cpu.system": util * 0.2,
        "cpu.iowait": wave(i, 23, 0, 12),
        "cpu.steal": 0.0,
        "cpu.cores": float(cores),
        "cpu.core_max.util": max(per_core.values()),
        "cpu.load1": 3.25,
        "cpu.load5": 2.5,
        "cpu.load15": 1.75,
        **per_core,
    }
    total = 64 * GIB
    used = wave(i, 40, 20, 28) * GIB
    memory: dict[str, float | None] = {
        "mem.total_bytes": float(total),
        "mem.used_bytes": used,
        "mem.used_pct": 100 * used / total,
        "mem.available_bytes": total - used,
        "mem.cached_bytes": 12.5 * GIB,
        "mem.swap_used_bytes": 0.0,
        "mem.swap_in_bytes_per_s": 0.0,
        "mem.swap_out_bytes_per_s": 0.0,
        "mem.major_faults_per_s": wave(i, 9, 0, 30),
    }
    psi: dict[str, float | None] = {
        "psi.cpu.some10": wave(i, 30, 0, 20),
        "psi.io.some10": wave(i, 25, 0, 8, 1.0),
        "psi.memory.some10": 0.0,
        "psi.cpu.full10": 0.0,
        "psi.io.full10": wave(i, 25, 0, 3),
        "psi.memory.full10": 0.0,
    }
    disk: dict[str, float | None] = {}
    for n, dev in enumerate(("nvme0n1", "sda")):
        disk[f"disk.{dev}.read_bytes_per_s"] = wave(i, 12 + n, 0, 900e6 / (n + 1))
        disk[f"disk.{dev}.write_bytes_per_s"] = wave(i, 19 + n, 0, 200e6 / (n + 1), 2.0)
        disk[f"disk.{dev}.busy_pct"] = wave(i, 12 + n, 2, 70)
        disk[f"disk.{dev}.read_iops"] = wave(i, 12 + n, 0, 7000 / (n + 1))
        disk[f"disk.{dev}.write_iops"] = wave(i, 19 + n, 0, 1600 / (n + 1), 2.0)
        disk[f"disk.{dev}.await_s"] = wave(i, 12 + n, 0.0002, 0.004 * (n + 1))
    net: dict[str, float | None] = {
        "net.eth0.rx_bytes_per_s": wave(i, 15, 1e6, 1.1e9),
        "net.eth0.tx_bytes_per_s": wave(i, 21, 1e5, 2e8),
        "net.eth0.rx_packets_per_s": wave(i, 15, 1e3, 9e5),
        "net.eth0.tx_packets_per_s": wave(i, 21, 1e2, 2e5),
        "net.eth0.rx_errors_per_s": 0.0,
        "net.eth0.tx_errors_per_s": 0.0,
        "net.eth0.rx_drops_per_s": wave(i, 33, 0, 2) if i % 30 > 25 else 0.0,
        "net.eth0.tx_drops_per_s": 0.0,
        "net.tcp.retrans_per_s": wave(i, 33, 0, 4),
    }
    return {"cpu": cpu, "memory": memory, "psi": psi, "disk": disk, "net": net}


def gpu_values(i: int, g: int, gpm: bool = True) -> dict[str, float | None]:
    p = f"gpu.{g}."
    total = 80 * GIB
    util = wave(i + 5 * g, 20 + g, 30, 100)
    used = wave(i + g, 50, 30, 70) * GIB
    vals: dict[str, float | None] = {
        p + "util": util,
        p + "mem_util": util * 0.6,
        p + "mem_used_bytes": used,
        p + "mem_total_bytes": float(total),
        p + "mem_used_pct": 100 * used / total,
        p + "sm_clock_mhz": 1980.0 if g != 3 else 1410.0,
        p + "mem_clock_mhz": 2619.0,
        p + "clock_event_reasons": 0.0 if g != 3 else 4.0,
        p + "throttled": 0.0 if g != 3 else 1.0,
        p + "power_w": wave(i + g, 18, 120, 690),
        p + "power_limit_w": 700.0,
        p + "temp_c": wave(i + g, 60, 45, 78),
        p + "pcie_tx_bytes_per_s": wave(i + g, 14, 1e8, 12e9),
        p + "pcie_rx_bytes_per_s": wave(i + g, 16, 1e8, 20e9),
        p + "nvlink_tx_bytes_per_s": wave(i + g, 11, 1e9, 300e9),
        p + "nvlink_rx_bytes_per_s": wave(i + g, 13, 1e9, 300e9),
    }
    if gpm:
        vals[p + "sm_active"] = util * 0.8
        vals[p + "tensor_active"] = util * 0.45
        vals[p + "dram_bw_util"] = wave(i + g, 27, 10, 85)
    return vals


def gpu_details(n: int, gpm: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {"gpu.count": n}
    if n:
        d["gpu.driver"] = {"driver": "550.54.15", "nvml": "12.550.54.15", "cuda_driver": 12040}
        d["gpu.processes"] = [
            {
                "gpu": g,
                "pid": 41000 + g,
                "used_bytes": float((30 + g) * GIB),
                "sm_util": 80.0,
                "mem_util": 35.0,
            }
            for g in range(min(n, 4))
        ]
    for g in range(n):
        d[f"gpu.{g}.info"] = {
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": f"GPU-0000000{g}-1111-2222-3333-444444444444",
            "memory_total_bytes": 80 * GIB,
            "architecture": "hopper",
        }
        d[f"gpu.{g}.tier"] = "gpm" if gpm else "nvml"
        d[f"gpu.{g}.tier_reason"] = "" if gpm else "GPM needs Hopper or newer"
        d[f"gpu.{g}.clock_events"] = decode_clock_events(0x4 if g == 3 else 0)  # 0x4: NVML's power cap
    return d


def fill_store(
    store: MetricStore,
    n_gpus: int = 0,
    *,
    seconds: int = 90,
    step: float = 1.0,
    t0: float = T0,
    gpm: bool = True,
    gpu_missing_reason: str = NO_DRIVER,
) -> float:
    """Write `seconds/step` ticks; returns the last timestamp."""
    ts = t0
    ticks = int(seconds / step)
    for i in range(ticks):
        ts = t0 + i * step
        for source, vals in host_values(i).items():
            store.append(ts, vals, source=source)
        for g in range(n_gpus):
            store.append(ts, gpu_values(i, g, gpm), source="gpu")
    for src in ("cpu", "memory", "psi", "disk", "net"):
        store.set_status(src, SourceStatus.ok())
    store.set_status("membw", SourceStatus.unavailable(NO_MEMBW))
    store.set_status("gpu", SourceStatus.ok() if n_gpus else SourceStatus.unavailable(gpu_missing_reason))
    for key, value in gpu_details(n_gpus, gpm).items():
        store.set_detail(key, value)
    store.set_detail("cpu.model", "AMD EPYC 9654 96-Core Processor")
    return ts


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSampler(BaseSampler):
    """A real Sampler (driven by the real SamplerRunner) emitting deterministic host values."""

    def __init__(self, name: str = "cpu", interval: float = 1.0) -> None:
        self.name = name
        self.interval = interval
        self.ticks = 0
        self.closed = False

    def sample(self) -> Values:
        self.ticks += 1
        return dict(host_values(self.ticks)[self.name])

    def close(self) -> None:
        self.closed = True


class BlockingSampler(BaseSampler):
    """Blocks in sample() until released: its panel must go stale while the UI keeps responding."""

    def __init__(self, name: str = "disk") -> None:
        self.name = name
        self.interval = 0.1
        self.release = threading.Event()
        self.calls = 0

    def sample(self) -> Values:
        self.calls += 1
        if self.calls > 1:
            self.release.wait(30)
        return dict(host_values(self.calls)[self.name])


class RaisingSampler(BaseSampler):
    def __init__(self, name: str = "net") -> None:
        self.name = name
        self.interval = 0.1

    def sample(self) -> Values:
        raise OSError("/proc/net/dev vanished")


class UnavailableSampler(BaseSampler):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def availability(self) -> SourceStatus:
        return SourceStatus.unavailable(self.reason)

    def sample(self) -> Values:  # pragma: no cover - never called when unavailable
        return {}

    def details(self) -> Mapping[str, Any]:
        return {}
