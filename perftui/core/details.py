"""The shapes of the structured details samplers publish next to their values (`store.set_detail`).

Samplers build these TypedDicts (mypy checks the producer side); readers (panels, the process pane,
the header, the diagnosis) take them through the accessors below, which check the container once
(a detail may be absent, or come from an older recording) and hand back typed values: no reader
guards each field with isinstance. Every shape is plain JSON (snapshot --json, recordings).

Keys: `gpu.<i>.info`, `gpu.<i>.clock_events`, `gpu.<i>.tier`, `gpu.driver`, `gpu.processes`,
`proc.info`, `proc.tree`, `stack.top`, `stack.threads`, `stack.window`.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypedDict, cast

from perftui.core.gpu import TIERS, Tier


class DetailSource(Protocol):
    """What holds details: the MetricStore, a DiagnosisWindow."""

    def detail(self, key: str, default: Any = None) -> Any: ...


# -- GPU --------------------------------------------------------------------------------------------
class GpuInfoDetail(TypedDict, total=False):
    """`gpu.<i>.info`: core.gpu.GpuInfo.as_dict(); absent facts are None."""

    index: int
    name: str | None
    uuid: str | None
    pci_bus_id: str | None
    memory_total_bytes: int | None
    max_sm_clock_mhz: int | None
    max_mem_clock_mhz: int | None
    power_limit_w: float | None
    default_power_limit_w: float | None
    architecture: str | None
    mig_mode: bool | None
    nvlink_count: int | None


class DriverDetail(TypedDict):
    """`gpu.driver`: the driver, NVML and CUDA driver versions ("12.4")."""

    driver: str | None
    nvml: str | None
    cuda_driver: str | None


class GpuProcessDetail(TypedDict):
    """One entry of `gpu.processes`: a process on one GPU (host pid, as NVML reports it)."""

    gpu: int
    pid: int
    used_bytes: int | None
    type: Literal["compute", "graphics"]
    sm_util: float | None
    mem_util: float | None
    container_pid: int | None


# -- the attached process -------------------------------------------------------------------------
ProcStatus = Literal["running", "zombie", "exited"]


class ProcInfoDetail(TypedDict, total=False):
    """`proc.info`: the attached process (the tree's root)."""

    pid: int
    name: str | None
    cmdline: list[str]
    create_time: float | None
    username: str | None
    status: ProcStatus
    exit_code: int | None
    exited_at: float | None
    message: str
    gpu_note: str


class ProcRow(TypedDict):
    """One process of `proc.tree`."""

    pid: int
    ppid: int | None
    name: str | None
    cmdline: list[str]
    cpu: float | None  # % of one core; None on the first tick
    rss: int | None
    threads: int | None
    state: str | None  # psutil status ("running", "sleeping", "zombie", ...)
    gpu_mem_bytes: float | None


# -- stacks -------------------------------------------------------------------------------------------
class StackFunction(TypedDict):
    """One entry of `stack.top`: a function, its hottest line, its self and total share."""

    function: str
    file: str
    line: int | None
    self_pct: float
    total_pct: float


class StackThread(TypedDict):
    """One entry of `stack.threads`."""

    pid: int
    tid: int | None
    name: str
    samples: float
    active: bool | None
    owns_gil: bool | None
    active_pct: float | None
    gil_pct: float | None
    category: str
    leaf: str | None


class StackWindowDetail(TypedDict):
    """`stack.window`: what the shares are computed over."""

    seconds: float
    dumps: int
    slices: int
    backend: str
    rate: float


# -- accessors -------------------------------------------------------------------------------------------
def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def gpu_info(src: DetailSource, index: int) -> GpuInfoDetail:
    """The GPU's static facts; {} when not (yet) known."""
    return cast(GpuInfoDetail, _dict(src.detail(f"gpu.{index}.info")) or {})


def gpu_tier(src: DetailSource, index: int) -> Tier | None:
    tier = src.detail(f"gpu.{index}.tier")
    return cast(Tier, tier) if tier in TIERS else None


def clock_events(src: DetailSource, index: int) -> list[str]:
    """The GPU's active clock-event reasons (core.gpu's names, decoded from NVML's mask)."""
    names = src.detail(f"gpu.{index}.clock_events")
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def gpu_driver(src: DetailSource) -> DriverDetail | None:
    return cast("DriverDetail | None", _dict(src.detail("gpu.driver")))


def gpu_processes(src: DetailSource) -> list[GpuProcessDetail]:
    return cast(list[GpuProcessDetail], _dicts(src.detail("gpu.processes")))


def proc_info(src: DetailSource) -> ProcInfoDetail | None:
    """The attached process; None when nothing is attached."""
    return cast("ProcInfoDetail | None", _dict(src.detail("proc.info")))


def proc_tree(src: DetailSource) -> list[ProcRow]:
    return cast(list[ProcRow], _dicts(src.detail("proc.tree")))


def stack_top(src: DetailSource) -> list[StackFunction]:
    return cast(list[StackFunction], _dicts(src.detail("stack.top")))


def stack_threads(src: DetailSource) -> list[StackThread]:
    return cast(list[StackThread], _dicts(src.detail("stack.threads")))


def stack_window(src: DetailSource) -> StackWindowDetail | None:
    return cast("StackWindowDetail | None", _dict(src.detail("stack.window")))
