"""Builds the set of samplers a command runs: host sources, GPUs, an attached process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftui.samplers.base import Sampler


@dataclass
class SamplerOptions:
    interval: float = 1.0
    gpu: bool = True
    pid: int | None = None
    nvml: Any = None  # an injected NVML module (tests); None = the real pynvml


def build_samplers(options: SamplerOptions) -> list[Sampler]:
    from perftui.samplers.host import host_samplers

    samplers: list[Sampler] = list(host_samplers(options.interval))
    if options.gpu:
        from perftui.samplers.gpu import gpu_samplers

        samplers.extend(gpu_samplers(options.interval, nvml=options.nvml))
    return samplers
