"""Builds the set of samplers a command runs: host sources, GPUs, an attached process."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perftui.samplers.base import Sampler, UnavailableSampler


@dataclass
class SamplerOptions:
    """What a command samples: the interval, GPUs, an attached process, servers, the process table."""

    interval: float = 1.0
    gpu: bool = True
    pid: int | None = None
    stack_rate: float | None = None  # py-spy samples per second for --pid (None: the default)
    nvml: Any = None  # an injected NVML module (tests); None = the real pynvml
    # energy counter read at most this often (a 2.5-4.7 ms NVML call on an H100); a two-tick
    # snapshot reads it on both ticks (0) so its average power is there
    energy_period_s: float | None = None
    serving: Any = None  # a ServingOptions: scrape inference servers' /metrics (None: none)
    # the whole process table ("proctable" detail): the dashboard's process list and diagnosis's
    # culprits (dashboard, record, diagnose); every 2 s at most, ~2-15 ms a pass
    proctable: bool = False


def build_samplers(options: SamplerOptions) -> list[Sampler]:
    from perftui.samplers.host import host_samplers

    samplers: list[Sampler] = list(host_samplers(options.interval))
    from perftui.samplers.cgroup import cgroup_sampler

    samplers.append(cgroup_sampler(options.interval, options.pid))
    gpu_list: list[Sampler] = []
    if options.gpu:
        from perftui.samplers.nvml import NO_DRIVER_REASON, nvml_library_found

        if options.nvml is None and not nvml_library_found():
            # no NVIDIA driver here: the GPU source says so, and its modules (~10 ms) never load
            samplers.append(UnavailableSampler("gpu", NO_DRIVER_REASON, options.interval))
        else:
            from perftui.samplers.gpu import ENERGY_PERIOD_S, gpu_samplers

            period = ENERGY_PERIOD_S if options.energy_period_s is None else options.energy_period_s
            gpu_list = list(gpu_samplers(options.interval, nvml=options.nvml, energy_period_s=period))
            samplers.extend(gpu_list)
    if options.pid is not None:
        samplers.extend(attach_set(options.pid, options.interval, gpu_list, stack_rate=options.stack_rate))
    if options.proctable:
        from perftui.samplers.proctable_sampler import ProcTableSampler

        samplers.append(ProcTableSampler(options.interval, _gpu_processes_tap(gpu_list)))
    if options.serving is not None:
        from perftui.samplers.serving_source import serving_samplers

        power = _power_tap(gpu_list[0]) if gpu_list else None
        count = _gpu_count_tap(gpu_list[0]) if gpu_list else None
        samplers.extend(serving_samplers(options.interval, options.serving, power, count))
    return samplers


def attach_set(
    pid: int, interval: float, running: Sequence[Sampler], *, stack_rate: float | None = None
) -> list[Sampler]:
    """The samplers that follow one process tree (process, stacks); `running`: the samplers already
    built, whose GPU samplers give the tree's per-process GPU use. The dashboard's `a` (attach live)
    starts these beside the running ones."""
    from perftui.samplers.process import attach_samplers

    gpu_list = [s for s in running if s.name == "gpu"]
    return attach_samplers(pid, interval, _gpu_processes_tap(gpu_list), stack_rate=stack_rate)


def _gpu_processes_tap(
    gpu_list: Sequence[Sampler],
) -> Callable[[], Sequence[Mapping[str, Any]] | None] | None:
    """The GPU sampler's latest per-process list (None without GPU samplers): the process and
    proctable samplers match PIDs against it; samplers never read the store."""
    if not gpu_list:
        return None

    def gpu_processes() -> Sequence[Mapping[str, Any]] | None:
        for g in gpu_list:
            procs = g.details().get("gpu.processes")
            if procs is not None:
                return list(procs)
        return None

    return gpu_processes


def _power_tap(gpu: Sampler) -> Callable[[], float | None]:
    """The GPUs' total board power from the GPU sampler's latest values (samplers never read the store):
    its sample() is wrapped to keep them. Which GPUs a server uses is not known here: all of them."""
    last: dict[str, float | None] = {}
    inner = gpu.sample

    def sample() -> dict[str, float | None]:
        values = inner()
        last.clear()
        last.update(values)
        return values

    setattr(gpu, "sample", sample)  # noqa: B010 - an instance attribute over the method

    def power() -> float | None:
        watts = [v for k, v in last.items() if k.endswith(".power_w") and v is not None]
        return sum(watts) if watts else None

    return power


def _gpu_count_tap(gpu: Sampler) -> Callable[[], int | None]:
    """The GPUs NVML sees, from the GPU sampler's `gpu.count` detail (None before NVML answered or
    without NVML): a local server's cost is for all of them unless --serve-gpus says otherwise. The
    serving source never calls NVML itself."""

    def count() -> int | None:
        n = gpu.details().get("gpu.count")
        return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None

    return count


def pid_error(pid: int | None) -> str | None:
    """The one-line reason a `--pid` cannot be attached (checked before any UI starts)."""
    if pid is None:
        return None
    from perftui.samplers.pids import validate_pid

    return validate_pid(pid)
