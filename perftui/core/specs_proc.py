"""Specs of an attached process tree (`proc.*`) and its Python stacks (`stack.*`)."""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

STACK_CATEGORIES: tuple[str, ...] = (
    "dataloader",
    "tokenization",
    "cuda_sync",
    "collective",
    "disk_read",
    "socket_wait",
    "gil",
    "idle",
    "compute",
)


def _p(
    name: str, unit: Unit, desc: str, *, rate: bool = False, mx: float | None = None, label: str = ""
) -> MetricSpec:
    return MetricSpec(f"proc.{name}", unit, desc, rate, mx, label or name, "process")


SPECS: list[MetricSpec] = [
    _p("cpu", Unit.PERCENT, "CPU of the process tree (100 % = one core)", rate=True, label="CPU"),
    _p(
        "cpu_max_thread",
        Unit.PERCENT,
        "CPU of the tree's busiest process (100 % = one core)",
        rate=True,
        label="CPU max",
    ),
    _p("rss_bytes", Unit.BYTES, "resident memory of the tree", label="RSS"),
    _p("uss_bytes", Unit.BYTES, "memory unique to the tree", label="USS"),
    _p("threads", Unit.COUNT, "threads in the tree", label="threads"),
    _p("procs", Unit.COUNT, "processes in the tree", label="procs"),
    _p("read_bytes_per_s", Unit.BYTES_PER_S, "storage bytes read by the tree", rate=True, label="read"),
    _p("write_bytes_per_s", Unit.BYTES_PER_S, "storage bytes written by the tree", rate=True, label="write"),
    _p("ctx_voluntary_per_s", Unit.PER_S, "voluntary context switches (waits)", rate=True, label="vol cs"),
    _p(
        "ctx_involuntary_per_s",
        Unit.PER_S,
        "involuntary context switches (preemptions)",
        rate=True,
        label="invol cs",
    ),
    _p("runq_wait", Unit.RATIO, "run-queue wait seconds per second (schedstat)", rate=True, label="runq"),
    _p("open_files", Unit.COUNT, "open files", label="files"),
    _p("sockets", Unit.COUNT, "open sockets", label="sockets"),
    _p("gpu_mem_bytes", Unit.BYTES, "GPU memory held by the tree, all GPUs", label="GPU mem"),
    _p(
        "gpu_sm_util",
        Unit.PERCENT,
        "SM utilisation of the tree's GPU work (NVML per-process)",
        mx=100,
        label="GPU SM",
    ),
    _p("gpu.*.mem_bytes", Unit.BYTES, "GPU memory held by the tree on one GPU", label="GPU mem"),
    _p(
        "gpu.*.sm_util",
        Unit.PERCENT,
        "SM utilisation of the tree's work on one GPU (NVML per-process)",
        mx=100,
        label="GPU SM",
    ),
    *[
        MetricSpec(
            f"stack.share.{cat}",
            Unit.PERCENT,
            f"share of stack samples in {cat.replace('_', ' ')}",
            False,
            100,
            cat.replace("_", " "),
            "stacks",
        )
        for cat in STACK_CATEGORIES
    ],
    MetricSpec(
        "stack.samples", Unit.COUNT, "thread stack samples in the window", False, None, "samples", "stacks"
    ),
]
