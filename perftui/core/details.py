"""The shapes of the structured details samplers publish next to their values (`store.set_detail`).

Samplers build these TypedDicts (mypy checks the producer side); readers (panels, the process pane,
the header, the diagnosis) take them through the accessors below, which check the container once
(a detail may be absent, or come from an older recording) and hand back typed values: no reader
guards each field with isinstance. Every shape is plain JSON (snapshot --json, recordings).

Keys: `gpu.count`, `gpu.<i>.info`, `gpu.<i>.clock_events`, `gpu.<i>.tier` (`.tier_reason`), `gpu.driver`,
`gpu.processes`, `proc.info`, `proc.tree`, `stack.top`, `stack.threads`, `stack.window`.
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
    memory_total_bytes: float | None
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
    used_bytes: float | None
    type: str  # "compute" or "graphics"
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
    rss: float | None
    threads: int | None
    state: str | None  # psutil status ("running", "sleeping", "zombie", ...)
    gpu_mem_bytes: float | None


# -- stacks -------------------------------------------------------------------------------------------
class StackFunction(TypedDict):
    """One entry of `stack.top`: a function, its hottest line, its self and total share."""

    function: str
    file: str
    line: int | None
    self_pct: float | None
    total_pct: float | None


class StackThread(TypedDict):
    """One entry of `stack.threads`."""

    pid: int
    tid: int | None
    name: str
    samples: float | None
    active: bool | None
    owns_gil: bool | None
    active_pct: float | None
    gil_pct: float | None
    category: str | None
    leaf: str | None


class StackWindowDetail(TypedDict):
    """`stack.window`: what the shares are computed over."""

    seconds: float
    dumps: int | None
    slices: int | None
    backend: str | None
    rate: float | None
    processes: int | None  # processes of the tree sampled (the attached one included)
    processes_left_out: int | None  # descendants over the sampler's limit


# -- accessors -------------------------------------------------------------------------------------------
# A detail may come from an older recording or a hand-made fixture: each accessor checks the shape once
# (a field of the wrong type or missing reads None; an entry without its key fields is left out).
def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _strs(v: Any) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def gpu_info(src: DetailSource, index: int) -> GpuInfoDetail:
    """The GPU's static facts; {} when not (yet) known."""
    d = _dict(src.detail(f"gpu.{index}.info"))
    if d is None:
        return {}
    return GpuInfoDetail(
        index=_int(d.get("index")) or index,
        name=_str(d.get("name")),
        uuid=_str(d.get("uuid")),
        pci_bus_id=_str(d.get("pci_bus_id")),
        memory_total_bytes=_num(d.get("memory_total_bytes")),
        max_sm_clock_mhz=_int(d.get("max_sm_clock_mhz")),
        max_mem_clock_mhz=_int(d.get("max_mem_clock_mhz")),
        power_limit_w=_num(d.get("power_limit_w")),
        default_power_limit_w=_num(d.get("default_power_limit_w")),
        architecture=_str(d.get("architecture")),
        mig_mode=_bool(d.get("mig_mode")),
        nvlink_count=_int(d.get("nvlink_count")),
    )


def gpu_tier(src: DetailSource, index: int) -> Tier | None:
    tier = src.detail(f"gpu.{index}.tier")
    return cast(Tier, tier) if tier in TIERS else None


def gpu_tier_reason(src: DetailSource, index: int) -> str:
    """Why the GPU is on its tier (no GPM, lost); "" when nothing to say."""
    return _str(src.detail(f"gpu.{index}.tier_reason")) or ""


def gpu_count(src: DetailSource) -> int | None:
    """How many GPUs NVML reported (lost ones included)."""
    n = _int(src.detail("gpu.count"))
    return n if n is not None and n >= 0 else None


def clock_events(src: DetailSource, index: int) -> list[str]:
    """The GPU's active clock-event reasons (core.gpu's names, decoded from NVML's mask)."""
    names = src.detail(f"gpu.{index}.clock_events")
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def gpu_driver(src: DetailSource) -> DriverDetail | None:
    d = _dict(src.detail("gpu.driver"))
    if d is None:
        return None
    return DriverDetail(
        driver=_str(d.get("driver")), nvml=_str(d.get("nvml")), cuda_driver=_str(d.get("cuda_driver"))
    )


def gpu_processes(src: DetailSource) -> list[GpuProcessDetail]:
    out: list[GpuProcessDetail] = []
    for d in _dicts(src.detail("gpu.processes")):
        gpu, pid = _int(d.get("gpu")), _int(d.get("pid"))
        if gpu is None or pid is None:
            continue
        out.append(
            GpuProcessDetail(
                gpu=gpu,
                pid=pid,
                used_bytes=_num(d.get("used_bytes")),
                type=_str(d.get("type")) or "compute",
                sm_util=_num(d.get("sm_util")),
                mem_util=_num(d.get("mem_util")),
                container_pid=_int(d.get("container_pid")),
            )
        )
    return out


_PROC_STATUSES: tuple[ProcStatus, ...] = ("running", "zombie", "exited")


def proc_info(src: DetailSource) -> ProcInfoDetail | None:
    """The attached process; None when nothing is attached. Only the facts present are set."""
    d = _dict(src.detail("proc.info"))
    if d is None:
        return None
    out = ProcInfoDetail(cmdline=_strs(d.get("cmdline")))
    if (pid := _int(d.get("pid"))) is not None:
        out["pid"] = pid
    if "name" in d:
        out["name"] = _str(d["name"])
    if "username" in d:
        out["username"] = _str(d["username"])
    if "create_time" in d:
        out["create_time"] = _num(d["create_time"])
    if "exited_at" in d:
        out["exited_at"] = _num(d["exited_at"])
    if "exit_code" in d:
        out["exit_code"] = _int(d["exit_code"])
    status = d.get("status")
    if status in _PROC_STATUSES:
        out["status"] = status
    if (message := _str(d.get("message"))) is not None:
        out["message"] = message
    if (note := _str(d.get("gpu_note"))) is not None:
        out["gpu_note"] = note
    return out


def proc_tree(src: DetailSource) -> list[ProcRow]:
    out: list[ProcRow] = []
    for d in _dicts(src.detail("proc.tree")):
        pid = _int(d.get("pid"))
        if pid is None:
            continue
        out.append(
            ProcRow(
                pid=pid,
                ppid=_int(d.get("ppid")),
                name=_str(d.get("name")),
                cmdline=_strs(d.get("cmdline")),
                cpu=_num(d.get("cpu")),
                rss=_num(d.get("rss")),
                threads=_int(d.get("threads")),
                state=_str(d.get("state")),
                gpu_mem_bytes=_num(d.get("gpu_mem_bytes")),
            )
        )
    return out


def stack_top(src: DetailSource) -> list[StackFunction]:
    return [
        StackFunction(
            function=_str(d.get("function")) or "?",
            file=_str(d.get("file")) or "?",
            line=_int(d.get("line")),
            self_pct=_num(d.get("self_pct")),
            total_pct=_num(d.get("total_pct")),
        )
        for d in _dicts(src.detail("stack.top"))
    ]


def stack_threads(src: DetailSource) -> list[StackThread]:
    out: list[StackThread] = []
    for d in _dicts(src.detail("stack.threads")):
        pid = _int(d.get("pid"))
        if pid is None:
            continue
        out.append(
            StackThread(
                pid=pid,
                tid=_int(d.get("tid")),
                name=_str(d.get("name")) or "?",
                samples=_num(d.get("samples")),
                active=_bool(d.get("active")),
                owns_gil=_bool(d.get("owns_gil")),
                active_pct=_num(d.get("active_pct")),
                gil_pct=_num(d.get("gil_pct")),
                category=_str(d.get("category")),
                leaf=_str(d.get("leaf")),
            )
        )
    return out


def stack_window(src: DetailSource) -> StackWindowDetail | None:
    d = _dict(src.detail("stack.window"))
    seconds = _num(d.get("seconds")) if d is not None else None
    if d is None or seconds is None:
        return None
    return StackWindowDetail(
        seconds=seconds,
        dumps=_int(d.get("dumps")),
        slices=_int(d.get("slices")),
        backend=_str(d.get("backend")),
        rate=_num(d.get("rate")),
        processes=_int(d.get("processes")),
        processes_left_out=_int(d.get("processes_left_out")),
    )
