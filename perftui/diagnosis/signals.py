"""Derived signals the rules share, read from a DiagnosisWindow, and their evidence wording.

Levels use the window median (one noisy tick does not decide); shares of time (flags, stack
shares) use the mean. Numbers are formatted through the spec registry, as the panels show them.
"""

from __future__ import annotations

from dataclasses import dataclass

from perftui.core import details
from perftui.core.specs import REGISTRY
from perftui.core.units import Unit, format_value
from perftui.diagnosis.window import DiagnosisWindow


def pct(v: float | None) -> str:
    if v is not None and 0 < v < 0.05:
        return "< 0.1 %"  # not "0.0 %": a launch-bound H100 showed SM active 0.03 %, which is not none
    return format_value(v, Unit.PERCENT)


def fmt(key: str, v: float | None) -> str:
    return REGISTRY.format(key, v)


# -- GPU ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GpuView:
    index: int
    tier: str  # "gpm" | "nvml" | "lost"
    util: float | None  # NVML utilisation, median (a time fraction)
    util_p95: float | None
    mem_util: float | None
    sm: float | None  # GPM SM active, median
    sm_p95: float | None
    dram: float | None  # GPM DRAM bandwidth % of peak, median
    pipes: float | None  # busiest compute pipe (tensor / fp16 / fp32 / fp64), median
    pipe_name: str
    occupancy: float | None
    mem_used: float | None
    mem_total: float | None
    throttled_share: float | None  # mean of the 0/1 flag: share of ticks throttled
    pcie: float | None  # tx + rx bytes/s, median
    nvlink: float | None
    processes: int = 0  # processes NVML lists on this GPU (a CUDA context each)

    @property
    def name(self) -> str:
        return f"GPU {self.index}"

    @property
    def gpm(self) -> bool:
        return self.tier == "gpm" and self.sm is not None


_PIPES = (
    ("tensor_active", "tensor"),
    ("fp16_active", "FP16"),
    ("fp32_active", "FP32"),
    ("fp64_active", "FP64"),
)


def _sum_medians(w: DiagnosisWindow, keys: tuple[str, ...]) -> float | None:
    vals = [m for k in keys if (m := w.median(k)) is not None]
    return sum(vals) if vals else None


def gpu_view(w: DiagnosisWindow, i: int) -> GpuView:
    p = f"gpu.{i}."
    pipes: float | None = None
    pipe_name = ""
    for key, label in _PIPES:
        m = w.median(p + key)
        if m is not None and (pipes is None or m > pipes):
            pipes, pipe_name = m, label
    pcie = _sum_medians(w, (p + "gpm_pcie_tx_bytes_per_s", p + "gpm_pcie_rx_bytes_per_s"))
    if pcie is None:
        pcie = _sum_medians(w, (p + "pcie_tx_bytes_per_s", p + "pcie_rx_bytes_per_s"))
    nvlink = _sum_medians(w, (p + "gpm_nvlink_tx_bytes_per_s", p + "gpm_nvlink_rx_bytes_per_s"))
    if nvlink is None:
        nvlink = _sum_medians(w, (p + "nvlink_tx_bytes_per_s", p + "nvlink_rx_bytes_per_s"))
    mem_total = w.last(p + "mem_total_bytes")
    if mem_total is None:
        total = details.gpu_info(w, i).get("memory_total_bytes")
        mem_total = float(total) if total is not None else None
    return GpuView(
        index=i,
        tier=w.gpu_tier(i),
        util=w.median(p + "util"),
        util_p95=w.p95(p + "util"),
        mem_util=w.median(p + "mem_util"),
        sm=w.median(p + "sm_active"),
        sm_p95=w.p95(p + "sm_active"),
        dram=w.median(p + "dram_bw_util"),
        pipes=pipes,
        pipe_name=pipe_name,
        occupancy=w.median(p + "sm_occupancy"),
        mem_used=w.median(p + "mem_used_bytes"),
        mem_total=mem_total,
        throttled_share=w.mean(p + "throttled"),
        pcie=pcie,
        nvlink=nvlink,
        processes=_process_count(w, i),
    )


def _process_count(w: DiagnosisWindow, i: int) -> int:
    return sum(1 for p in details.gpu_processes(w) if p["gpu"] == i)


def gpu_views(w: DiagnosisWindow) -> list[GpuView]:
    return w.memo("gpu_views", lambda: [gpu_view(w, i) for i in w.gpu_indices()])


NVML_ONLY_NOTE = (
    "NVML utilisation only: a time fraction (any kernel running), not how much of the GPU is used; "
    "GPM counters (Hopper and newer) would separate compute from memory and launch overhead"
)


def util_phrase(g: GpuView) -> str:
    return f"GPU utilisation {pct(g.util)}"


# -- CPU ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CpuView:
    util: float | None  # all cores, median
    core_max: float | None  # busiest core, median
    cores: int | None
    per_core: tuple[float, ...]  # each core's median
    psi_some: float | None  # CPU pressure (tasks waiting for a core)
    iowait: float | None
    steal: float | None
    proc_cpu: float | None  # attached process tree (100 % = one core)
    proc_max: float | None  # its busiest process

    def saturated_cores(self, line: float) -> int:
        """Cores whose median is at or above `line`."""
        return sum(1 for m in self.per_core if m >= line)


def cpu_view(w: DiagnosisWindow) -> CpuView:
    return w.memo("cpu_view", lambda: _cpu_view(w))


def _cpu_view(w: DiagnosisWindow) -> CpuView:
    per_core = [m for k in w.keys("cpu.core.", ".util") if (m := w.median(k)) is not None]
    core_max = w.median("cpu.core_max.util")
    if core_max is None and per_core:
        core_max = max(per_core)
    return CpuView(
        util=w.median("cpu.util"),
        core_max=core_max,
        cores=w.cores(),
        per_core=tuple(per_core),
        psi_some=psi(w, "cpu", "some"),
        iowait=w.median("cpu.iowait"),
        steal=w.median("cpu.steal"),
        proc_cpu=w.median("proc.cpu"),
        proc_max=w.median("proc.cpu_max_thread"),
    )


def psi(w: DiagnosisWindow, res: str, kind: str) -> float | None:
    """Stall share: the per-tick rate from PSI's total counter (current), else avg10."""
    rate = w.median(f"psi.{res}.{kind}_rate")
    return rate if rate is not None else w.median(f"psi.{res}.{kind}10")


def busiest_core_phrase(c: CpuView, line: float) -> str:
    n = c.saturated_cores(line)
    if c.cores and n > 1:
        return f"{n} of {c.cores} cores saturated (busiest {pct(c.core_max)})"
    return f"one core at {pct(c.core_max)}"


# -- disks -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiskView:
    name: str
    busy: float | None
    await_s: float | None
    read: float | None
    write: float | None

    def phrase(self) -> str:
        parts = [f"disk {self.name} busy {pct(self.busy)}"]
        if self.await_s is not None:
            parts.append(f"await {fmt('disk.x.await_s', self.await_s)}")
        if self.read:
            parts.append(f"read {fmt('disk.x.read_bytes_per_s', self.read)}")
        if self.write:
            parts.append(f"write {fmt('disk.x.write_bytes_per_s', self.write)}")
        return ", ".join(parts)


def busiest_disk(w: DiagnosisWindow) -> DiskView | None:
    best: DiskView | None = None
    for key in w.keys("disk.", ".busy_pct"):
        name = key[len("disk.") : -len(".busy_pct")]
        busy = w.median(key)
        if busy is None or (best is not None and best.busy is not None and busy <= best.busy):
            continue
        p = f"disk.{name}."
        best = DiskView(
            name,
            busy,
            w.median(p + "await_s"),
            w.median(p + "read_bytes_per_s"),
            w.median(p + "write_bytes_per_s"),
        )
    return best


def pid_of(w: DiagnosisWindow) -> str:
    info = details.proc_info(w)
    pid = info.get("pid") if info is not None else None
    return "<PID>" if pid is None else str(pid)
